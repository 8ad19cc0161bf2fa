/**
 * Order independence of the subscription lifecycle: realistic notification sequences — built as the
 * payloads Marketplace sends and read by the parsers — applied in every order (exhaustively) and in
 * random orders with redeliveries (fast-check; run counts in the test names) end in the tenant the
 * ordered sequence gives.
 *
 * The caller is simulated as the real one will be: it looks the tenant up by the notification's
 * identity, applies, stores the result, and puts a deferred notification back on the queue.
 */
import fc from 'fast-check';
import { identityMatches, type EventIdentity, type MarketplaceIdentity } from '../../../core/marketplace/identity';
import { parseEventBridgeEvent, parseSqsMessage, type ParsedNotification } from '../../../core/marketplace/notification-parsers';
import type { StatusEventKind, SubscriptionEvent } from '../../../core/marketplace/subscription-event';
import { applySubscriptionEvent, registerTenant, stateAfter } from '../../../core/marketplace/subscription-lifecycle';
import { registrationSchema, type Tenant } from '../../../core/marketplace/tenant';

const NOW = Date.UTC(2025, 5, 2);
const T = Date.UTC(2025, 5, 1, 12);
const PRODUCT = 'a1b2c3d4e5f6g7h8i9j0k1l2m';
const CUSTOMER = 'QxU3mZk8pWd';
const BUYER = '111122223333';
const AGREEMENT = 'agmt-7c2xq9example0001';
const LICENSE_ARN = 'arn:aws:license-manager::111122223333:license:l-0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const LEGACY: MarketplaceIdentity = { kind: 'customer-identifier', customerIdentifier: CUSTOMER, productCode: PRODUCT };
const LICENSE: MarketplaceIdentity = { kind: 'license', customerAWSAccountId: BUYER, licenseArn: LICENSE_ARN, productCode: PRODUCT };
const REGISTRATION = registrationSchema.parse({ companyName: 'Example Ltd', contactPerson: 'Jane Doe', contactEmail: 'jane@example.com', contactPhone: '+44 20 7946 0000', tier: 'Basic' });

function parsed(result: ParsedNotification): SubscriptionEvent {
  if (!result.ok) throw new Error(`fixture not recognised: ${result.reason}`);
  return result.event;
}

/** An SQS message carrying a legacy SNS notification. */
function sns(id: string, action: string, at: number, extra: Record<string, unknown> = {}): SubscriptionEvent {
  const topic = action === 'entitlement-updated' ? 'aws-mp-entitlement-notification' : 'aws-mp-subscription-notification';
  const message = { action, 'customer-identifier': CUSTOMER, 'product-code': PRODUCT, ...extra };
  const envelope = { Type: 'Notification', MessageId: id, TopicArn: `arn:aws:sns:us-east-1:287250355862:${topic}-${PRODUCT}`, Message: JSON.stringify(message), Timestamp: new Date(at).toISOString(), SignatureVersion: '1' };
  return parsed(parseSqsMessage({ body: JSON.stringify(envelope) }));
}

/** An EventBridge event of source aws.agreement-marketplace. */
function eventBridge(id: string, detailType: string, at: number, detail: Record<string, unknown>): SubscriptionEvent {
  return parsed(parseEventBridgeEvent({ version: '0', id, 'detail-type': detailType, source: 'aws.agreement-marketplace', account: '444455556666', time: new Date(at).toISOString().replace('.000', ''), region: 'us-east-1', resources: [], detail }));
}

const licenceDetail = { agreement: { id: AGREEMENT }, product: { code: PRODUCT, id: 'prod-4example7q2' }, license: { arn: LICENSE_ARN }, acceptor: { accountId: BUYER }, offer: { id: 'offer-1' } };
const agreementDetail = (agreement: Record<string, unknown>) => ({ requestId: 'r-1', agreement: { id: AGREEMENT, ...agreement }, acceptor: { accountId: BUYER }, offer: { id: 'offer-1' } });

/** A step of a sequence: a notification, or the completion of the registration page. */
type Step = { readonly notification: SubscriptionEvent } | { readonly register: MarketplaceIdentity };

/**
 * Runs steps as the caller does: one tenant store, lookup by identity, deferred notifications put back
 * at the end of the queue (until a full pass makes no progress).
 */
