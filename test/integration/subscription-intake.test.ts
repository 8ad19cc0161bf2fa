/**
 * Subscription intake end to end on local engines: notifications as SQS and EventBridge deliver them,
 * the real parsers and lifecycle, the DynamoDB tenant registry on dynalite, and an in-memory publisher
 * standing in for the control plane's bus.
 */
import { DynamoDbTenantRegistry, tenantTableDefinition } from '../../adapters/dynamodb/dynamodb-tenant-registry';
import { applyNotification, type IntakeLog } from '../../core/marketplace/intake-apply';
import { processAgreementEvent } from '../../core/marketplace/intake-eventbridge';
import { processSubscriptionBatch, type SqsRecordLike } from '../../core/marketplace/intake-sqs';
import { deriveTenantId, type EventIdentity, type MarketplaceIdentity } from '../../core/marketplace/identity';
import { parseSqsMessage } from '../../core/marketplace/notification-parsers';
import type { ControlPlaneEvent, EventPublisher } from '../../core/marketplace/control-plane-events';
import { DETAIL_TYPES } from '../../core/marketplace/subscription-effects';
import { registerTenant } from '../../core/marketplace/subscription-lifecycle';
import { registrationSchema, type Tenant } from '../../core/marketplace/tenant';
import { TenantVersionConflict, type OutboxEvent, type TenantRegistry, type VersionedTenant } from '../../core/marketplace/tenant-registry';
import { startLocalDynamoDb, type LocalDynamoDb } from '../../local/dynamodb/local-dynamodb';

const NOW = Date.UTC(2025, 5, 1, 14);
const PRODUCT = 'a1b2c3d4e5f6g7h8i9j0k1l2m';
const CUSTOMER = 'QxU3mZk8pWd';
const SUBSCRIPTION_TOPIC = `arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-${PRODUCT}`;
const ENTITLEMENT_TOPIC = `arn:aws:sns:us-east-1:287250355862:aws-mp-entitlement-notification-${PRODUCT}`;
const LEGACY: MarketplaceIdentity = { kind: 'customer-identifier', customerIdentifier: CUSTOMER, productCode: PRODUCT };
const BUYER = '111122223333';
const AGREEMENT = 'agmt-7c2xq9example0001';
const LICENSE_ARN = 'arn:aws:license-manager::111122223333:license:l-0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const REGISTRATION = registrationSchema.parse({ companyName: 'Example Ltd', contactPerson: 'Jane Doe', contactEmail: 'jane@example.com', contactPhone: '+44 20 7946 0000', tier: 'Basic' });

class MemoryPublisher implements EventPublisher {
  readonly published: ControlPlaneEvent[] = [];
  async publish(events: readonly ControlPlaneEvent[]): Promise<void> {
    this.published.push(...events);
  }
  of(detailType: string): (string | undefined)[] {
    return this.published.filter((e) => e.detailType === detailType).map((e) => e.detail.eventId);
  }
}

const log: IntakeLog & { errors: unknown[] } = { errors: [], info: () => undefined, warn: () => undefined, error: (message, attributes) => void log.errors.push({ message, attributes }) };

/** An SQS record carrying a legacy notification in its SNS envelope (each SQS delivery has its own message id). */
let deliveries = 0;
function snsRecord(snsId: string, action: string, timestamp: string, extra: Record<string, unknown> = {}): SqsRecordLike {
  const topic = action === 'entitlement-updated' ? ENTITLEMENT_TOPIC : SUBSCRIPTION_TOPIC;
  const message = { action, 'customer-identifier': CUSTOMER, 'product-code': PRODUCT, ...extra };
  const body = JSON.stringify({ Type: 'Notification', MessageId: snsId, TopicArn: topic, Message: JSON.stringify(message), Timestamp: timestamp, SignatureVersion: '1', Signature: 'c2ln', SigningCertURL: 'https://sns.us-east-1.amazonaws.com/cert.pem' });
  deliveries += 1;
  return { messageId: `sqs-${deliveries}`, body, attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.parse(timestamp) + 50) } };
}

function agreementEvent(id: string, detailType: string, time: string, agreement: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '0', id, 'detail-type': detailType, source: 'aws.agreement-marketplace', account: '444455556666', time, region: 'us-east-1', resources: [`arn:aws:aws-marketplace::aws:agreement:${AGREEMENT}`],
    detail: { requestId: `req-${id}`, catalog: 'AWSMarketplace', agreement: { id: AGREEMENT, intent: 'NEW', status: 'ACTIVE', ...agreement }, resaleAuthorization: null, acceptor: { accountId: BUYER }, proposer: { accountId: '444455556666' }, offer: { id: 'offer-3kq7example2y' }, product: { id: 'prod-4example7q2' } },
  };
}

