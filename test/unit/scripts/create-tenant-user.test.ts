import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
  NotAuthorizedException,
  TooManyRequestsException,
  UsernameExistsException,
} from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  AuthChallengeError,
  TenantMismatchError,
  createTenantUser,
  type CreateTenantUserEvent,
} from '../../../scripts/cognito/create-tenant-user';
import { passwordPolicyViolations } from '../../../scripts/cognito/password';

const cognito = mockClient(CognitoIdentityProviderClient);
const client = new CognitoIdentityProviderClient({ region: 'eu-west-1' });

const INPUT = {
  userPoolId: 'eu-west-1_AbC123xyz',
  clientId: 'client123',
  email: 'ada@example.com',
  tenantId: 'acme',
};

const usernameExists = () => new UsernameExistsException({ message: 'User account already exists', $metadata: {} });

function existingUser(tenantId: string | undefined) {
  return {
    Username: 'b1f2-uuid',
    UserAttributes: [
      { Name: 'sub', Value: 'b1f2-uuid' },
      { Name: 'email', Value: INPUT.email },
      ...(tenantId === undefined ? [] : [{ Name: 'custom:tenant_id', Value: tenantId }]),
    ],
  };
}

beforeEach(() => {
  cognito.reset();
  cognito.on(AdminCreateUserCommand).resolves({ User: { Username: 'b1f2-uuid' } });
  cognito.on(AdminSetUserPasswordCommand).resolves({});
  cognito.on(InitiateAuthCommand).resolves({
    AuthenticationResult: { IdToken: 'id.token.jwt', AccessToken: 'access', RefreshToken: 'refresh' },
  });
});

