/**
 * The marketplace-subscriptions handler as Lambda runs it: configuration at cold start, the real
 * DynamoDB registry and EventBridge publisher over mocked SDK clients (a tiny table honouring the
 * registry's conditions), a partial batch response, and what reaches stdout/stderr.
 */
import type * as DynamoModule from '@aws-sdk/lib-dynamodb';
import type * as EventBridgeModule from '@aws-sdk/client-eventbridge';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { deriveTenantId, lookupKeys, type MarketplaceIdentity } from '../../../core/marketplace/identity';
import { DETAIL_TYPES } from '../../../core/marketplace/subscription-effects';
import { registerTenant } from '../../../core/marketplace/subscription-lifecycle';
import { registrationSchema } from '../../../core/marketplace/tenant';
import { captureOutput } from '../../support/capture-output';

process.env.AWS_REGION ??= 'us-east-1';
const ENV = { TENANT_TABLE: 'tenants', EVENT_BUS_NAME: 'control-plane', AWS_REGION: 'us-east-1', POWERTOOLS_DEV: '', POWERTOOLS_LOG_LEVEL: 'INFO' };

const PRODUCT = 'a1b2c3d4e5f6g7h8i9j0k1l2m';
const CUSTOMER = 'QxU3mZk8pWd';
const TOPIC = `arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-${PRODUCT}`;
const LEGACY: MarketplaceIdentity = { kind: 'customer-identifier', customerIdentifier: CUSTOMER, productCode: PRODUCT };
const EMAIL = 'jane.secret@example.com';

type Handler = typeof import('../../../functions/marketplace-subscriptions').handler;
type Item = Record<string, any>;

interface Loaded {
  handler: Handler;
  items: Map<string, Item>;
  dynamo: AwsStub<any, any, any>;
  eventBridge: AwsStub<any, any, any>;
  sdk: { dynamo: typeof DynamoModule; eventBridge: typeof EventBridgeModule };
}

/** Loads the handler in a fresh module registry with `env`, over mocked clients of that registry. */
function loadHandler(env: Record<string, string | undefined>): Loaded {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    let loaded: Loaded | undefined;
    jest.isolateModules(() => {
      const dynamoSdk = jest.requireActual('@aws-sdk/lib-dynamodb') as typeof DynamoModule;
      const ebSdk = jest.requireActual('@aws-sdk/client-eventbridge') as typeof EventBridgeModule;
      const dynamo = mockClient(dynamoSdk.DynamoDBDocumentClient);
      const eventBridge = mockClient(ebSdk.EventBridgeClient);
      const items = fakeTable(dynamo, dynamoSdk);
      eventBridge.on(ebSdk.PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({ FailedEntryCount: 0, Entries: input.Entries.map((_, i) => ({ EventId: `eb-${i}` })) }));
      const handler = (jest.requireActual('../../../functions/marketplace-subscriptions') as { handler: Handler }).handler;
      loaded = { handler, items, dynamo, eventBridge, sdk: { dynamo: dynamoSdk, eventBridge: ebSdk } };
    });
    return loaded!;
  } finally {
    process.env = saved;
  }
}

/** Get and Put of the document client over a map, with the three conditions the tenant registry uses. */
function fakeTable(dynamo: AwsStub<any, any, any>, sdk: typeof DynamoModule): Map<string, Item> {
  const items = new Map<string, Item>();
  const keyOf = (key: Item) => `${key.pk}|${key.sk}`;
  dynamo.on(sdk.GetCommand).callsFake((input: { Key: Item }) => ({ Item: items.get(keyOf(input.Key)) }));
  dynamo.on(sdk.PutCommand).callsFake((input: { Item: Item; ConditionExpression?: string; ExpressionAttributeValues?: Item }) => {
    const existing = items.get(keyOf(input.Item));
    const values = input.ExpressionAttributeValues ?? {};
    const ok = {
      'attribute_not_exists(pk) OR tenantId = :id': () => existing === undefined || existing.tenantId === values[':id'],
      'attribute_not_exists(pk)': () => existing === undefined,
      'version = :expected': () => existing?.version === values[':expected'],
    }[input.ConditionExpression ?? ''];
    if (ok === undefined) throw new Error(`unexpected condition ${input.ConditionExpression}`);
    if (!ok()) throw Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });
    items.set(keyOf(input.Item), structuredClone(input.Item));
    return {};
  });
  // The registry empties a tenant's outbox once its events are published.
  dynamo.on(sdk.UpdateCommand).callsFake((input: { Key: Item; UpdateExpression: string; ConditionExpression?: string; ExpressionAttributeValues?: Item }) => {
    const existing = items.get(keyOf(input.Key));
    if (input.UpdateExpression !== 'REMOVE outbox' || input.ConditionExpression !== 'version = :v') throw new Error(`unexpected update ${input.UpdateExpression}`);
    if (existing?.version !== input.ExpressionAttributeValues?.[':v']) throw Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });
    delete existing!.outbox;
    return {};
  });
  return items;
}


function record(messageId: string, body: string): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1748779200000', SenderId: 'AIDAEXAMPLE', ApproximateFirstReceiveTimestamp: '1748779200001' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:444455556666:marketplace-notifications',
    awsRegion: 'us-east-1',
  };
}

function snsBody(snsId: string, action: string, timestamp = '2025-06-01T12:00:00.000Z'): string {
  const message = { action, 'customer-identifier': CUSTOMER, 'product-code': PRODUCT, 'offer-identifier': 'offer-1', isFreeTrialTermPresent: 'false' };
  return JSON.stringify({ Type: 'Notification', MessageId: snsId, TopicArn: TOPIC, Message: JSON.stringify(message), Timestamp: timestamp, SignatureVersion: '1', Signature: 'c2ln' });
}

