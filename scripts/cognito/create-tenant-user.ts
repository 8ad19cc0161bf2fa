import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminSetUserPasswordCommand,
  InitiateAuthCommand,
  type AttributeType,
  type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { TENANT_CLAIM } from '../../core/access-log/fields';
import { generatePassword } from './password';

/** Custom attribute holding the user's tenant (immutable; only the backend may write it). */
export const TENANT_ATTRIBUTE = TENANT_CLAIM;

/** What {@link createTenantUser} needs; values are expected to be validated already. */
export interface CreateTenantUserInput {
  userPoolId: string;
  /** App client without a secret that allows USER_PASSWORD_AUTH. */
  clientId: string;
  /** Sign-in email, used as the username. */
  email: string;
  tenantId: string;
  /** Absent: a strong password is generated. */
  password?: string;
  /** Display name (`name` attribute), only set on a new user. */
  name?: string;
}

/** Outcome of {@link createTenantUser}. */
export interface CreateTenantUserResult {
  idToken: string;
  /** False when the user already existed in the same tenant. */
  created: boolean;
  /** Set when no password was given. */
  generatedPassword?: string;
}

/** Progress reported by {@link createTenantUser}, in order. */
export type CreateTenantUserEvent =
  | { type: 'user-created' }
  | { type: 'user-exists' }
  /** The password is now in force: report a generated one here, sign-in may still fail. */
  | { type: 'password-set'; generatedPassword?: string }
  | { type: 'signed-in' };

/** Optional hooks of {@link createTenantUser}. */
export interface CreateTenantUserHooks {
  onEvent?: (event: CreateTenantUserEvent) => void;
}

/** The email is already a user of another tenant (or of none); nothing was changed. */
export class TenantMismatchError extends Error {
  override readonly name = 'TenantMismatchError';

  constructor(
    readonly email: string,
    readonly requestedTenantId: string,
    readonly existingTenantId: string | undefined,
  ) {
    super(
      existingTenantId === undefined
        ? `User ${email} already exists without a ${TENANT_ATTRIBUTE} attribute; refusing to assign it to tenant ${requestedTenantId}`
        : `User ${email} already exists in tenant ${existingTenantId}; refusing to use it for tenant ${requestedTenantId} (users never move between tenants)`,
    );
  }
}

/** Cognito asked for a challenge (MFA, new password, …) instead of returning tokens. */
export class AuthChallengeError extends Error {
  override readonly name = 'AuthChallengeError';

  constructor(readonly challengeName: string) {
    super(
      `Sign-in returned the ${challengeName} challenge instead of tokens; this command only handles plain ` +
        'USER_PASSWORD_AUTH (check the pool MFA settings and the user status)',
    );
  }
}

/** Sign-in succeeded without an ID token (unexpected from Cognito). */
export class MissingTokenError extends Error {
  override readonly name = 'MissingTokenError';

  constructor() {
    super('Sign-in returned no ID token');
  }
}

/**
 * Creates a Cognito user bound to a tenant (or reuses it when it already belongs to that
 * tenant), sets its password permanently and signs in with USER_PASSWORD_AUTH.
 *
 * An existing user of another tenant, or of no tenant, is refused with a
 * {@link TenantMismatchError} before anything is changed. AWS errors are rethrown unchanged.
 *
 * @param client Cognito client of the pool's region (calls AdminCreateUser, AdminGetUser,
 *   AdminSetUserPassword and InitiateAuth)
 * @throws TenantMismatchError, AuthChallengeError, MissingTokenError, or the SDK's error
 */
export async function createTenantUser(
  client: CognitoIdentityProviderClient,
  input: CreateTenantUserInput,
  hooks: CreateTenantUserHooks = {},
): Promise<CreateTenantUserResult> {
  const emit = hooks.onEvent ?? (() => undefined);
  const { userPoolId, email } = input;

  const created = await createOrReuseUser(client, input);
  emit({ type: created ? 'user-created' : 'user-exists' });

  const generated = input.password === undefined;
  const password = input.password ?? generatePassword();
  await client.send(
    new AdminSetUserPasswordCommand({ UserPoolId: userPoolId, Username: email, Password: password, Permanent: true }),
  );
  emit(generated ? { type: 'password-set', generatedPassword: password } : { type: 'password-set' });

  const idToken = await signIn(client, input.clientId, email, password);
  emit({ type: 'signed-in' });

  return generated ? { idToken, created, generatedPassword: password } : { idToken, created };
}

/** Creates the user; returns false when it already exists in the requested tenant. */
async function createOrReuseUser(client: CognitoIdentityProviderClient, input: CreateTenantUserInput): Promise<boolean> {
  const attributes: AttributeType[] = [
    { Name: 'email', Value: input.email },
    { Name: 'email_verified', Value: 'true' },
    { Name: TENANT_ATTRIBUTE, Value: input.tenantId },
  ];
  if (input.name !== undefined) attributes.push({ Name: 'name', Value: input.name });
  try {
    await client.send(
      new AdminCreateUserCommand({
        UserPoolId: input.userPoolId,
        Username: input.email,
        UserAttributes: attributes,
        MessageAction: 'SUPPRESS',
      }),
    );
    return true;
  } catch (error) {
    if (!hasName(error, 'UsernameExistsException')) throw error;
  }
  const existing = await client.send(new AdminGetUserCommand({ UserPoolId: input.userPoolId, Username: input.email }));
  const existingTenantId = existing.UserAttributes?.find((a) => a.Name === TENANT_ATTRIBUTE)?.Value;
  if (existingTenantId !== input.tenantId) {
    throw new TenantMismatchError(input.email, input.tenantId, existingTenantId);
  }
  return false;
}

async function signIn(
  client: CognitoIdentityProviderClient,
  clientId: string,
  email: string,
  password: string,
): Promise<string> {
  const response = await client.send(
    new InitiateAuthCommand({
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: clientId,
      AuthParameters: { USERNAME: email, PASSWORD: password },
    }),
  );
  if (response.ChallengeName) throw new AuthChallengeError(response.ChallengeName);
  const idToken = response.AuthenticationResult?.IdToken;
  if (!idToken) throw new MissingTokenError();
  return idToken;
}

function hasName(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}
