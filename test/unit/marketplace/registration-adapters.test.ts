/**
 * The AWS adapters of the registration page (ResolveCustomer → identity, EventBridge PutEvents) and
 * the API Gateway event mapping of the handler.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ExpiredTokenException, InvalidTokenException, MarketplaceMeteringClient, ResolveCustomerCommand, ThrottlingException } from '@aws-sdk/client-marketplace-metering';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { CONTROL_PLANE_EVENT_SOURCE, EventBridgeEventPublisher, EventPublishError } from '../../../adapters/eventbridge/eventbridge-event-publisher';
import { AwsCustomerResolver, identityFromResolveCustomer, UnusableResolveCustomerResult } from '../../../adapters/marketplace/resolve-customer';
import type { RegistrationFlow, RegistrationRequest } from '../../../core/marketplace/registration-flow';
import type { ControlPlaneEvent } from '../../../core/marketplace/control-plane-events';
import { RegistrationTokenError } from '../../../core/marketplace/registration-ports';
import { DETAIL_TYPES } from '../../../core/marketplace/subscription-effects';
import { createRegistrationHandler, headerOf } from '../../../functions/marketplace-registration/registration-handler';

const ACCOUNT = '111122223333';
const LICENSE_ARN = 'arn:aws:license-manager::294406891311:license:l-0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d';

describe('identityFromResolveCustomer', () => {
  it('maps account + licence to the current identity, keeping the legacy identifier when present', () => {
    expect(identityFromResolveCustomer({ CustomerAWSAccountId: ACCOUNT, LicenseArn: LICENSE_ARN, ProductCode: 'p', CustomerIdentifier: 'c-1' }))
      .toEqual({ kind: 'license', customerAWSAccountId: ACCOUNT, licenseArn: LICENSE_ARN, productCode: 'p', customerIdentifier: 'c-1' });
    expect(identityFromResolveCustomer({ CustomerAWSAccountId: ACCOUNT, LicenseArn: LICENSE_ARN, ProductCode: 'p' }))
      .toEqual({ kind: 'license', customerAWSAccountId: ACCOUNT, licenseArn: LICENSE_ARN, productCode: 'p' });
  });

  it('puts arn: in front of a licence ARN that lacks it', () => {
    expect(identityFromResolveCustomer({ CustomerAWSAccountId: ACCOUNT, LicenseArn: LICENSE_ARN.slice(4), ProductCode: 'p' })).toMatchObject({ licenseArn: LICENSE_ARN });
  });

  it('falls back to the legacy identity without a licence', () => {
    expect(identityFromResolveCustomer({ CustomerAWSAccountId: ACCOUNT, CustomerIdentifier: 'c-1', ProductCode: 'p' }))
      .toEqual({ kind: 'customer-identifier', customerIdentifier: 'c-1', productCode: 'p' });
    expect(identityFromResolveCustomer({ LicenseArn: LICENSE_ARN, CustomerIdentifier: 'c-1', ProductCode: 'p' }))
      .toEqual({ kind: 'customer-identifier', customerIdentifier: 'c-1', productCode: 'p' });
  });

  it('refuses an answer that identifies nobody, or no product', () => {
    expect(() => identityFromResolveCustomer({ CustomerAWSAccountId: ACCOUNT, ProductCode: 'p' })).toThrow(UnusableResolveCustomerResult);
    expect(() => identityFromResolveCustomer({ CustomerIdentifier: '', ProductCode: 'p' })).toThrow(UnusableResolveCustomerResult);
    expect(() => identityFromResolveCustomer({ CustomerIdentifier: 'c-1' })).toThrow(/ProductCode/);
  });
});

describe('AwsCustomerResolver', () => {
  const metering = mockClient(MarketplaceMeteringClient);
  const resolver = new AwsCustomerResolver(new MarketplaceMeteringClient({ region: 'us-east-1' }));
  beforeEach(() => metering.reset());

  it('sends the token and maps the answer', async () => {
    metering.on(ResolveCustomerCommand).resolves({ CustomerAWSAccountId: ACCOUNT, LicenseArn: LICENSE_ARN, ProductCode: 'p' });
    await expect(resolver.resolve('tok')).resolves.toMatchObject({ kind: 'license', productCode: 'p' });
    expect(metering).toHaveReceivedCommandWith(ResolveCustomerCommand, { RegistrationToken: 'tok' });
  });

  it('turns InvalidTokenException and ExpiredTokenException into RegistrationTokenError', async () => {
    metering.on(ResolveCustomerCommand)
      .rejectsOnce(new InvalidTokenException({ message: 'invalid', $metadata: {} }))
      .rejectsOnce(new ExpiredTokenException({ message: 'expired', $metadata: {} }));
    await expect(resolver.resolve('tok')).rejects.toEqual(new RegistrationTokenError('invalid'));
    await expect(resolver.resolve('tok')).rejects.toMatchObject({ name: 'RegistrationTokenError', problem: 'expired' });
  });

  it('rethrows every other error unchanged', async () => {
    const throttled = new ThrottlingException({ message: 'slow down', $metadata: {} });
    metering.on(ResolveCustomerCommand).rejects(throttled);
    await expect(resolver.resolve('tok')).rejects.toBe(throttled);
  });
});

describe('EventBridgeEventPublisher', () => {
  const eventBridge = mockClient(EventBridgeClient);
  const publisher = new EventBridgeEventPublisher(new EventBridgeClient({ region: 'us-east-1' }), 'control-plane');
  const event = (n: number): ControlPlaneEvent => ({ detailType: DETAIL_TYPES.newSubscriber, detail: { tenantId: `mp-${n}`, state: 'active', productCode: 'p', isFreeTrialTermPresent: false } });
  beforeEach(() => eventBridge.reset());

  it('puts each event on the bus with our source, the detail-type and the JSON detail', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
    await publisher.publish([event(1)]);
    expect(eventBridge).toHaveReceivedCommandWith(PutEventsCommand, {
      Entries: [{ EventBusName: 'control-plane', Source: CONTROL_PLANE_EVENT_SOURCE, DetailType: 'New AWS Marketplace Subscriber', Detail: JSON.stringify(event(1).detail) }],
    });
    expect(CONTROL_PLANE_EVENT_SOURCE).toBe('saas-metering.marketplace');
  });

  it('sends at most 10 entries per call and nothing for no events', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({ FailedEntryCount: 0, Entries: input.Entries.map((_, i) => ({ EventId: `e-${i}` })) }));
    await publisher.publish([]);
    expect(eventBridge).toHaveReceivedCommandTimes(PutEventsCommand, 0);
    await publisher.publish(Array.from({ length: 23 }, (_, i) => event(i)));
    expect(eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries?.length)).toEqual([10, 10, 3]);
  });

  it('resends only the entries that failed, once', async () => {
    eventBridge.on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ EventId: 'e-0' }, { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }] })
      .resolvesOnce({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
    await publisher.publish([event(0), event(1)]);
    const calls = eventBridge.commandCalls(PutEventsCommand);
    expect(calls).toHaveLength(2);
    expect(JSON.parse(calls[1]?.args[0].input.Entries?.[0]?.Detail ?? '{}').tenantId).toBe('mp-1');
  });

  it('throws when entries still fail after the retry (FailedEntryCount > 0)', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }] });
    const error = await publisher.publish([event(0)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventPublishError);
    expect((error as EventPublishError).failures).toEqual([{ detailType: DETAIL_TYPES.newSubscriber, errorCode: 'ThrottlingException' }]);
    expect(eventBridge).toHaveReceivedCommandTimes(PutEventsCommand, 2);
  });

  it('lets a failed call (not an entry) through', async () => {
    eventBridge.on(PutEventsCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(publisher.publish([event(0)])).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});

describe('createRegistrationHandler', () => {
  function capture(): { flow: RegistrationFlow; requests: RegistrationRequest[] } {
    const requests: RegistrationRequest[] = [];
    const flow: RegistrationFlow = async (request) => {
      requests.push(request);
      return { statusCode: 201, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<p>ok</p>' };
    };
    return { flow, requests };
  }

  it('hands method, body, base64 flag and content type (any case) to the flow, and its page back', async () => {
    const { flow, requests } = capture();
    const handler = createRegistrationHandler(flow);
    const result = await handler({ httpMethod: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'eD0x', isBase64Encoded: true });
    expect(requests).toEqual([{ method: 'POST', body: 'eD0x', isBase64Encoded: true, contentType: 'application/x-www-form-urlencoded' }]);
    expect(result).toEqual({ statusCode: 201, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<p>ok</p>' });
  });

  it('copes with null headers and body', async () => {
    const { flow, requests } = capture();
    await createRegistrationHandler(flow)({ httpMethod: 'GET', headers: null as never, body: null, isBase64Encoded: false });
    expect(requests[0]).toEqual({ method: 'GET', body: null, isBase64Encoded: false, contentType: undefined });
  });

  it('finds headers case-insensitively', () => {
    expect(headerOf({ 'CONTENT-TYPE': 'a' }, 'content-type')).toBe('a');
    expect(headerOf({}, 'content-type')).toBeUndefined();
    expect(headerOf(null, 'content-type')).toBeUndefined();
  });
});
