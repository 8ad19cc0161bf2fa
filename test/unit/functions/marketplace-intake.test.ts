/**
 * The intake core with in-memory ports: applying a notification (save before publish, conflicts,
 * deferral, the outbox kept when publishing fails, effects logged), the SQS batch (partial batch responses)
 * and the EventBridge path (throws on anything it cannot apply). Notifications are built as they
 * arrive and go through the real parsers.
 */
import { applyNotification, DeferNotification, describeError, MAX_CONFLICT_RETRIES, type IntakeLog } from '../../../core/marketplace/intake-apply';
import { AGREEMENT_DETAIL_TYPES, processAgreementEvent, UnrecognisedNotificationError } from '../../../core/marketplace/intake-eventbridge';
import { processSubscriptionBatch, snsControlMessageType, type SqsRecordLike } from '../../../core/marketplace/intake-sqs';
import { deriveTenantId, type MarketplaceIdentity } from '../../../core/marketplace/identity';
import { parseEventBridgeEvent, parseSqsMessage } from '../../../core/marketplace/notification-parsers';
import type { ControlPlaneEvent, EventPublisher } from '../../../core/marketplace/control-plane-events';
import { DETAIL_TYPES } from '../../../core/marketplace/subscription-effects';
import type { SubscriptionEvent } from '../../../core/marketplace/subscription-event';
import { registerTenant } from '../../../core/marketplace/subscription-lifecycle';
import { registrationSchema, type Tenant } from '../../../core/marketplace/tenant';
import { TenantVersionConflict } from '../../../core/marketplace/tenant-registry';
import { MemoryRegistry } from '../../support/memory-tenant-registry';

const NOW = Date.UTC(2025, 5, 1, 13);
const PRODUCT = 'a1b2c3d4e5f6g7h8i9j0k1l2m';
const CUSTOMER = 'QxU3mZk8pWd';
const TOPIC = `arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-${PRODUCT}`;
const BUYER = '111122223333';
const AGREEMENT = 'agmt-7c2xq9example0001';
const LICENSE_ARN = 'arn:aws:license-manager::111122223333:license:l-0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const LEGACY: MarketplaceIdentity = { kind: 'customer-identifier', customerIdentifier: CUSTOMER, productCode: PRODUCT };
const REGISTRATION = registrationSchema.parse({ companyName: 'Example Ltd', contactPerson: 'Jane Doe', contactEmail: 'jane@example.com', contactPhone: '+44 20 7946 0000', tier: 'Basic' });

// ---------------------------------------------------------------------------------------------
// In-memory ports
// ---------------------------------------------------------------------------------------------

class MemoryPublisher implements EventPublisher {
  readonly published: ControlPlaneEvent[] = [];
  failures = 0;
  /** Called with each publish, e.g. to check what the registry holds at that moment. */
  onPublish?: (events: readonly ControlPlaneEvent[]) => void;

  async publish(events: readonly ControlPlaneEvent[]): Promise<void> {
    this.onPublish?.(events);
    if (this.failures > 0) {
      this.failures -= 1;
      throw Object.assign(new Error('EventBridge did not accept 1 event(s)'), { name: 'EventPublishError' });
    }
    this.published.push(...events);
  }
}

interface LogEntry {
  level: 'info' | 'warn' | 'error';
  message: string;
  attributes: Record<string, unknown>;
}

function memoryLog(): IntakeLog & { entries: LogEntry[]; text(): string } {
  const entries: LogEntry[] = [];
  const at = (level: LogEntry['level']) => (message: string, attributes: Record<string, unknown>) => void entries.push({ level, message, attributes });
  return { entries, info: at('info'), warn: at('warn'), error: at('error'), text: () => JSON.stringify(entries) };
}

// ---------------------------------------------------------------------------------------------
// Notifications as they arrive
// ---------------------------------------------------------------------------------------------

function snsRecord(messageId: string, action: string, timestamp: string, extra: Record<string, unknown> = {}): SqsRecordLike {
  const message = { action, 'customer-identifier': CUSTOMER, 'product-code': PRODUCT, ...extra };
  const envelope = { Type: 'Notification', MessageId: `sns-${messageId}`, TopicArn: TOPIC, Message: JSON.stringify(message), Timestamp: timestamp, SignatureVersion: '1', Signature: 'c2ln' };
  return { messageId, body: JSON.stringify(envelope), attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.parse(timestamp)) } };
}