function batch(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

/** Stores a registered (not yet subscribed) tenant the way the registry does. */
function storeRegisteredTenant(items: Map<string, Item>): string {
  const registration = registrationSchema.parse({ companyName: 'Example Ltd', contactPerson: 'Jane Doe', contactEmail: EMAIL, contactPhone: '+44 20 7946 0000' });
  const tenant = registerTenant(undefined, registration, LEGACY, Date.UTC(2025, 5, 1, 11)).tenant!;
  for (const key of lookupKeys(tenant.identity)) items.set(`LOOKUP#${key}|LOOKUP`, { pk: `LOOKUP#${key}`, sk: 'LOOKUP', tenantId: tenant.tenantId });
  items.set(`TENANT#${tenant.tenantId}|TENANT`, { pk: `TENANT#${tenant.tenantId}`, sk: 'TENANT', tenant, version: 1, state: tenant.state });
  return tenant.tenantId;
}

describe('marketplace-subscriptions handler', () => {
  it('refuses to start without its configuration, naming what is missing', () => {
    expect(() => loadHandler({ ...ENV, TENANT_TABLE: '', EVENT_BUS_NAME: '' })).toThrow('missing environment variables: TENANT_TABLE, EVENT_BUS_NAME');
  });

  it('activates a registered tenant and publishes New AWS Marketplace Subscriber to the configured bus, once', async () => {
    const { handler, items, eventBridge, sdk } = loadHandler(ENV);
    const tenantId = storeRegisteredTenant(items);
    const body = snsBody('sns-1', 'subscribe-success');
    const { value } = await captureOutput(() => handler(batch(record('r1', body), record('r2', body))));
    expect(value).toEqual({ batchItemFailures: [] });
    expect(items.get(`TENANT#${tenantId}|TENANT`)).toMatchObject({ version: 2, state: 'active' });
    const calls = eventBridge.commandCalls(sdk.eventBridge.PutEventsCommand);
    expect(calls).toHaveLength(1);
    const [entry] = calls[0].args[0].input.Entries!;
    expect(entry).toMatchObject({ EventBusName: 'control-plane', Source: 'saas-metering.marketplace', DetailType: DETAIL_TYPES.newSubscriber });
    expect(JSON.parse(entry.Detail!)).toMatchObject({ tenantId, state: 'active', eventId: 'sns:sns-1', customerIdentifier: CUSTOMER, contactEmail: EMAIL });
  });

  it('answers batchItemFailures for exactly the bad and deferred records, and logs them without their bodies', async () => {
    const { handler, items } = loadHandler(ENV);
    const badBody = JSON.stringify({ Type: 'Notification', MessageId: 'sns-bad', TopicArn: TOPIC, Message: JSON.stringify({ action: 'subscribe-success', 'customer-identifier': CUSTOMER, 'product-code': 'bad product!', contactEmail: EMAIL }), Timestamp: '2025-06-01T12:00:00.000Z' });
    const ended = JSON.stringify({
      version: '0', id: 'eb-ended', 'detail-type': 'Purchase Agreement Ended - Manufacturer', source: 'aws.agreement-marketplace', time: '2025-06-01T12:00:00Z',
      detail: { agreement: { id: 'agmt-unknown0001', status: 'CANCELLED' }, acceptor: { accountId: '111122223333' } },
    });
    const confirmation = JSON.stringify({ Type: 'SubscriptionConfirmation', MessageId: 'sns-conf', TopicArn: TOPIC, Message: 'confirm', Timestamp: '2025-06-01T12:00:00.000Z', Token: 'secret-token-value', SubscribeURL: 'https://sns.example/confirm' });
    const { value, output } = await captureOutput(() => handler(batch(
      record('good', snsBody('sns-good', 'subscribe-success')),
      record('bad', badBody),
      record('empty', ''),
      record('deferred', ended),
      record('confirm', confirmation),
    )));
    expect(value).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad' }, { itemIdentifier: 'empty' }, { itemIdentifier: 'deferred' }] });
    expect(items.get(`TENANT#${deriveTenantId(LEGACY)}|TENANT`)).toMatchObject({ state: 'pending_registration' });

    const lines = output.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'ERROR', outcome: 'unrecognised', code: 'invalid_payload', messageId: 'bad', eventId: 'sns-bad', service: 'marketplace-subscriptions' }));
    expect(lines).toContainEqual(expect.objectContaining({ level: 'ERROR', outcome: 'unrecognised', code: 'not_json', messageId: 'empty' }));
    expect(lines).toContainEqual(expect.objectContaining({ level: 'WARN', outcome: 'deferred', messageId: 'deferred', eventKey: 'eventbridge:eb-ended' }));
    expect(lines).toContainEqual(expect.objectContaining({ level: 'WARN', outcome: 'discarded', snsType: 'SubscriptionConfirmation', messageId: 'confirm' }));
    for (const secret of [EMAIL, CUSTOMER, 'bad product!', 'secret-token-value', 'agmt-unknown0001']) expect(output).not.toContain(secret);
  });

  it('reports a record for redelivery when DynamoDB fails, without failing the batch', async () => {
    const { handler, dynamo, sdk } = loadHandler(ENV);
    dynamo.on(sdk.dynamo.GetCommand).rejects(Object.assign(new Error('Rate of requests exceeds the allowed throughput'), { name: 'ThrottlingException' }));
    const { value, output } = await captureOutput(() => handler(batch(record('t1', snsBody('sns-t1', 'subscribe-success')))));
    expect(value).toEqual({ batchItemFailures: [{ itemIdentifier: 't1' }] });
    expect(output).toContain('"errorName":"ThrottlingException"');
  });
});
