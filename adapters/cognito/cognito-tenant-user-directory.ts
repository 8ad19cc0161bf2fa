import { AdminCreateUserCommand, AdminGetUserCommand, type CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { TENANT_CLAIM } from '../../core/access-log/fields';
import type { FirstTenantUser } from '../../core/marketplace/onboarding-event';
import type { CreateUserResult, TenantUserDirectory } from '../../core/marketplace/onboarding-user';

/**
 * {@link TenantUserDirectory} over a Cognito user pool whose users sign in with their e-mail
 * (`modules/metered-api/tenant-user-pool.ts`).
 *
 * AdminCreateUser with the e-mail as user name and the attributes `email`, `email_verified` = true,
 * `name` and `custom:tenant_id` (immutable: set only here, at creation). `MessageAction` is omitted, so
 * Cognito sends its invitation message with a temporary password (valid for the pool's
 * `temporaryPasswordValidityDays`; the user must set a new password at first sign-in), and
 * `DesiredDeliveryMediums` is `EMAIL` (the API's default is SMS). `ForceAliasCreation` is false: an
 * e-mail in use is never taken from its user. An expired invitation is sent again by an operator with
 * AdminCreateUser `MessageAction: RESEND`; this adapter never re-sends.
 *
 * A user that exists (UsernameExistsException, or AliasExistsException in a pool with e-mail aliases)
 * is read with AdminGetUser and reported with its tenant attribute; nothing is changed.
 * IAM: cognito-idp:AdminCreateUser, cognito-idp:AdminGetUser on the pool.
 */
export class CognitoTenantUserDirectory implements TenantUserDirectory {
  constructor(private readonly client: CognitoIdentityProviderClient, private readonly userPoolId: string) {}

  async createInvitedUser(user: FirstTenantUser): Promise<CreateUserResult> {
    try {
      await this.client.send(new AdminCreateUserCommand({
        UserPoolId: this.userPoolId,
        Username: user.email,
        UserAttributes: [
          { Name: 'email', Value: user.email },
          { Name: 'email_verified', Value: 'true' },
          { Name: 'name', Value: user.name },
          { Name: TENANT_CLAIM, Value: user.tenantId },
        ],
        DesiredDeliveryMediums: ['EMAIL'],
        ForceAliasCreation: false,
      }));
      return { status: 'created' };
    } catch (error) {
      if (!isNamed(error, 'UsernameExistsException') && !isNamed(error, 'AliasExistsException')) throw error;
    }
    const existing = await this.client.send(new AdminGetUserCommand({ UserPoolId: this.userPoolId, Username: user.email }));
    return { status: 'exists', tenantId: existing.UserAttributes?.find((attribute) => attribute.Name === TENANT_CLAIM)?.Value };
  }
}

function isNamed(error: unknown, name: string): boolean {
  return (error as { name?: unknown } | null)?.name === name;
}
