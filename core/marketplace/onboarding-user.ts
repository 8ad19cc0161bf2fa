/**
 * Creates the first user of a newly active tenant, idempotently, in a user directory (the Cognito user
 * pool; adapter: `adapters/cognito/cognito-tenant-user-directory.ts`).
 *
 * - No such user: created with the tenant in its immutable tenant attribute, and invited by e-mail
 *   (the directory sends the sign-in e-mail with a temporary password).
 * - A user with that e-mail already in the same tenant: nothing to do (a redelivered or repeated
 *   onboarding event, or the user was created by hand). No second invitation is sent.
 * - A user with that e-mail in another tenant, or in none: {@link CrossTenantUserError}. Users never
 *   move between tenants (the attribute is immutable) and are never shared; an operator decides.
 */
import type { FirstTenantUser } from './onboarding-event';

/** What creating a user found. */
export type CreateUserResult =
  | { readonly status: 'created' }
  /** A user with this e-mail exists; `tenantId` is its tenant attribute (undefined: it has none). */
  | { readonly status: 'exists'; readonly tenantId: string | undefined };

/** The user directory (Cognito user pool). */
export interface TenantUserDirectory {
  /**
   * Creates the user with its tenant, e-mail (verified) and name, and invites them by e-mail; when a user
   * with this e-mail exists, changes nothing and reports its tenant.
   */
  createInvitedUser(user: FirstTenantUser): Promise<CreateUserResult>;
}

/** The e-mail already belongs to a user of another tenant (or of none); nothing was changed. */
export class CrossTenantUserError extends Error {
  constructor(readonly requestedTenantId: string, readonly existingTenantId: string | undefined) {
    // No e-mail in the message: it ends up in logs.
    super(
      existingTenantId === undefined
        ? `the contact e-mail of tenant ${requestedTenantId} is already a user without a tenant; refusing to assign it`
        : `the contact e-mail of tenant ${requestedTenantId} is already a user of tenant ${existingTenantId}; users never move between tenants`,
    );
    this.name = 'CrossTenantUserError';
  }
}

/** The outcome of {@link onboardFirstUser}. */
export type OnboardingOutcome = 'created' | 'already_exists';

/**
 * Creates the tenant's first user, or confirms it exists in that tenant.
 *
 * @throws CrossTenantUserError when the e-mail belongs to a user of another tenant or of none; the
 *   directory's errors unchanged
 */
export async function onboardFirstUser(directory: TenantUserDirectory, user: FirstTenantUser): Promise<OnboardingOutcome> {
  const result = await directory.createInvitedUser(user);
  if (result.status === 'created') return 'created';
  if (result.tenantId === user.tenantId) return 'already_exists';
  throw new CrossTenantUserError(user.tenantId, result.tenantId);
}
