/**
 * Tenant onboarding: the first Cognito user of a newly active tenant, created from the
 * `New AWS Marketplace Subscriber` event — idempotent for the same tenant, refused across tenants —
 * through the handler with a mocked Cognito client, and the event parser on its own.
 */
import type * as CognitoModule from '@aws-sdk/client-cognito-identity-provider';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { parseOnboardingEvent } from '../../../core/marketplace/onboarding-event';
import { CrossTenantUserError, onboardFirstUser, type TenantUserDirectory } from '../../../core/marketplace/onboarding-user';
import { DETAIL_TYPES } from '../../../core/marketplace/subscription-effects';
import { captureOutcome } from '../../support/capture-output';

process.env.AWS_REGION ??= 'us-east-1';
const ENV = { USER_POOL_ID: 'us-east-1_AbC123xyz', AWS_REGION: 'us-east-1', POWERTOOLS_DEV: '', POWERTOOLS_LOG_LEVEL: 'INFO' };
const SOURCE = 'saas-metering.marketplace';
const TENANT = 'mp-0123456789abcdef01234567';
const EMAIL = 'jane.doe@example.com';
const NAME = 'Jane Doe';

type Handler = typeof import('../../../functions/tenant-onboarding').handler;

function loadHandler(env: Record<string, string | undefined>, mock?: (cognito: AwsStub<any, any, any>, sdk: typeof CognitoModule) => void) {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    let loaded: { handler: Handler; cognito: AwsStub<any, any, any>; sdk: typeof CognitoModule } | undefined;
    jest.isolateModules(() => {
      const sdk = jest.requireActual('@aws-sdk/client-cognito-identity-provider') as typeof CognitoModule;
      const cognito = mockClient(sdk.CognitoIdentityProviderClient);
      mock?.(cognito, sdk);
      const handler = (jest.requireActual('../../../functions/tenant-onboarding') as { handler: Handler }).handler;
      loaded = { handler, cognito, sdk };
    });
    return loaded!;
  } finally {
    process.env = saved;
  }
}


function subscriberEvent(detail: Record<string, unknown> = {}, envelope: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '0',
    id: 'onb-evt-1',
    'detail-type': DETAIL_TYPES.newSubscriber,
    source: SOURCE,
    account: '444455556666',
    time: '2025-06-01T12:00:10Z',
    region: 'us-east-1',
    resources: [],
    detail: {
      tenantId: TENANT, state: 'active', previousState: 'pending_registration', productCode: 'a1b2c3d4e5f6g7h8i9j0k1l2m', customerIdentifier: 'QxU3mZk8pWd',
      companyName: 'Example Ltd', contactPerson: NAME, contactEmail: EMAIL, contactPhone: '+44 20 7946 0000', isFreeTrialTermPresent: false, eventId: 'sns:sns-1',
      ...detail,
    },
    ...envelope,
  };
}

function existingUser(sdk: typeof CognitoModule, cognito: AwsStub<any, any, any>, tenantId: string | undefined) {
  cognito.on(sdk.AdminCreateUserCommand).rejects(new sdk.UsernameExistsException({ message: 'An account with the given email already exists.', $metadata: {} }));
  cognito.on(sdk.AdminGetUserCommand).resolves({
    Username: '7f1c-uuid',
    UserStatus: 'CONFIRMED',
    UserAttributes: [{ Name: 'sub', Value: '7f1c-uuid' }, { Name: 'email', Value: EMAIL }, ...(tenantId === undefined ? [] : [{ Name: 'custom:tenant_id', Value: tenantId }])],
  });
}