function agreementEvent(id: string, detailType: string, time: string, agreement: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '0', id, 'detail-type': detailType, source: 'aws.agreement-marketplace', account: '444455556666', time, region: 'us-east-1', resources: [],
    detail: { requestId: `req-${id}`, agreement: { id: AGREEMENT, intent: 'NEW', status: 'ACTIVE', ...agreement }, acceptor: { accountId: BUYER }, proposer: { accountId: '444455556666' }, offer: { id: 'offer-3kq7example2y' } },
  };
}

function licenseEvent(id: string, detailType: string, time: string): Record<string, unknown> {
  return {
    version: '0', id, 'detail-type': detailType, source: 'aws.agreement-marketplace', account: '444455556666', time, region: 'us-east-1', resources: [],
    detail: { agreement: { id: AGREEMENT }, product: { code: PRODUCT }, license: { arn: LICENSE_ARN }, acceptor: { accountId: BUYER }, offer: { id: 'offer-3kq7example2y' } },
  };
}

function sqsEvent(record: SqsRecordLike): SubscriptionEvent {
  const parsed = parseSqsMessage(record);
  if (!parsed.ok) throw new Error(`fixture not recognised: ${parsed.code} ${parsed.reason}`);
  return parsed.event;
}

function ebEvent(event: unknown): SubscriptionEvent {
  const parsed = parseEventBridgeEvent(event);
  if (!parsed.ok) throw new Error(`fixture not recognised: ${parsed.code} ${parsed.reason}`);
  return parsed.event;
}

const SUBSCRIBE = sqsEvent(snsRecord('m1', 'subscribe-success', '2025-06-01T12:00:00.000Z', { 'offer-identifier': 'offer-1', isFreeTrialTermPresent: 'false' }));
const UNSUBSCRIBE_PENDING = sqsEvent(snsRecord('m2', 'unsubscribe-pending', '2025-06-01T12:30:00.000Z'));
const UNSUBSCRIBE = sqsEvent(snsRecord('m3', 'unsubscribe-success', '2025-06-01T12:40:00.000Z'));

function registeredTenant(identity: MarketplaceIdentity = LEGACY): Tenant {
  const { tenant } = registerTenant(undefined, REGISTRATION, identity, NOW - 60_000);
  if (tenant === undefined) throw new Error('no tenant');
  return tenant;
}

// ---------------------------------------------------------------------------------------------