function run(steps: readonly Step[]): Tenant | undefined {
  let tenant: Tenant | undefined;
  const find = (identity: EventIdentity) => (tenant !== undefined && identityMatches(tenant.identity, identity) ? tenant : undefined);
  let queue = [...steps];
  let deferredInARow = 0;
  while (queue.length > 0 && deferredInARow <= queue.length) {
    const [step, ...rest] = queue;
    queue = rest;
    const result = 'register' in step ? registerTenant(find(step.register), REGISTRATION, step.register, NOW) : applySubscriptionEvent(find(step.notification.identity), step.notification, NOW);
    if (result.effects.some((effect) => effect.type === 'defer')) {
      queue.push(step);
      deferredInARow += 1;
      continue;
    }
    deferredInARow = 0;
    if (result.tenant !== undefined) tenant = result.tenant;
  }
  return tenant;
}

/** The whole tenant, with the applied ids as a set (their order is the delivery order). */
function normalised(tenant: Tenant | undefined) {
  return tenant === undefined ? undefined : { ...tenant, appliedEventIds: [...tenant.appliedEventIds].sort() };
}

/** What the tenant *is* (leaves out bookkeeping that depends on which informational events found it). */
function semantic(tenant: Tenant | undefined) {
  if (tenant === undefined) return undefined;
  const { appliedEventIds: _ids, lastEventAt: _last, fieldVersions: _versions, updatedAt: _updated, ...rest } = tenant;
  return rest;
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [items.slice()];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

const shuffled = <T>(items: readonly T[]) => fc.shuffledSubarray(items as T[], { minLength: items.length, maxLength: items.length });

describe('every order of a realistic sequence ends in the same tenant', () => {
  const legacy: Step[] = [
    { register: LEGACY },
    { notification: sns('11111111-0000-4000-8000-000000000001', 'subscribe-success', T, { 'offer-identifier': 'offer-1', isFreeTrialTermPresent: 'true' }) },
    { notification: sns('11111111-0000-4000-8000-000000000002', 'entitlement-updated', T + 60_000) },
    { notification: sns('11111111-0000-4000-8000-000000000003', 'unsubscribe-pending', T + 3_600_000) },
    { notification: sns('11111111-0000-4000-8000-000000000004', 'unsubscribe-success', T + 7_200_000) },
  ];

  it('legacy SNS: registration, subscribe, entitlement update, unsubscribe-pending, unsubscribe — all 120 orders', () => {
    const expected = run(legacy);
    expect(expected).toMatchObject({ state: 'cancelled', subscribedAt: T, unsubscribePendingAt: T + 3_600_000, cancelledAt: T + 7_200_000, entitlement: { offerId: 'offer-1', freeTrial: true }, registeredAt: NOW });
    const orders = permutations(legacy);
    expect(orders).toHaveLength(120);
    for (const order of orders) expect(normalised(run(order))).toEqual(normalised(expected));
  });

  it('legacy SNS with a re-subscription after cancellation — all 120 orders end active on the new offer', () => {
    const steps: Step[] = [
      { register: LEGACY },
      { notification: sns('22222222-0000-4000-8000-000000000001', 'subscribe-success', T, { 'offer-identifier': 'offer-1', isFreeTrialTermPresent: 'true' }) },
      { notification: sns('22222222-0000-4000-8000-000000000002', 'unsubscribe-pending', T + 1000) },
      { notification: sns('22222222-0000-4000-8000-000000000003', 'unsubscribe-success', T + 2000) },
      { notification: sns('22222222-0000-4000-8000-000000000004', 'subscribe-success', T + 86_400_000, { 'offer-identifier': 'offer-2', isFreeTrialTermPresent: 'false' }) },
    ];
    const expected = run(steps);
    expect(expected).toMatchObject({ state: 'active', entitlement: { offerId: 'offer-2', freeTrial: false }, cancelledAt: T + 2000, subscribedAt: T + 86_400_000 });
    for (const order of permutations(steps)) expect(normalised(run(order))).toEqual(normalised(expected));
  });

  it('legacy SNS: a failed subscription retried successfully — all 6 orders end active', () => {
    const steps: Step[] = [{ register: LEGACY }, { notification: sns('33333333-0000-4000-8000-000000000001', 'subscribe-fail', T) }, { notification: sns('33333333-0000-4000-8000-000000000002', 'subscribe-success', T + 5000) }];
    const expected = run(steps);
    expect(expected?.state).toBe('active');
    for (const order of permutations(steps)) expect(normalised(run(order))).toEqual(normalised(expected));
  });

  it('EventBridge: registration, Created, License Updated, Amended, Ended, License Deprovisioned — all 720 orders', () => {
    const steps: Step[] = [
      { register: LICENSE },
      { notification: eventBridge('44444444-0000-4000-8000-000000000001', 'Purchase Agreement Created - Proposer', T, agreementDetail({ intent: 'NEW', status: 'ACTIVE' })) },
      { notification: eventBridge('44444444-0000-4000-8000-000000000002', 'License Updated - Manufacturer', T + 1000, licenceDetail) },
      { notification: eventBridge('44444444-0000-4000-8000-000000000003', 'Purchase Agreement Amended - Proposer', T + 60_000, agreementDetail({ intent: 'AMEND', status: 'ACTIVE' })) },
      { notification: eventBridge('44444444-0000-4000-8000-000000000004', 'Purchase Agreement Ended - Proposer', T + 3_600_000, agreementDetail({ status: 'CANCELLED' })) },
      { notification: eventBridge('44444444-0000-4000-8000-000000000005', 'License Deprovisioned - Manufacturer', T + 7_200_000, licenceDetail) },
    ];
    const expected = run(steps);
    expect(expected).toMatchObject({ state: 'cancelled', identity: { ...LICENSE, agreementId: AGREEMENT }, subscribedAt: T + 1000, unsubscribePendingAt: T + 3_600_000, cancelledAt: T + 7_200_000 });
    const orders = permutations(steps);
    expect(orders).toHaveLength(720);
    for (const order of orders) expect(semantic(run(order))).toEqual(semantic(expected));
  });
});

describe('random histories, delivered in random order with redeliveries', () => {
  const KINDS: StatusEventKind[] = ['subscribed', 'subscribe_failed', 'unsubscribe_pending', 'unsubscribed'];
  /** Ties of time: the later lifecycle step decides (as documented in the lifecycle module). */
  const RANK: Record<StatusEventKind, number> = { subscribe_failed: 0, subscribed: 1, unsubscribe_pending: 2, unsubscribed: 3 };
  const ACTION: Record<StatusEventKind, string> = { subscribed: 'subscribe-success', subscribe_failed: 'subscribe-fail', unsubscribe_pending: 'unsubscribe-pending', unsubscribed: 'unsubscribe-success' };

  interface History {
    readonly registered: boolean;
    readonly notifications: ReadonlyArray<{ kind: StatusEventKind | 'entitlement-updated'; gap: number; offer?: string; trial?: string }>;
  }

  /** A history: notifications with non-decreasing times (gaps of 0 make ties), offers and trial flags. */
  const history: fc.Arbitrary<History> = fc.record({
    registered: fc.boolean(),
    notifications: fc.array(
      fc.record({
        kind: fc.oneof(fc.constantFrom(...KINDS), fc.constant('entitlement-updated' as const)),
        gap: fc.integer({ min: 0, max: 3 }).map((gap) => gap * 1000),
        offer: fc.option(fc.constantFrom('offer-1', 'offer-2', 'offer-3'), { nil: undefined }),
        trial: fc.option(fc.constantFrom('true', 'false'), { nil: undefined }),
      }),
      { minLength: 1, maxLength: 8 },
    ),
  });

  function steps(h: History): Step[] {
    let at = T;
    const result: Step[] = h.notifications.map((n, i) => {
      at += n.gap;
      const id = `55555555-0000-4000-8000-${String(i).padStart(12, '0')}`;
      if (n.kind === 'entitlement-updated') return { notification: sns(id, 'entitlement-updated', at) };
      const extra = n.kind === 'subscribed' ? { ...(n.offer ? { 'offer-identifier': n.offer } : {}), ...(n.trial ? { isFreeTrialTermPresent: n.trial } : {}) } : {};
      return { notification: sns(id, ACTION[n.kind], at, extra) };
    });
    return h.registered ? [{ register: LEGACY }, ...result] : result;
  }

  it('end in the tenant of the ordered history, whose state is decided by the newest status notification (numRuns 1000)', () => {
    fc.assert(
      fc.property(
        history.chain((h) => {
          const ordered = steps(h);
          const deliveries = fc.array(fc.integer({ min: 1, max: 3 }), { minLength: ordered.length, maxLength: ordered.length }).map((counts) => ordered.flatMap((step, i) => Array<Step>(counts[i]).fill(step)));
          return fc.tuple(fc.constant(h), fc.constant(ordered), deliveries.chain((all) => shuffled(all)));
        }),
        ([h, ordered, delivered]) => {
          const expected = run(ordered);
          expect(normalised(run(delivered))).toEqual(normalised(expected));
          const statuses = ordered.flatMap((step) => ('notification' in step && step.notification.kind !== 'entitlement_updated' ? [step.notification] : []));
          const newest = [...statuses].sort((a, b) => a.occurredAt - b.occurredAt || RANK[a.kind as StatusEventKind] - RANK[b.kind as StatusEventKind] || (a.eventId < b.eventId ? -1 : 1)).at(-1);
          expect(expected?.state).toBe(stateAfter(newest?.kind as StatusEventKind | undefined, h.registered));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