describe('tenant-onboarding handler', () => {
  it('refuses to start without USER_POOL_ID', () => {
    expect(() => loadHandler({ ...ENV, USER_POOL_ID: '' })).toThrow('missing environment variables: USER_POOL_ID');
  });

  it('creates the first user with the tenant, a verified e-mail and the name, and lets Cognito e-mail the invitation', async () => {
    const { handler, cognito, sdk } = loadHandler(ENV, (c, s) => c.on(s.AdminCreateUserCommand).resolves({ User: { Username: '7f1c-uuid' } }));
    const { value, output } = await captureOutcome(() => handler(subscriberEvent()));
    expect(value).toEqual({ tenantId: TENANT, outcome: 'created' });
    const calls = cognito.commandCalls(sdk.AdminCreateUserCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0].args[0].input;
    expect(input).toEqual({
      UserPoolId: ENV.USER_POOL_ID,
      Username: EMAIL,
      UserAttributes: [
        { Name: 'email', Value: EMAIL },
        { Name: 'email_verified', Value: 'true' },
        { Name: 'name', Value: NAME },
        { Name: 'custom:tenant_id', Value: TENANT },
      ],
      DesiredDeliveryMediums: ['EMAIL'],
      ForceAliasCreation: false,
    });
    expect(input).not.toHaveProperty('MessageAction');
    expect(input).not.toHaveProperty('TemporaryPassword');
    expect(output).toContain('"outcome":"created"');
    expect(output).not.toContain(EMAIL);
    expect(output).not.toContain(NAME);
  });

  it('is idempotent: an existing user of the same tenant is success, and nothing is changed or re-sent', async () => {
    const { handler, cognito, sdk } = loadHandler(ENV, (c, s) => existingUser(s, c, TENANT));
    const { value } = await captureOutcome(() => handler(subscriberEvent()));
    expect(value).toEqual({ tenantId: TENANT, outcome: 'already_exists' });
    expect(cognito.commandCalls(sdk.AdminCreateUserCommand)).toHaveLength(1);
    expect(cognito.commandCalls(sdk.AdminGetUserCommand)[0].args[0].input).toEqual({ UserPoolId: ENV.USER_POOL_ID, Username: EMAIL });
    expect(cognito.calls()).toHaveLength(2);
  });

  it.each([
    ['another tenant', 'mp-ffffffffffffffffffffffff'],
    ['no tenant', undefined],
  ])('refuses a user of %s: never moved, the invocation fails', async (_label, otherTenant) => {
    const { handler, cognito } = loadHandler(ENV, (c, s) => existingUser(s, c, otherTenant));
    const { error, output } = await captureOutcome(() => handler(subscriberEvent()));
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'CrossTenantUserError', requestedTenantId: TENANT, existingTenantId: otherTenant });
    expect(cognito.calls()).toHaveLength(2); // AdminCreateUser (refused) and AdminGetUser: no update of any kind
    expect(output).toContain('"outcome":"cross_tenant_user"');
    expect(output).not.toContain(EMAIL);
  });

  it.each([
    ['another detail-type', subscriberEvent({}, { 'detail-type': DETAIL_TYPES.endOfSubscription })],
    ['another source', subscriberEvent({}, { source: 'aws-marketplace-serverless-quickstart' })],
    ['no contact e-mail', subscriberEvent({ contactEmail: undefined })],
    ['a malformed e-mail', subscriberEvent({ contactEmail: 'jane at example' })],
    ['a malformed tenant id', subscriberEvent({ tenantId: 'mp 1' })],
    ['nothing usable', 'hello'],
  ])('throws on %s without calling Cognito', async (_label, event) => {
    const { handler, cognito } = loadHandler(ENV);
    const { error, output } = await captureOutcome(() => handler(event));
    expect(error).toMatchObject({ name: 'InvalidOnboardingEvent' });
    expect(cognito.calls()).toHaveLength(0);
    expect(output).toContain('"outcome":"invalid_event"');
    expect(output).not.toContain('jane at example');
  });

  it('fails the invocation on a Cognito error', async () => {
    const { handler } = loadHandler(ENV, (c, s) => c.on(s.AdminCreateUserCommand).rejects(new s.TooManyRequestsException({ message: 'Too many requests', $metadata: {} })));
    const { error, output } = await captureOutcome(() => handler(subscriberEvent()));
    expect(error).toMatchObject({ name: 'TooManyRequestsException' });
    expect(output).toContain('"errorName":"TooManyRequestsException"');
  });
});

describe('onboarding core', () => {
  it('reads the first user from the event (trimmed) and keeps the ids for correlation', () => {
    expect(parseOnboardingEvent(subscriberEvent({ contactEmail: `  ${EMAIL} `, contactPerson: ` ${NAME}` }), SOURCE)).toEqual({
      ok: true,
      user: { tenantId: TENANT, email: EMAIL, name: NAME },
      eventId: 'onb-evt-1',
      notificationKey: 'sns:sns-1',
    });
    // The registration page publishes without a notification key.
    expect(parseOnboardingEvent(subscriberEvent({ eventId: undefined }), SOURCE)).toMatchObject({ ok: true });
  });

  it('names the fields in its reasons, never the values', () => {
    const parsed = parseOnboardingEvent(subscriberEvent({ contactEmail: 'jane at example', contactPerson: '' }), SOURCE);
    expect(parsed).toMatchObject({ ok: false, eventId: 'onb-evt-1' });
    if (parsed.ok) throw new Error('expected a refusal');
    expect(parsed.reason).toMatch(/contactEmail/);
    expect(parsed.reason).toMatch(/contactPerson/);
    expect(parsed.reason).not.toContain('jane at example');
  });

  it('onboardFirstUser: created, already there, or refused across tenants', async () => {
    const user = { tenantId: TENANT, email: EMAIL, name: NAME };
    const directory = (result: Awaited<ReturnType<TenantUserDirectory['createInvitedUser']>>): TenantUserDirectory => ({ createInvitedUser: async () => result });
    await expect(onboardFirstUser(directory({ status: 'created' }), user)).resolves.toBe('created');
    await expect(onboardFirstUser(directory({ status: 'exists', tenantId: TENANT }), user)).resolves.toBe('already_exists');
    const refused = await onboardFirstUser(directory({ status: 'exists', tenantId: 'mp-other' }), user).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CrossTenantUserError);
    expect((refused as Error).message).not.toContain(EMAIL);
  });
});