describe('applyNotification', () => {
  let registry: MemoryRegistry;
  let publisher: MemoryPublisher;
  let log: ReturnType<typeof memoryLog>;
  beforeEach(() => {
    registry = new MemoryRegistry();
    publisher = new MemoryPublisher();
    log = memoryLog();
  });

  it('creates the tenant under the derived id on its first notification, and publishes nothing for it', async () => {
    const outcome = await applyNotification(registry, SUBSCRIBE, NOW, publisher, log);
    const tenantId = deriveTenantId(LEGACY);
    expect(outcome).toMatchObject({ eventKey: 'sns:sns-m1', kind: 'subscribed', tenantId, state: 'pending_registration', saved: true, version: 1, published: [], conflicts: 0 });
    expect(outcome.previousState).toBeUndefined();
    expect(registry.tenants.get(tenantId)?.tenant).toMatchObject({ state: 'pending_registration', appliedEventIds: ['sns:sns-m1'], entitlement: { offerId: 'offer-1', freeTrial: false } });
    expect(publisher.published).toEqual([]);
  });

  it('saves before it publishes, and the published detail carries the notification key', async () => {
    registry.put(registeredTenant());
    publisher.onPublish = () => expect(registry.tenants.get(deriveTenantId(LEGACY))?.tenant.state).toBe('active');
    const outcome = await applyNotification(registry, SUBSCRIBE, NOW, publisher, log);
    expect(outcome).toMatchObject({ previousState: 'pending_registration', state: 'active', saved: true, version: 2, published: [DETAIL_TYPES.newSubscriber] });
    expect(publisher.published).toHaveLength(1);
    expect(publisher.published[0].detail).toMatchObject({ tenantId: deriveTenantId(LEGACY), state: 'active', previousState: 'pending_registration', customerIdentifier: CUSTOMER, contactEmail: 'jane@example.com', eventId: 'sns:sns-m1' });
    expect.assertions(4);
  });

  it('treats a redelivered notification as a no-op: nothing written, nothing published, the reason logged', async () => {
    registry.put(registeredTenant());
    await applyNotification(registry, SUBSCRIBE, NOW, publisher, log);
    const saves = registry.saves;
    const again = await applyNotification(registry, SUBSCRIBE, NOW + 1000, publisher, log);
    expect(again).toMatchObject({ saved: false, published: [], effects: ['ignore'], state: 'active' });
    expect(registry.saves).toBe(saves);
    expect(publisher.published).toHaveLength(1);
    expect(log.entries.at(-1)).toMatchObject({ level: 'info', message: 'notification ignored', attributes: { reason: 'duplicate notification', eventKey: 'sns:sns-m1' } });
  });

  it('re-reads and re-applies after a lost race, and gives up after MAX_CONFLICT_RETRIES conflicts', async () => {
    registry.put(registeredTenant());
    let races = 2;
    registry.beforeSave = (tenant) => {
      if (races-- > 0) {
        // Another writer saves first: the version moves on.
        const stored = registry.tenants.get(tenant.tenantId)!;
        registry.tenants.set(tenant.tenantId, { ...stored, version: stored.version + 1 });
      }
    };
    const outcome = await applyNotification(registry, SUBSCRIBE, NOW, publisher, log);
    expect(outcome).toMatchObject({ conflicts: 2, saved: true, version: 4, state: 'active', published: [DETAIL_TYPES.newSubscriber] });

    races = Number.POSITIVE_INFINITY;
    await expect(applyNotification(registry, UNSUBSCRIBE_PENDING, NOW, publisher, log)).rejects.toBeInstanceOf(TenantVersionConflict);
    expect(log.entries.filter((e) => e.message.startsWith('tenant changed while applying')).length).toBe(2 + MAX_CONFLICT_RETRIES);
    expect(publisher.published).toHaveLength(1);
  });

  it('defers a purchase agreement that ended before its licence event: nothing written', async () => {
    const ended = ebEvent(agreementEvent('e-ended', 'Purchase Agreement Ended - Manufacturer', '2025-06-01T12:00:00Z', { status: 'CANCELLED' }));
    const error = await applyNotification(registry, ended, NOW, publisher, log).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeferNotification);
    expect(error).toMatchObject({ eventKey: 'eventbridge:e-ended', reason: expect.stringContaining('agreement ended before its licence event') });
    expect(registry.saves).toBe(0);
  });

  it('keeps the events of a change in the outbox when publishing fails, and the redelivery publishes them once', async () => {
    registry.put(registeredTenant());
    const tenantId = deriveTenantId(LEGACY);
    publisher.failures = 1;
    await expect(applyNotification(registry, SUBSCRIBE, NOW, publisher, log)).rejects.toThrow('EventBridge did not accept');
    const saved = registry.tenants.get(tenantId)!;
    expect(saved.tenant.state).toBe('active');
    expect(saved.outbox.map((e) => e.detailType)).toEqual([DETAIL_TYPES.newSubscriber]);

    const redelivered = await applyNotification(registry, SUBSCRIBE, NOW + 5000, publisher, log);
    expect(redelivered).toMatchObject({ state: 'active', saved: false, published: [DETAIL_TYPES.newSubscriber] });
    expect(publisher.published.map((e) => (e.detail as { eventId?: string }).eventId)).toEqual(['sns:sns-m1']);
    expect(registry.tenants.get(tenantId)!.outbox).toEqual([]);
  });

  it('carries unpublished events on when another change is saved before they go out', async () => {
    registry.put(registeredTenant());
    publisher.failures = 1;
    await expect(applyNotification(registry, SUBSCRIBE, NOW, publisher, log)).rejects.toThrow();
    const next = await applyNotification(registry, UNSUBSCRIBE_PENDING, NOW, publisher, log);
    expect(next.published).toEqual([DETAIL_TYPES.newSubscriber, DETAIL_TYPES.unsubscribePending]);
    expect(registry.tenants.get(deriveTenantId(LEGACY))!.outbox).toEqual([]);
  });

  it('logs send_final_usage with its deadline, offboard and refresh_entitlements', async () => {
    registry.put(registeredTenant());
    await applyNotification(registry, SUBSCRIBE, NOW, publisher, log);
    const pending = await applyNotification(registry, UNSUBSCRIBE_PENDING, NOW, publisher, log);
    expect(pending).toMatchObject({ state: 'unsubscribe_pending', effects: ['send_final_usage', 'publish'], published: [DETAIL_TYPES.unsubscribePending] });
    expect(log.entries).toContainEqual(expect.objectContaining({ attributes: expect.objectContaining({ effect: 'send_final_usage', deadline: '2025-06-01T13:30:00.000Z', tenantId: deriveTenantId(LEGACY) }) }));
    const cancelled = await applyNotification(registry, UNSUBSCRIBE, NOW, publisher, log);
    expect(cancelled).toMatchObject({ state: 'cancelled', effects: ['publish', 'offboard'], published: [DETAIL_TYPES.endOfSubscription] });
    expect(log.entries).toContainEqual(expect.objectContaining({ attributes: expect.objectContaining({ effect: 'offboard' }) }));

    const licensed = await applyNotification(registry, ebEvent(licenseEvent('l-upd', 'License Updated - Manufacturer', '2025-06-01T12:00:07Z')), NOW, publisher, log);
    expect(licensed.effects).toContain('refresh_entitlements');
    expect(log.entries).toContainEqual(expect.objectContaining({ attributes: expect.objectContaining({ effect: 'refresh_entitlements' }) }));
    expect(log.text()).not.toContain('jane@example.com');
    expect(log.text()).not.toContain(CUSTOMER);
  });

  it('finds a tenant under the derived id when no lookup leads to it, instead of creating it twice', async () => {
    const tenant = registeredTenant();
    registry.tenants.set(tenant.tenantId, { tenant, version: 7, outbox: [] });
    const outcome = await applyNotification(registry, SUBSCRIBE, NOW, publisher, log);
    expect(outcome).toMatchObject({ tenantId: tenant.tenantId, previousState: 'pending_registration', state: 'active', version: 8, conflicts: 0 });
  });
});

