/**
 * The marketplace-agreement-events handler as Lambda runs it (asynchronous EventBridge target): the
 * real registry and publisher over mocked SDK clients; anything it cannot apply fails the invocation
 * after one log line that carries no part of the event.
 */
import type * as DynamoModule from '@aws-sdk/lib-dynamodb';
import type * as EventBridgeModule from '@aws-sdk/client-eventbridge';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { deriveTenantId } from '../../../core/marketplace/identity';
import { captureOutcome } from '../../support/capture-output';

process.env.AWS_REGION ??= 'us-east-1';
const ENV = { TENANT_TABLE: 'tenants', EVENT_BUS_NAME: 'control-plane', AWS_REGION: 'us-east-1', POWERTOOLS_DEV: '', POWERTOOLS_LOG_LEVEL: 'INFO' };

const PRODUCT = 'a1b2c3d4e5f6g7h8i9j0k1l2m';
const BUYER = '111122223333';
const AGREEMENT = 'agmt-7c2xq9example0001';
const LICENSE_ARN = 'arn:aws:license-manager::111122223333:license:l-0a1b2c3d4e5f60718293a4b5c6d7e8f9';

type Handler = typeof import('../../../functions/marketplace-agreement-events').handler;
type Item = Record<string, any>;

function loadHandler(env: Record<string, string | undefined>) {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    let loaded: { handler: Handler; items: Map<string, Item>; dynamo: AwsStub<any, any, any>; eventBridge: AwsStub<any, any, any>; sdk: typeof DynamoModule } | undefined;
    jest.isolateModules(() => {
      const dynamoSdk = jest.requireActual('@aws-sdk/lib-dynamodb') as typeof DynamoModule;
      const ebSdk = jest.requireActual('@aws-sdk/client-eventbridge') as typeof EventBridgeModule;
      const dynamo = mockClient(dynamoSdk.DynamoDBDocumentClient);
      const eventBridge = mockClient(ebSdk.EventBridgeClient);
      const items = new Map<string, Item>();
      dynamo.on(dynamoSdk.GetCommand).callsFake((input: { Key: Item }) => ({ Item: items.get(`${input.Key.pk}|${input.Key.sk}`) }));
      dynamo.on(dynamoSdk.PutCommand).callsFake((input: { Item: Item }) => {
        items.set(`${input.Item.pk}|${input.Item.sk}`, input.Item);
        return {};
      });
      eventBridge.on(ebSdk.PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'x' }] });
      const handler = (jest.requireActual('../../../functions/marketplace-agreement-events') as { handler: Handler }).handler;
      loaded = { handler, items, dynamo, eventBridge, sdk: dynamoSdk };
    });
    return loaded!;
  } finally {
    process.env = saved;
  }
}


function licenseUpdated(id = 'lic-evt-1'): Record<string, any> {
  return {
    version: '0', id, 'detail-type': 'License Updated - Manufacturer', source: 'aws.agreement-marketplace', account: '444455556666', time: '2025-06-01T12:00:07Z', region: 'us-east-1', resources: [],
    detail: { agreement: { id: AGREEMENT }, product: { code: PRODUCT, id: 'prod-4example7q2' }, license: { arn: LICENSE_ARN }, acceptor: { accountId: BUYER }, offer: { id: 'offer-3kq7example2y' } },
  };
}

describe('marketplace-agreement-events handler', () => {
  it('refuses to start without its configuration', () => {
    expect(() => loadHandler({ ...ENV, EVENT_BUS_NAME: '' })).toThrow('missing environment variables: EVENT_BUS_NAME');
  });

  it('creates the tenant of a License Updated event with the licence identity', async () => {
    const { handler, items } = loadHandler(ENV);
    const { value } = await captureOutcome(() => handler(licenseUpdated()));
    const tenantId = deriveTenantId({ kind: 'license', customerAWSAccountId: BUYER, licenseArn: LICENSE_ARN, productCode: PRODUCT });
    expect(value).toEqual({ tenantId, state: 'pending_registration', saved: true, published: [] });
    expect(items.get(`TENANT#${tenantId}|TENANT`)?.tenant.identity).toEqual({ kind: 'license', customerAWSAccountId: BUYER, licenseArn: LICENSE_ARN, productCode: PRODUCT, agreementId: AGREEMENT });
    expect([...items.keys()].filter((k) => k.startsWith('LOOKUP#')).sort()).toEqual([`LOOKUP#agreement:${AGREEMENT}|LOOKUP`, 'LOOKUP#license:l-0a1b2c3d4e5f60718293a4b5c6d7e8f9|LOOKUP']);
  });

  it.each([
    ['a malformed detail', { ...licenseUpdated('bad-1'), detail: { ...licenseUpdated().detail, license: { arn: 'not-a-licence' } } }, 'invalid_payload'],
    ['another source', { ...licenseUpdated('bad-2'), source: 'aws.marketplace' }, 'unsupported_type'],
    ['an unhandled detail-type', { ...licenseUpdated('bad-3'), 'detail-type': 'Agreement Cancellation Request Created - Manufacturer' }, 'unsupported_type'],
    ['no event at all', null, 'unknown_format'],
  ])('throws on %s, after a log line with the code and reason only', async (_label, event, code) => {
    const { handler, dynamo, sdk } = loadHandler(ENV);
    const { error, output } = await captureOutcome(() => handler(event));
    expect(error).toMatchObject({ name: 'UnrecognisedNotificationError', code });
    const line = JSON.parse(output.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'ERROR', outcome: 'unrecognised', code, service: 'marketplace-agreement-events' });
    for (const secret of [BUYER, LICENSE_ARN, 'not-a-licence', AGREEMENT]) expect(output).not.toContain(secret);
    expect(dynamo.commandCalls(sdk.PutCommand)).toHaveLength(0);
  });

  it('throws (so that Lambda retries) for a purchase agreement that ended before its licence event', async () => {
    const { handler } = loadHandler(ENV);
    const ended = {
      version: '0', id: 'end-1', 'detail-type': 'Purchase Agreement Ended - Manufacturer', source: 'aws.agreement-marketplace', time: '2025-06-01T12:30:00Z',
      detail: { agreement: { id: AGREEMENT, status: 'CANCELLED' }, acceptor: { accountId: BUYER } },
    };
    const { error, output } = await captureOutcome(() => handler(ended));
    expect(error).toMatchObject({ name: 'DeferNotification' });
    expect(output).toContain('"outcome":"deferred"');
  });

  it('throws when the registry fails', async () => {
    const { handler, dynamo, sdk } = loadHandler(ENV);
    dynamo.on(sdk.GetCommand).rejects(Object.assign(new Error('Internal server error'), { name: 'InternalServerError' }));
    const { error, output } = await captureOutcome(() => handler(licenseUpdated()));
    expect(error).toMatchObject({ name: 'InternalServerError' });
    expect(output).toContain('"outcome":"failed"');
  });
});