function licenseEvent(id: string, detailType: string, time: string): Record<string, unknown> {
  return {
    version: '0', id, 'detail-type': detailType, source: 'aws.agreement-marketplace', account: '444455556666', time, region: 'us-east-1', resources: [],
    // The seller guide's example prints the licence ARN without its leading "arn:".
    detail: { requestId: `req-${id}`, catalog: 'AWSMarketplace', agreement: { id: AGREEMENT }, product: { code: PRODUCT, id: 'prod-4example7q2' }, license: { arn: LICENSE_ARN.replace(/^arn:/, '') }, acceptor: { accountId: BUYER }, proposer: { accountId: '444455556666' }, offer: { id: 'offer-3kq7example2y' } },
  };
}

/** A tenant without the fields that legitimately differ between orders of application. */
function comparable(tenant: Tenant | undefined): unknown {
  if (tenant === undefined) return undefined;
  const { appliedEventIds, updatedAt: _updatedAt, createdAt: _createdAt, ...rest } = tenant;
  return { ...rest, appliedEventIds: [...appliedEventIds].sort() };
}

let dynamo: LocalDynamoDb;
let tables = 0;
beforeAll(async () => { dynamo = await startLocalDynamoDb(); });
afterAll(async () => { await dynamo.close(); });

async function newRegistry(): Promise<DynamoDbTenantRegistry> {
  const table = `tenants-i${++tables}`;
  await dynamo.createTable(tenantTableDefinition(table));
  return new DynamoDbTenantRegistry(dynamo.client, table);
}

async function register(registry: TenantRegistry, identity: MarketplaceIdentity, at: number): Promise<void> {
  const existing = await registry.findByIdentity(identity);
  const { tenant } = registerTenant(existing?.tenant, REGISTRATION, identity, at);
  await registry.save(tenant!, existing?.version);
}