describe('describeError', () => {
  it('keeps the name and a bounded message, without identity keys', () => {
    const error = new Error(`identity key customer:${PRODUCT}:${CUSTOMER} already belongs to another tenant`);
    expect(describeError(error)).toEqual({ errorName: 'Error', errorMessage: 'identity key customer:[redacted] already belongs to another tenant' });
    expect(describeError(new Error('x'.repeat(1000))).errorMessage).toHaveLength(300);
    expect(describeError('boom')).toEqual({ errorName: 'string' });
  });
});

describe('processSubscriptionBatch', () => {
  let registry: MemoryRegistry;
  let publisher: MemoryPublisher;
  let log: ReturnType<typeof memoryLog>;
  beforeEach(() => {
    registry = new MemoryRegistry();
    publisher = new MemoryPublisher();
    log = memoryLog();
  });

  const SECRET = 'secret-customer-9Zq';

  it('reports exactly the unrecognised, deferred and failed records; acknowledges the applied ones and SNS confirmations', async () => {
    registry.put(registeredTenant());
    const records: SqsRecordLike[] = [
      snsRecord('ok-1', 'subscribe-success', '2025-06-01T12:00:00.000Z'),
      { messageId: 'bad-json', body: `{"customer-identifier":"${SECRET}"` },
      { messageId: 'bad-action', body: JSON.stringify({ Type: 'Notification', MessageId: 'sns-x', TopicArn: TOPIC, Message: JSON.stringify({ action: 'subscribe-maybe', 'customer-identifier': SECRET, 'product-code': PRODUCT }), Timestamp: '2025-06-01T12:00:00.000Z' }) },
      { messageId: 'confirm', body: JSON.stringify({ Type: 'SubscriptionConfirmation', MessageId: 'sns-c', TopicArn: TOPIC, Message: 'You have chosen to subscribe', Timestamp: '2025-06-01T12:00:00.000Z', Token: 'tok', SubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription' }) },
      { messageId: 'deferred', body: JSON.stringify(agreementEvent('e-ended', 'Purchase Agreement Ended - Manufacturer', '2025-06-01T12:00:00Z', { status: 'EXPIRED' })) },
      snsRecord('ok-dup', 'subscribe-success', '2025-06-01T12:00:00.000Z'),
    ];
    // The duplicate has another SQS id but the same SNS MessageId.
    (records[5] as { body: string }).body = (records[0] as { body: string }).body;
    const result = await processSubscriptionBatch(records, { registry, publisher, log, now: () => NOW });
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'bad-json' }, { itemIdentifier: 'bad-action' }, { itemIdentifier: 'deferred' }]);
    expect(publisher.published.map((e) => e.detailType)).toEqual([DETAIL_TYPES.newSubscriber]);
    expect(log.entries.at(-1)).toMatchObject({ message: 'notification batch processed', attributes: { records: 6, applied: 2, discarded: 1, unrecognised: 2, deferred: 1, failed: 0 } });
  });

  it('logs an unrecognised record with its code, reason and message id — never its body', async () => {
    const body = JSON.stringify({ Type: 'Notification', MessageId: 'sns-y', TopicArn: TOPIC, Message: JSON.stringify({ action: 'subscribe-success', 'customer-identifier': '', 'product-code': PRODUCT, contact: SECRET }), Timestamp: '2025-06-01T12:00:00.000Z' });
    await processSubscriptionBatch([{ messageId: 'm-bad', body, attributes: { ApproximateReceiveCount: '3' } }], { registry, publisher, log, now: () => NOW });
    const line = log.entries.find((e) => e.level === 'error')!;
    expect(line.attributes).toEqual({ outcome: 'unrecognised', code: 'invalid_payload', reason: expect.stringContaining('customer-identifier'), messageId: 'm-bad', source: 'sns', eventId: 'sns-y', receiveCount: 3 });
    expect(log.text()).not.toContain(SECRET);
    expect(log.text()).not.toContain(body);
  });

  it('reports a record whose registry write fails (transient) for redelivery, and goes on with the others', async () => {
    registry.failSaves = Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ProvisionedThroughputExceededException' });
    const result = await processSubscriptionBatch([snsRecord('t-1', 'subscribe-success', '2025-06-01T12:00:00.000Z'), { messageId: 'not-json', body: 'hello' }], { registry, publisher, log, now: () => NOW });
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 't-1' }, { itemIdentifier: 'not-json' }]);
    expect(log.entries).toContainEqual(expect.objectContaining({ level: 'error', attributes: expect.objectContaining({ outcome: 'failed', messageId: 't-1', errorName: 'ProvisionedThroughputExceededException' }) }));
  });

  it('keeps an unsupported non-SNS message (an unknown EventBridge detail-type through the queue)', async () => {
    const unknown = { ...agreementEvent('e-x', 'Agreement Cancellation Request Created - Manufacturer', '2025-06-01T12:00:00Z') };
    const result = await processSubscriptionBatch([{ messageId: 'eb-x', body: JSON.stringify(unknown) }], { registry, publisher, log, now: () => NOW });
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'eb-x' }]);
  });
});

