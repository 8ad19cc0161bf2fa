import type { FirstTenantUser } from '../../core/marketplace/onboarding-event';
import type { CreateUserResult, TenantUserDirectory } from '../../core/marketplace/onboarding-user';

/** A user of the local run's directory: the stand-in for the Cognito user pool. */
export interface LocalUser extends FirstTenantUser {
  /** Cognito's `sub`. */
  readonly sub: string;
}

/**
 * The tenant user directory of the local run (the Cognito user pool's part in onboarding): users by
 * e-mail, each with its immutable tenant. Same contract as `CognitoTenantUserDirectory`; the local
 * token issuer signs ID tokens for these users.
 */
export class LocalUserDirectory implements TenantUserDirectory {
  private readonly users = new Map<string, LocalUser>();
  private sequence = 0;

  async createInvitedUser(user: FirstTenantUser): Promise<CreateUserResult> {
    const existing = this.users.get(user.email.toLowerCase());
    if (existing !== undefined) return { status: 'exists', tenantId: existing.tenantId };
    this.sequence += 1;
    this.users.set(user.email.toLowerCase(), { ...user, sub: `00000000-0000-4000-8000-${String(this.sequence).padStart(12, '0')}` });
    return { status: 'created' };
  }

  /** The users of a tenant. */
  usersOf(tenantId: string): LocalUser[] {
    return [...this.users.values()].filter((u) => u.tenantId === tenantId);
  }
}