describe('legacy SNS notifications through SQS', () => {
  // A buyer registers, subscribes, gets an entitlement update, leaves, and comes back.
  const subscribed = () => snsRecord('sns-0001', 'subscribe-success', '2025-06-01T12:00:00.000Z', { 'offer-identifier': 'offer-a', isFreeTrialTermPresent: 'true' });
  const entitlement = () => snsRecord('sns-0002', 'entitlement-updated', '2025-06-01T12:10:00.000Z');
  const pending = () => snsRecord('sns-0003', 'unsubscribe-pending', '2025-06-01T12:30:00.000Z');
  const cancelled = () => snsRecord('sns-0004', 'unsubscribe-success', '2025-06-01T12:40:00.000Z');
  const resubscribed = () => snsRecord('sns-0005', 'subscribe-success', '2025-06-01T13:00:00.000Z', { 'offer-identifier': 'offer-b', isFreeTrialTermPresent: 'false' });

  it('delivered twice and out of order, ends in the same tenant as in order, announcing each subscription once', async () => {
    const inOrder = await newRegistry();
    const inOrderBus = new MemoryPublisher();
    await register(inOrder, LEGACY, NOW - 3_600_000);
    for (const record of [subscribed(), entitlement(), pending(), cancelled(), resubscribed()]) {
      expect(await processSubscriptionBatch([record], { registry: inOrder, publisher: inOrderBus, log, now: () => NOW })).toEqual({ batchItemFailures: [] });
    }

    const shuffled = await newRegistry();
    const bus = new MemoryPublisher();
    await register(shuffled, LEGACY, NOW - 3_600_000);
    const batches = [
      [subscribed(), subscribed()],
      [cancelled(), pending(), entitlement()],
      [resubscribed(), pending(), subscribed(), cancelled()],
      [resubscribed(), cancelled(), pending(), entitlement(), subscribed()],
    ];
    for (const records of batches) {
      expect(await processSubscriptionBatch(records, { registry: shuffled, publisher: bus, log, now: () => NOW })).toEqual({ batchItemFailures: [] });
    }

    const tenantId = deriveTenantId(LEGACY);
    const expected = (await inOrder.get(tenantId))!.tenant;
    const actual = (await shuffled.get(tenantId))!.tenant;
    expect(comparable(actual)).toEqual(comparable(expected));
    expect(actual).toMatchObject({ state: 'active', entitlement: { offerId: 'offer-b', freeTrial: false }, lastStatusEvent: { eventId: 'sns:sns-0005', kind: 'subscribed' } });
    expect(actual.appliedEventIds).toHaveLength(5);

    expect(inOrderBus.of(DETAIL_TYPES.newSubscriber)).toEqual(['sns:sns-0001', 'sns:sns-0005']);
    expect(bus.of(DETAIL_TYPES.newSubscriber)).toEqual(['sns:sns-0001', 'sns:sns-0005']);
    // Whatever was published, no event id is announced twice with the same detail-type.
    const keys = bus.published.map((e) => `${e.detailType}|${e.detail.eventId}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(bus.published.every((e) => e.detail.tenantId === tenantId && e.detail.eventId !== undefined)).toBe(true);
    expect(log.errors).toEqual([]);
  });

  it('keeps a tenant that subscribes before registering pending (nothing announced) until the registration activates it', async () => {
    const registry = await newRegistry();
    const bus = new MemoryPublisher();
    await processSubscriptionBatch([subscribed(), entitlement()], { registry, publisher: bus, log, now: () => NOW });
    const before = (await registry.get(deriveTenantId(LEGACY)))!;
    expect(before.tenant.state).toBe('pending_registration');
    expect(before.tenant.registeredAt).toBeUndefined();
    expect(bus.published).toEqual([]);
    await register(registry, LEGACY, NOW);
    expect((await registry.get(deriveTenantId(LEGACY)))!.tenant.state).toBe('active');
  });
});

describe('EventBridge agreement and licence events', () => {
  const identity: MarketplaceIdentity = { kind: 'license', customerAWSAccountId: BUYER, licenseArn: LICENSE_ARN, productCode: PRODUCT, agreementId: AGREEMENT };

  it('creates a tenant with the licence identity, finds it again by agreement, and follows it to cancellation', async () => {
    const registry = await newRegistry();
    const bus = new MemoryPublisher();
    const deps = { registry, publisher: bus, log, now: () => NOW };

    // Created arrives first: no tenant yet, so it is ignored (the licence event creates the tenant).
    await expect(processAgreementEvent(agreementEvent('ev-created', 'Purchase Agreement Created - Manufacturer', '2025-06-01T12:00:05Z'), deps)).resolves.toMatchObject({ saved: false, effects: ['ignore'] });
    const created = await processAgreementEvent(licenseEvent('ev-license', 'License Updated - Manufacturer', '2025-06-01T12:00:07Z'), deps);
    const tenantId = deriveTenantId(identity);
    expect(created).toMatchObject({ tenantId, state: 'pending_registration', saved: true, effects: ['refresh_entitlements'] });
    expect((await registry.get(tenantId))!.tenant.identity).toEqual(identity);

    // The registration page (ResolveCustomer returns the full ARN and, during the migration, the legacy id).
    await register(registry, { kind: 'license', customerAWSAccountId: BUYER, licenseArn: LICENSE_ARN, productCode: PRODUCT, customerIdentifier: CUSTOMER }, NOW);
    expect((await registry.get(tenantId))!.tenant.state).toBe('active');

    // The agreement events reach the tenant through its agreement id.
    await expect(processAgreementEvent(agreementEvent('ev-amended', 'Purchase Agreement Amended - Manufacturer', '2025-06-01T12:20:00Z', { intent: 'AMEND' }), deps)).resolves.toMatchObject({ tenantId, effects: ['refresh_entitlements'] });
    await expect(processAgreementEvent(agreementEvent('ev-ended', 'Purchase Agreement Ended - Manufacturer', '2025-06-01T12:30:00Z', { status: 'CANCELLED' }), deps)).resolves.toMatchObject({ tenantId, state: 'unsubscribe_pending', published: [DETAIL_TYPES.unsubscribePending] });
    await expect(processAgreementEvent(licenseEvent('ev-deprov', 'License Deprovisioned - Manufacturer', '2025-06-01T13:30:00Z'), deps)).resolves.toMatchObject({ tenantId, state: 'cancelled', published: [DETAIL_TYPES.endOfSubscription], effects: ['publish', 'offboard'] });
    // A legacy notification for the same buyer reaches the same tenant through the customer identifier.
    const legacyDuplicate = parseSqsMessage(snsRecord('sns-late', 'unsubscribe-success', '2025-06-01T13:30:01.000Z'));
    if (!legacyDuplicate.ok) throw new Error(legacyDuplicate.reason);
    await expect(applyNotification(registry, legacyDuplicate.event, NOW, bus, log)).resolves.toMatchObject({ tenantId, state: 'cancelled', published: [] });
    expect(bus.published.map((e) => e.detail.eventId)).toEqual(['eventbridge:ev-ended', 'eventbridge:ev-deprov']);
  });

  it('defers an agreement that ended before its licence event, and applies it on the retry after the licence event', async () => {
    const registry = await newRegistry();
    const deps = { registry, publisher: new MemoryPublisher(), log, now: () => NOW };
    const ended = agreementEvent('ev-ended-early', 'Purchase Agreement Ended - Manufacturer', '2025-06-01T12:30:00Z', { status: 'EXPIRED' });
    await expect(processAgreementEvent(ended, deps)).rejects.toMatchObject({ name: 'DeferNotification' });
    await processAgreementEvent(licenseEvent('ev-license', 'License Updated - Manufacturer', '2025-06-01T12:00:07Z'), deps);
    await expect(processAgreementEvent(ended, deps)).resolves.toMatchObject({ state: 'unsubscribe_pending', effects: ['send_final_usage', 'publish'], published: [DETAIL_TYPES.unsubscribePending] });
  });
});

/** Holds every save of the first round until `parties` saves have arrived, so that all read the same version. */
class RacingRegistry implements TenantRegistry {
  conflicts = 0;
  private waiting: (() => void)[] = [];
  private released = false;

  constructor(private readonly inner: TenantRegistry, private readonly parties: number) {}

  get(tenantId: string): Promise<VersionedTenant | undefined> {
    return this.inner.get(tenantId);
  }

  findByIdentity(identity: EventIdentity): Promise<VersionedTenant | undefined> {
    return this.inner.findByIdentity(identity);
  }

  clearOutbox(tenantId: string, version: number): Promise<boolean> {
    return this.inner.clearOutbox(tenantId, version);
  }

  async save(tenant: Tenant, expectedVersion: number | undefined, outbox?: readonly OutboxEvent[]): Promise<number> {
    if (!this.released) {
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        if (this.waiting.length === this.parties) {
          this.released = true;
          for (const release of this.waiting) release();
        }
      });
    }
    try {
      return await this.inner.save(tenant, expectedVersion, outbox);
    } catch (error) {
      if (error instanceof TenantVersionConflict) this.conflicts += 1;
      throw error;
    }
  }
}

describe('concurrent notifications for one tenant', () => {
  it('two different events applied at once converge through version conflicts', async () => {
    const inner = await newRegistry();
    await register(inner, LEGACY, NOW - 3_600_000);
    const registry = new RacingRegistry(inner, 2);
    const bus = new MemoryPublisher();
    const event = (record: SqsRecordLike) => {
      const parsed = parseSqsMessage(record);
      if (!parsed.ok) throw new Error(parsed.reason);
      return parsed.event;
    };
    const outcomes = await Promise.all([
      applyNotification(registry, event(snsRecord('sns-a', 'subscribe-success', '2025-06-01T12:00:00.000Z', { 'offer-identifier': 'offer-a' })), NOW, bus, log),
      applyNotification(registry, event(snsRecord('sns-b', 'entitlement-updated', '2025-06-01T12:05:00.000Z')), NOW, bus, log),
    ]);
    expect(registry.conflicts).toBe(1);
    expect(outcomes.map((o) => o.conflicts).sort()).toEqual([0, 1]);
    const { tenant, version } = (await inner.get(deriveTenantId(LEGACY)))!;
    expect(version).toBe(3);
    expect([...tenant.appliedEventIds].sort()).toEqual(['sns:sns-a', 'sns:sns-b']);
    expect(tenant).toMatchObject({ state: 'active', entitlement: { offerId: 'offer-a' } });
    expect(bus.of(DETAIL_TYPES.newSubscriber)).toEqual(['sns:sns-a']);
  });

  it('two first notifications of a new customer create one tenant', async () => {
    const inner = await newRegistry();
    const registry = new RacingRegistry(inner, 2);
    const bus = new MemoryPublisher();
    const results = await Promise.all([
      processSubscriptionBatch([snsRecord('sns-c', 'subscribe-success', '2025-06-01T12:00:00.000Z')], { registry, publisher: bus, log, now: () => NOW }),
      processSubscriptionBatch([snsRecord('sns-d', 'entitlement-updated', '2025-06-01T12:00:01.000Z')], { registry, publisher: bus, log, now: () => NOW }),
    ]);
    expect(results).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    expect(registry.conflicts).toBe(1);
    const { tenant, version } = (await inner.get(deriveTenantId(LEGACY)))!;
    expect(version).toBe(2);
    expect([...tenant.appliedEventIds].sort()).toEqual(['sns:sns-c', 'sns:sns-d']);
    expect(tenant.state).toBe('pending_registration');
  });
});