describe('snsControlMessageType', () => {
  it('names SNS confirmation messages only', () => {
    expect(snsControlMessageType(JSON.stringify({ Type: 'SubscriptionConfirmation' }))).toBe('SubscriptionConfirmation');
    expect(snsControlMessageType(JSON.stringify({ Type: 'UnsubscribeConfirmation' }))).toBe('UnsubscribeConfirmation');
    expect(snsControlMessageType(JSON.stringify({ Type: 'Notification' }))).toBeUndefined();
    expect(snsControlMessageType('[1]')).toBeUndefined();
    expect(snsControlMessageType('not json')).toBeUndefined();
    expect(snsControlMessageType(undefined)).toBeUndefined();
  });
});

describe('processAgreementEvent', () => {
  let registry: MemoryRegistry;
  let publisher: MemoryPublisher;
  let log: ReturnType<typeof memoryLog>;
  beforeEach(() => {
    registry = new MemoryRegistry();
    publisher = new MemoryPublisher();
    log = memoryLog();
  });

  it('creates a tenant with the licence identity from License Updated', async () => {
    const outcome = await processAgreementEvent(licenseEvent('l-1', 'License Updated - Manufacturer', '2025-06-01T12:00:07Z'), { registry, publisher, log, now: () => NOW });
    const identity: MarketplaceIdentity = { kind: 'license', customerAWSAccountId: BUYER, licenseArn: LICENSE_ARN, productCode: PRODUCT, agreementId: AGREEMENT };
    expect(outcome).toMatchObject({ tenantId: deriveTenantId(identity), state: 'pending_registration', saved: true });
    expect(registry.tenants.get(deriveTenantId(identity))?.tenant.identity).toEqual(identity);
  });

  it('throws on an unrecognised event after one log line without the event', async () => {
    const bad = licenseEvent('l-bad', 'License Updated - Manufacturer', '2025-06-01T12:00:07Z');
    (bad.detail as Record<string, unknown>).acceptor = { accountId: 'not-an-account-0000' };
    const error = await processAgreementEvent(bad, { registry, publisher, log }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnrecognisedNotificationError);
    expect(error).toMatchObject({ code: 'invalid_payload', eventId: 'l-bad' });
    expect(log.entries).toEqual([{ level: 'error', message: expect.stringContaining('unrecognised Marketplace event'), attributes: { outcome: 'unrecognised', code: 'invalid_payload', reason: expect.stringContaining('acceptor.accountId'), eventId: 'l-bad' } }]);
    expect(log.text()).not.toContain('not-an-account-0000');
    await expect(processAgreementEvent({ hello: 'world' }, { registry, publisher, log })).rejects.toMatchObject({ code: 'invalid_envelope' });
    await expect(processAgreementEvent({ ...bad, source: 'aws.other' }, { registry, publisher, log })).rejects.toMatchObject({ code: 'unsupported_type' });
  });

  it('throws DeferNotification for an agreement that ended before its licence event, and applies it once the licence is known', async () => {
    const ended = agreementEvent('e-end', 'Purchase Agreement Ended - Manufacturer', '2025-06-01T12:30:00Z', { status: 'CANCELLED' });
    await expect(processAgreementEvent(ended, { registry, publisher, log, now: () => NOW })).rejects.toBeInstanceOf(DeferNotification);
    expect(log.entries.at(-1)).toMatchObject({ level: 'warn', attributes: { outcome: 'deferred', eventKey: 'eventbridge:e-end' } });
    await processAgreementEvent(licenseEvent('l-1', 'License Updated - Manufacturer', '2025-06-01T12:00:07Z'), { registry, publisher, log, now: () => NOW });
    const retried = await processAgreementEvent(ended, { registry, publisher, log, now: () => NOW });
    expect(retried).toMatchObject({ state: 'unsubscribe_pending', effects: expect.arrayContaining(['send_final_usage']) });
  });

  it('rethrows registry errors after logging them', async () => {
    registry.failSaves = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    await expect(processAgreementEvent(licenseEvent('l-1', 'License Updated - Manufacturer', '2025-06-01T12:00:07Z'), { registry, publisher, log })).rejects.toThrow('Rate exceeded');
    expect(log.entries.at(-1)).toMatchObject({ level: 'error', attributes: { outcome: 'failed', errorName: 'ThrottlingException', eventKey: 'eventbridge:l-1' } });
  });
});

describe('AGREEMENT_DETAIL_TYPES', () => {
  it('lists only detail-types the parser recognises', () => {
    for (const detailType of AGREEMENT_DETAIL_TYPES) {
      const event = detailType.startsWith('License') ? licenseEvent('x', detailType, '2025-06-01T12:00:07Z') : agreementEvent('x', detailType, '2025-06-01T12:00:07Z');
      expect(parseEventBridgeEvent(event)).toMatchObject({ ok: true });
    }
  });
});