describe('createTenantUser', () => {
  it('creates a new user in the tenant, sets the given password and returns the ID token', async () => {
    const result = await createTenantUser(client, { ...INPUT, password: 'Given-Pass-123', name: 'Ada Lovelace' });

    expect(result).toEqual({ idToken: 'id.token.jwt', created: true });
    expect(cognito).toHaveReceivedCommandTimes(AdminCreateUserCommand, 1);
    expect(cognito).toHaveReceivedCommandWith(AdminCreateUserCommand, {
      UserPoolId: INPUT.userPoolId,
      Username: INPUT.email,
      MessageAction: 'SUPPRESS',
      UserAttributes: [
        { Name: 'email', Value: INPUT.email },
        { Name: 'email_verified', Value: 'true' },
        { Name: 'custom:tenant_id', Value: 'acme' },
        { Name: 'name', Value: 'Ada Lovelace' },
      ],
    });
    expect(cognito).not.toHaveReceivedCommand(AdminGetUserCommand);
    expect(cognito).toHaveReceivedCommandWith(AdminSetUserPasswordCommand, {
      UserPoolId: INPUT.userPoolId,
      Username: INPUT.email,
      Password: 'Given-Pass-123',
      Permanent: true,
    });
    expect(cognito).toHaveReceivedCommandWith(InitiateAuthCommand, {
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: 'client123',
      AuthParameters: { USERNAME: INPUT.email, PASSWORD: 'Given-Pass-123' },
    });
  });

  it('calls Cognito in order: create, set password, sign in', async () => {
    await createTenantUser(client, { ...INPUT, password: 'Given-Pass-123' });
    expect(cognito.calls().map((call) => call.args[0].constructor.name)).toEqual([
      'AdminCreateUserCommand',
      'AdminSetUserPasswordCommand',
      'InitiateAuthCommand',
    ]);
  });

  it('omits the name attribute when no name is given', async () => {
    await createTenantUser(client, { ...INPUT, password: 'Given-Pass-123' });
    const attributes = cognito.commandCalls(AdminCreateUserCommand)[0].args[0].input.UserAttributes ?? [];
    expect(attributes.map((a) => a.Name)).toEqual(['email', 'email_verified', 'custom:tenant_id']);
  });

  it('generates a policy-compliant password when none is given, uses it everywhere and returns it', async () => {
    const events: CreateTenantUserEvent[] = [];
    const result = await createTenantUser(client, INPUT, { onEvent: (event) => events.push(event) });

    const generated = result.generatedPassword;
    expect(typeof generated).toBe('string');
    expect(passwordPolicyViolations(generated as string)).toEqual([]);
    expect(cognito).toHaveReceivedCommandWith(AdminSetUserPasswordCommand, { Password: generated, Permanent: true });
    expect(cognito).toHaveReceivedCommandWith(InitiateAuthCommand, {
      AuthParameters: { USERNAME: INPUT.email, PASSWORD: generated as string },
    });
    expect(events).toEqual([
      { type: 'user-created' },
      { type: 'password-set', generatedPassword: generated },
      { type: 'signed-in' },
    ]);
  });

  it('reports a generated password as soon as it is set, even when sign-in then fails', async () => {
    cognito.on(InitiateAuthCommand).rejects(new NotAuthorizedException({ message: 'User is disabled.', $metadata: {} }));
    const events: CreateTenantUserEvent[] = [];

    await expect(createTenantUser(client, INPUT, { onEvent: (event) => events.push(event) })).rejects.toThrow(
      'User is disabled.',
    );
    const passwordSet = events.find((event) => event.type === 'password-set');
    expect(passwordSet).toEqual({ type: 'password-set', generatedPassword: expect.any(String) });
    expect(cognito).toHaveReceivedCommandWith(AdminSetUserPasswordCommand, {
      Password: (passwordSet as { generatedPassword: string }).generatedPassword,
    });
  });

  it('reuses an existing user of the same tenant', async () => {
    cognito.on(AdminCreateUserCommand).rejects(usernameExists());
    cognito.on(AdminGetUserCommand).resolves(existingUser('acme'));
    const events: CreateTenantUserEvent[] = [];

    const result = await createTenantUser(
      client,
      { ...INPUT, password: 'Given-Pass-123' },
      { onEvent: (event) => events.push(event) },
    );

    expect(result).toEqual({ idToken: 'id.token.jwt', created: false });
    expect(cognito).toHaveReceivedCommandWith(AdminGetUserCommand, { UserPoolId: INPUT.userPoolId, Username: INPUT.email });
    expect(cognito).toHaveReceivedCommandWith(AdminSetUserPasswordCommand, { Password: 'Given-Pass-123', Permanent: true });
    expect(cognito).toHaveReceivedCommand(InitiateAuthCommand);
    expect(events[0]).toEqual({ type: 'user-exists' });
  });

  it('refuses an existing user of another tenant and changes nothing', async () => {
    cognito.on(AdminCreateUserCommand).rejects(usernameExists());
    cognito.on(AdminGetUserCommand).resolves(existingUser('globex'));

    const attempt = createTenantUser(client, { ...INPUT, password: 'Given-Pass-123' });

    await expect(attempt).rejects.toBeInstanceOf(TenantMismatchError);
    await expect(attempt).rejects.toMatchObject({
      name: 'TenantMismatchError',
      existingTenantId: 'globex',
      requestedTenantId: 'acme',
      message: expect.stringContaining('already exists in tenant globex; refusing to use it for tenant acme'),
    });
    expect(cognito).not.toHaveReceivedCommand(AdminSetUserPasswordCommand);
    expect(cognito).not.toHaveReceivedCommand(InitiateAuthCommand);
    expect(cognito.calls()).toHaveLength(2);
  });

  it('refuses an existing user without any tenant', async () => {
    cognito.on(AdminCreateUserCommand).rejects(usernameExists());
    cognito.on(AdminGetUserCommand).resolves(existingUser(undefined));

    await expect(createTenantUser(client, INPUT)).rejects.toThrow(
      'User ada@example.com already exists without a custom:tenant_id attribute; refusing to assign it to tenant acme',
    );
    expect(cognito).not.toHaveReceivedCommand(AdminSetUserPasswordCommand);
  });

  it('fails clearly when sign-in returns a challenge instead of tokens', async () => {
    cognito.on(InitiateAuthCommand).resolves({ ChallengeName: 'SOFTWARE_TOKEN_MFA', Session: 'session' });

    const attempt = createTenantUser(client, { ...INPUT, password: 'Given-Pass-123' });

    await expect(attempt).rejects.toBeInstanceOf(AuthChallengeError);
    await expect(attempt).rejects.toThrow(/returned the SOFTWARE_TOKEN_MFA challenge instead of tokens/);
  });

  it('fails clearly when sign-in returns no ID token', async () => {
    cognito.on(InitiateAuthCommand).resolves({ AuthenticationResult: { AccessToken: 'access' } });

    await expect(createTenantUser(client, { ...INPUT, password: 'Given-Pass-123' })).rejects.toMatchObject({
      name: 'MissingTokenError',
      message: 'Sign-in returned no ID token',
    });
  });

  it('surfaces AWS errors from user creation unchanged, without going further', async () => {
    cognito
      .on(AdminCreateUserCommand)
      .rejects(new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} }));

    await expect(createTenantUser(client, INPUT)).rejects.toMatchObject({
      name: 'TooManyRequestsException',
      message: 'Rate exceeded',
    });
    expect(cognito).not.toHaveReceivedCommand(AdminGetUserCommand);
    expect(cognito).not.toHaveReceivedCommand(AdminSetUserPasswordCommand);
  });

  it('surfaces AWS errors from sign-in unchanged', async () => {
    cognito.on(InitiateAuthCommand).rejects(
      new NotAuthorizedException({
        message: 'Client client123 is configured with secret but SECRET_HASH was not received',
        $metadata: {},
      }),
    );

    await expect(createTenantUser(client, { ...INPUT, password: 'Given-Pass-123' })).rejects.toMatchObject({
      name: 'NotAuthorizedException',
      message: expect.stringContaining('SECRET_HASH'),
    });
  });

  it('recognises UsernameExistsException by name as well (plain error object)', async () => {
    cognito.on(AdminCreateUserCommand).rejects(Object.assign(new Error('exists'), { name: 'UsernameExistsException' }));
    cognito.on(AdminGetUserCommand).resolves(existingUser('acme'));

    await expect(createTenantUser(client, { ...INPUT, password: 'Given-Pass-123' })).resolves.toMatchObject({
      created: false,
    });
  });
});
