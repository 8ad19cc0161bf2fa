/**
 * The subscription state machine: every transition of the table in `subscription-lifecycle.ts`
 * (table-driven), stale and duplicate notifications, registration in either order, the EventBridge
 * (agreement / licence) flow, and entitlement snapshots.
 */
import { deriveTenantId, type EventIdentity, type MarketplaceIdentity } from '../../../core/marketplace/identity';
import { DETAIL_TYPES, FINAL_USAGE_WINDOW_MS, type Effect } from '../../../core/marketplace/subscription-effects';
import type { StatusEventKind, SubscriptionEvent, SubscriptionEventDetails, SubscriptionEventKind } from '../../../core/marketplace/subscription-event';
import { applySubscriptionEvent, recordEntitlements, registerTenant, type LifecycleResult } from '../../../core/marketplace/subscription-lifecycle';
import { isBillable, MAX_APPLIED_EVENT_IDS, meteringCustomerOf, registrationSchema, type Tenant, type TenantState } from '../../../core/marketplace/tenant';

const NOW = Date.UTC(2025, 5, 1, 13);
const T = Date.UTC(2025, 5, 1, 12);
const PRODUCT = 'a1b2c3d4e5f6g7h8i9j0k1l2m';
const LEGACY: MarketplaceIdentity = { kind: 'customer-identifier', customerIdentifier: 'QxU3mZk8pWd', productCode: PRODUCT };
const BUYER = '111122223333';
const LICENSE_ARN = 'arn:aws:license-manager::111122223333:license:l-0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const LICENSE: MarketplaceIdentity = { kind: 'license', customerAWSAccountId: BUYER, licenseArn: LICENSE_ARN, productCode: PRODUCT };
const AGREEMENT = 'agmt-7c2xq9example0001';
const REGISTRATION = registrationSchema.parse({ companyName: 'Example Ltd', contactPerson: 'Jane Doe', contactEmail: 'jane@example.com', contactPhone: '+44 20 7946 0000', tier: 'Basic' });

let sequence = 0;
function event(kind: SubscriptionEventKind, occurredAt: number, options: { identity?: EventIdentity; details?: Partial<SubscriptionEventDetails>; source?: 'sns' | 'eventbridge'; eventId?: string } = {}): SubscriptionEvent {
  sequence += 1;
  return {
    kind,
    identity: options.identity ?? LEGACY,
    occurredAt,
    eventId: options.eventId ?? `evt-${String(sequence).padStart(6, '0')}`,
    source: options.source ?? 'sns',
    details: { origin: kind, ...options.details },
  };
}

function apply(tenant: Tenant | undefined, ...events: SubscriptionEvent[]): LifecycleResult {
  let result: LifecycleResult = { tenant, effects: [] };
  for (const e of events) result = applySubscriptionEvent(result.tenant, e, NOW);
  return result;
}

function must(tenant: Tenant | undefined): Tenant {
  if (tenant === undefined) throw new Error('expected a tenant');
  return tenant;
}

/** Effects as short labels: `publish:<detail-type>`, `send_final_usage`, … */
function labels(effects: readonly Effect[]): string[] {
  return effects.map((effect) => (effect.type === 'publish' ? `publish:${effect.detailType}` : effect.type));
}

/** A tenant in each state of the table, reached through the real functions; its last status notification is at T. */
const FROM: Record<string, () => Tenant | undefined> = {
  '(no tenant)': () => undefined,
  'pending_registration (not registered)': () => must(apply(undefined, event('subscribed', T)).tenant),
  'pending_registration (registered)': () => must(registerTenant(undefined, REGISTRATION, LEGACY, NOW).tenant),
  active: () => must(apply(registerTenant(undefined, REGISTRATION, LEGACY, NOW).tenant, event('subscribed', T)).tenant),
  unsubscribe_pending: () => must(apply(registerTenant(undefined, REGISTRATION, LEGACY, NOW).tenant, event('subscribed', T - 1000), event('unsubscribe_pending', T)).tenant),
  cancelled: () => must(apply(registerTenant(undefined, REGISTRATION, LEGACY, NOW).tenant, event('subscribed', T - 2000), event('unsubscribe_pending', T - 1000), event('unsubscribed', T)).tenant),
  'cancelled (not registered)': () => must(apply(undefined, event('unsubscribed', T)).tenant),
  failed: () => must(apply(registerTenant(undefined, REGISTRATION, LEGACY, NOW).tenant, event('subscribe_failed', T)).tenant),
};

const NEW = DETAIL_TYPES.newSubscriber;
const FAILED = DETAIL_TYPES.subscriptionFailed;
const PENDING = DETAIL_TYPES.unsubscribePending;
const END = DETAIL_TYPES.endOfSubscription;

/** The transition table of the module comment: from, notification (newer than the tenant's), to, effects. */
const TRANSITIONS: ReadonlyArray<[from: string, kind: StatusEventKind, to: TenantState, effects: string[]]> = [
  ['(no tenant)', 'subscribed', 'pending_registration', []],
  ['(no tenant)', 'subscribe_failed', 'failed', []],
  ['(no tenant)', 'unsubscribe_pending', 'unsubscribe_pending', ['send_final_usage']],
  ['(no tenant)', 'unsubscribed', 'cancelled', []],
  ['pending_registration (not registered)', 'subscribed', 'pending_registration', []],
  ['pending_registration (not registered)', 'subscribe_failed', 'failed', [`publish:${FAILED}`]],
  ['pending_registration (not registered)', 'unsubscribe_pending', 'unsubscribe_pending', ['send_final_usage', `publish:${PENDING}`]],
  ['pending_registration (not registered)', 'unsubscribed', 'cancelled', [`publish:${END}`]],
  ['pending_registration (registered)', 'subscribed', 'active', [`publish:${NEW}`]],
  ['pending_registration (registered)', 'subscribe_failed', 'failed', [`publish:${FAILED}`]],
  ['pending_registration (registered)', 'unsubscribe_pending', 'unsubscribe_pending', ['send_final_usage', `publish:${PENDING}`]],
  ['pending_registration (registered)', 'unsubscribed', 'cancelled', [`publish:${END}`]],
  ['active', 'subscribed', 'active', []],
  ['active', 'subscribe_failed', 'failed', [`publish:${FAILED}`]],
  ['active', 'unsubscribe_pending', 'unsubscribe_pending', ['send_final_usage', `publish:${PENDING}`]],
  ['active', 'unsubscribed', 'cancelled', [`publish:${END}`, 'offboard']],
  ['unsubscribe_pending', 'subscribed', 'active', [`publish:${NEW}`]],
  ['unsubscribe_pending', 'subscribe_failed', 'failed', [`publish:${FAILED}`]],
  ['unsubscribe_pending', 'unsubscribe_pending', 'unsubscribe_pending', ['send_final_usage']],
  ['unsubscribe_pending', 'unsubscribed', 'cancelled', [`publish:${END}`, 'offboard']],
  ['cancelled', 'subscribed', 'active', [`publish:${NEW}`]],
  ['cancelled', 'subscribe_failed', 'failed', [`publish:${FAILED}`]],
  ['cancelled', 'unsubscribe_pending', 'unsubscribe_pending', ['send_final_usage', `publish:${PENDING}`]],
  ['cancelled', 'unsubscribed', 'cancelled', []],
  ['cancelled (not registered)', 'subscribed', 'pending_registration', []],
  ['cancelled (not registered)', 'subscribe_failed', 'failed', [`publish:${FAILED}`]],
  ['cancelled (not registered)', 'unsubscribe_pending', 'unsubscribe_pending', ['send_final_usage', `publish:${PENDING}`]],
  ['cancelled (not registered)', 'unsubscribed', 'cancelled', []],
  ['failed', 'subscribed', 'active', [`publish:${NEW}`]],
  ['failed', 'subscribe_failed', 'failed', []],
  ['failed', 'unsubscribe_pending', 'unsubscribe_pending', ['send_final_usage', `publish:${PENDING}`]],
  ['failed', 'unsubscribed', 'cancelled', [`publish:${END}`]],
];

describe('transition table (a status notification newer than the tenant’s last one)', () => {
  it.each(TRANSITIONS)('%s + %s → %s %j', (from, kind, to, effects) => {
    const before = FROM[from]();
    const e = event(kind, T + 60_000);
    const { tenant, effects: actual } = applySubscriptionEvent(before, e, NOW);
    expect(must(tenant).state).toBe(to);
    expect(labels(actual)).toEqual(effects);
    expect(must(tenant).lastStatusEvent).toEqual({ kind, occurredAt: e.occurredAt, eventId: `sns:${e.eventId}` });
    expect(must(tenant).appliedEventIds.at(-1)).toBe(`sns:${e.eventId}`);
  });

  it('covers every (state, notification) pair of the table', () => {
    const covered = new Set(TRANSITIONS.map(([from, kind]) => `${from}|${kind}`));
    for (const from of Object.keys(FROM)) for (const kind of ['subscribed', 'subscribe_failed', 'unsubscribe_pending', 'unsubscribed']) expect(covered).toContain(`${from}|${kind}`);
  });

  it('gives the final-usage deadline one hour after Marketplace’s time of unsubscribe-pending', () => {
    const e = event('unsubscribe_pending', T + 60_000);
    const { effects } = applySubscriptionEvent(FROM.active(), e, NOW);
    expect(effects).toContainEqual({ type: 'send_final_usage', deadline: T + 60_000 + FINAL_USAGE_WINDOW_MS });
    expect(FINAL_USAGE_WINDOW_MS).toBe(3_600_000);
  });

  it('publishes the quick start’s fields, contact details included, on activation', () => {
    const { effects } = applySubscriptionEvent(FROM['pending_registration (registered)'](), event('subscribed', T, { details: { offerId: 'offer-abc', freeTrial: true } }), NOW);
    const publish = effects.find((effect) => effect.type === 'publish');
    expect(publish).toMatchObject({
      detailType: 'New AWS Marketplace Subscriber',
      detail: {
        tenantId: deriveTenantId(LEGACY),
        state: 'active',
        previousState: 'pending_registration',
        productCode: PRODUCT,
        customerIdentifier: 'QxU3mZk8pWd',
        companyName: 'Example Ltd',
        contactPerson: 'Jane Doe',
        contactEmail: 'jane@example.com',
        contactPhone: '+44 20 7946 0000',
        tenantTier: 'Basic',
        offerId: 'offer-abc',
        isFreeTrialTermPresent: true,
      },
    });
  });

  it('publishes a change of subscription when an active tenant’s offer changes', () => {
    const active = must(apply(FROM.active(), event('subscribed', T + 1, { details: { offerId: 'offer-1' } })).tenant);
    const { tenant, effects } = applySubscriptionEvent(active, event('subscribed', T + 2, { details: { offerId: 'offer-2' } }), NOW);
    expect(must(tenant).entitlement.offerId).toBe('offer-2');
    expect(labels(effects)).toEqual([`publish:${DETAIL_TYPES.changeOfSubscription}`]);
  });
});

describe('stale notifications (older than the tenant’s last status notification) change no state', () => {
  const STATES = Object.keys(FROM).filter((from) => from !== '(no tenant)' && from !== 'pending_registration (registered)');
  const KINDS: StatusEventKind[] = ['subscribed', 'subscribe_failed', 'unsubscribe_pending', 'unsubscribed'];
  it.each(STATES.flatMap((from) => KINDS.map((kind) => [from, kind] as const)))('%s + older %s → unchanged state, ignored', (from, kind) => {
    const before = must(FROM[from]());
    const { tenant, effects } = applySubscriptionEvent(before, event(kind, T - 3_600_000), NOW);
    expect(must(tenant).state).toBe(before.state);
    expect(must(tenant).lastStatusEvent).toEqual(before.lastStatusEvent);
    expect(labels(effects)).toEqual(['ignore']);
    expect(effects[0]).toMatchObject({ reason: expect.stringMatching(/^stale/) });
  });

  it('an unsubscribed followed by a late, older subscribed does not reactivate', () => {
    const registered = registerTenant(undefined, REGISTRATION, LEGACY, NOW).tenant;
    const { tenant } = apply(registered, event('unsubscribed', T + 10), event('subscribed', T));
    expect(must(tenant).state).toBe('cancelled');
    expect(must(tenant).subscribedAt).toBe(T);
    expect(must(tenant).cancelledAt).toBe(T + 10);
  });

  it('a newer subscribed after cancellation reactivates', () => {
    const { tenant, effects } = apply(FROM.cancelled(), event('subscribed', T + 10));
    expect(must(tenant).state).toBe('active');
    expect(labels(effects)).toEqual([`publish:${NEW}`]);
  });

  it.each([
    ['subscribed', 'unsubscribed', 'cancelled'],
    ['subscribe_failed', 'subscribed', 'active'],
    ['subscribed', 'unsubscribe_pending', 'unsubscribe_pending'],
    ['unsubscribe_pending', 'unsubscribed', 'cancelled'],
  ] as const)('at the same time, %s then %s and the reverse both end %s (later lifecycle step wins)', (a, b, state) => {
    const registered = registerTenant(undefined, REGISTRATION, LEGACY, NOW).tenant;
    const first = event(a, T);
    const second = event(b, T);
    expect(must(apply(registered, first, second).tenant).state).toBe(state);
    expect(must(apply(registered, second, first).tenant).state).toBe(state);
  });
});

describe('duplicate notifications are no-ops', () => {
  it.each(['subscribed', 'subscribe_failed', 'unsubscribe_pending', 'unsubscribed', 'entitlement_updated'] as const)('%s delivered twice: same tenant object, ignored', (kind) => {
    const e = event(kind, T + 5);
    const once = applySubscriptionEvent(FROM.active(), e, NOW);
    const twice = applySubscriptionEvent(once.tenant, e, NOW + 1000);
    expect(twice.tenant).toBe(once.tenant);
    expect(twice.effects).toEqual([{ type: 'ignore', reason: 'duplicate notification' }]);
  });

  it('ids of SNS and EventBridge never collide', () => {
    const sns = event('entitlement_updated', T, { eventId: 'same-id' });
    const bridge = event('entitlement_updated', T, { eventId: 'same-id', source: 'eventbridge' });
    const { tenant } = apply(FROM.active(), sns, bridge);
    expect(must(tenant).appliedEventIds.slice(-2)).toEqual(['sns:same-id', 'eventbridge:same-id']);
  });

  it(`remembers the last ${MAX_APPLIED_EVENT_IDS} ids; re-applying a forgotten one still changes nothing`, () => {
    const first = event('subscribed', T);
    let tenant = must(apply(registerTenant(undefined, REGISTRATION, LEGACY, NOW).tenant, first).tenant);
    for (let i = 1; i <= MAX_APPLIED_EVENT_IDS + 5; i += 1) tenant = must(apply(tenant, event('entitlement_updated', T + i)).tenant);
    expect(tenant.appliedEventIds).toHaveLength(MAX_APPLIED_EVENT_IDS);
    expect(tenant.appliedEventIds).not.toContain(`sns:${first.eventId}`);
    const again = must(applySubscriptionEvent(tenant, first, NOW).tenant);
    expect(again.state).toBe('active');
    expect(again.lastStatusEvent).toEqual(tenant.lastStatusEvent);
    expect(again.subscribedAt).toBe(tenant.subscribedAt);
  });
});

describe('notifications that do not set the status', () => {
  it.each([
    ['entitlement_updated', ['refresh_entitlements']],
    ['agreement_amended', ['refresh_entitlements']],
    ['agreement_created', []],
    ['agreement_replaced', []],
  ] as const)('%s leaves the state and yields %j', (kind, effects) => {
    const before = must(registerTenant(undefined, REGISTRATION, { ...LICENSE, agreementId: AGREEMENT }, NOW).tenant);
    const active = must(apply(before, event('subscribed', T, { identity: { ...LICENSE, agreementId: AGREEMENT }, source: 'eventbridge' })).tenant);
    const identity: EventIdentity = kind === 'entitlement_updated' ? LICENSE : { kind: 'agreement', customerAWSAccountId: BUYER, agreementId: AGREEMENT };
    const { tenant, effects: actual } = applySubscriptionEvent(active, event(kind, T + 5, { identity, source: kind === 'entitlement_updated' ? 'sns' : 'eventbridge' }), NOW);
    expect(must(tenant).state).toBe('active');
    expect(labels(actual)).toEqual(effects);
  });

  it('entitlement-updated for an unknown customer creates a pending tenant and asks for the entitlements', () => {
    const { tenant, effects } = applySubscriptionEvent(undefined, event('entitlement_updated', T), NOW);
    expect(must(tenant).state).toBe('pending_registration');
    expect(labels(effects)).toEqual(['refresh_entitlements']);
  });

  it('a notification for another customer is ignored', () => {
    const other: EventIdentity = { kind: 'customer-identifier', customerIdentifier: 'someone-else', productCode: PRODUCT };
    const before = FROM.active();
    const { tenant, effects } = applySubscriptionEvent(before, event('unsubscribed', T + 10, { identity: other }), NOW);
    expect(tenant).toBe(before);
    expect(effects).toEqual([{ type: 'ignore', reason: 'the notification is for another customer' }]);
  });

  it('a notification for another product of the same customer is ignored', () => {
    const before = FROM.active();
    const { tenant } = applySubscriptionEvent(before, event('unsubscribed', T + 10, { identity: { ...LEGACY, productCode: 'otherproduct' } }), NOW);
    expect(tenant).toBe(before);
  });
});

describe('registration', () => {
  it('before the subscription: the tenant waits in pending_registration, then becomes active', () => {
    const registered = registerTenant(undefined, REGISTRATION, LEGACY, NOW);
    expect(registered.effects).toEqual([]);
    expect(must(registered.tenant)).toMatchObject({
      tenantId: deriveTenantId(LEGACY),
      state: 'pending_registration',
      registeredAt: NOW,
      tier: 'Basic',
      contact: { companyName: 'Example Ltd', contactPerson: 'Jane Doe', contactEmail: 'jane@example.com', contactPhone: '+44 20 7946 0000' },
    });
    expect(must(registered.tenant).lastStatusEvent).toBeUndefined();
    const subscribed = applySubscriptionEvent(registered.tenant, event('subscribed', T), NOW);
    expect(must(subscribed.tenant).state).toBe('active');
    expect(labels(subscribed.effects)).toEqual([`publish:${NEW}`]);
  });

  it('after the subscription: the tenant becomes active at once', () => {
    const subscribed = must(apply(undefined, event('subscribed', T)).tenant);
    const { tenant, effects } = registerTenant(subscribed, REGISTRATION, LEGACY, NOW);
    expect(must(tenant).state).toBe('active');
    expect(labels(effects)).toEqual([`publish:${NEW}`]);
    expect(effects[0]).toMatchObject({ detail: { previousState: 'pending_registration', contactEmail: 'jane@example.com' } });
  });

  it('registering again with the same details changes nothing', () => {
    const once = registerTenant(FROM.active(), REGISTRATION, LEGACY, NOW + 5);
    const twice = registerTenant(once.tenant, REGISTRATION, LEGACY, NOW + 10);
    expect(twice.tenant).toBe(once.tenant);
    expect(twice.effects).toEqual([]);
  });

  it('registering again with new details updates them without announcing a new subscriber', () => {
    const { tenant, effects } = registerTenant(FROM.active(), { ...REGISTRATION, contactPhone: '+1 555 0100' }, LEGACY, NOW + 5);
    expect(must(tenant).contact?.contactPhone).toBe('+1 555 0100');
    expect(must(tenant).updatedAt).toBe(NOW + 5);
    expect(effects).toEqual([]);
  });

  it.each(['cancelled (not registered)', 'failed', 'unsubscribe_pending'])('a %s tenant records the details and keeps its state', (from) => {
    const before = must(FROM[from]());
    const { tenant, effects } = registerTenant(before, REGISTRATION, LEGACY, NOW);
    expect(must(tenant).state).toBe(before.state);
    expect(must(tenant).contact).toBeDefined();
    expect(effects).toEqual([]);
  });

  it('a registration for another customer is ignored', () => {
    const before = FROM.active();
    const { tenant, effects } = registerTenant(before, REGISTRATION, { ...LEGACY, customerIdentifier: 'other' }, NOW);
    expect(tenant).toBe(before);
    expect(labels(effects)).toEqual(['ignore']);
  });

  it('ResolveCustomer’s licence identity replaces the legacy one when it carries the same customer identifier', () => {
    const legacyTenant = must(apply(undefined, event('subscribed', T)).tenant);
    const { tenant } = registerTenant(legacyTenant, REGISTRATION, { ...LICENSE, customerIdentifier: 'QxU3mZk8pWd' }, NOW);
    expect(must(tenant).identity).toEqual({ ...LICENSE, customerIdentifier: 'QxU3mZk8pWd' });
    expect(must(tenant).tenantId).toBe(legacyTenant.tenantId);
    expect(must(tenant).state).toBe('active');
    // Legacy notifications still reach it.
    expect(must(apply(tenant, event('unsubscribed', T + 5)).tenant).state).toBe('cancelled');
  });

  it('validates the registration page input', () => {
    expect(registrationSchema.safeParse({ ...REGISTRATION, contactEmail: 'not-an-address' }).success).toBe(false);
    expect(registrationSchema.safeParse({ ...REGISTRATION, companyName: '  ' }).success).toBe(false);
    expect(registrationSchema.parse({ ...REGISTRATION, companyName: ' Example Ltd ' }).companyName).toBe('Example Ltd');
  });
});

describe('EventBridge flow (licence and purchase agreement)', () => {
  const withAgreement: MarketplaceIdentity = { ...LICENSE, agreementId: AGREEMENT };
  const agreement = (id = AGREEMENT, previousAgreementId?: string): EventIdentity => ({ kind: 'agreement', customerAWSAccountId: BUYER, agreementId: id, ...(previousAgreementId ? { previousAgreementId } : {}) });
  const licenseUpdated = (at: number, identity: MarketplaceIdentity = withAgreement) => event('subscribed', at, { identity, source: 'eventbridge', details: { offerId: 'offer-1', role: 'manufacturer' } });

  it('License Updated creates the tenant with its licence and asks for the entitlements', () => {
    const { tenant, effects } = applySubscriptionEvent(undefined, licenseUpdated(T), NOW);
    expect(must(tenant)).toMatchObject({ tenantId: deriveTenantId(LICENSE), identity: withAgreement, state: 'pending_registration', entitlement: { offerId: 'offer-1', freeTrial: false } });
    expect(labels(effects)).toEqual(['refresh_entitlements']);
  });

  it('a purchase-agreement event without a tenant is ignored, except Ended, which is deferred', () => {
    expect(applySubscriptionEvent(undefined, event('agreement_created', T, { identity: agreement(), source: 'eventbridge' }), NOW)).toEqual({
      tenant: undefined,
      effects: [{ type: 'ignore', reason: expect.stringMatching(/licence event creates the tenant/) }],
    });
    expect(applySubscriptionEvent(undefined, event('unsubscribe_pending', T, { identity: agreement(), source: 'eventbridge' }), NOW)).toEqual({
      tenant: undefined,
      effects: [{ type: 'defer', reason: expect.any(String) }],
    });
  });

  it('Ended opens the final-usage window, License Deprovisioned closes it', () => {
    const active = must(apply(registerTenant(undefined, REGISTRATION, LICENSE, NOW).tenant, licenseUpdated(T)).tenant);
    expect(active.state).toBe('active');
    const ended = applySubscriptionEvent(active, event('unsubscribe_pending', T + 10_000, { identity: agreement(), source: 'eventbridge' }), NOW);
    expect(must(ended.tenant).state).toBe('unsubscribe_pending');
    expect(ended.effects).toContainEqual({ type: 'send_final_usage', deadline: T + 10_000 + FINAL_USAGE_WINDOW_MS });
    const deprovisioned = applySubscriptionEvent(ended.tenant, event('unsubscribed', T + 20_000, { identity: withAgreement, source: 'eventbridge' }), NOW);
    expect(must(deprovisioned.tenant).state).toBe('cancelled');
    expect(labels(deprovisioned.effects)).toEqual([`publish:${END}`, 'offboard']);
  });

  it('an agreement event of another agreement, or of another account, does not touch the tenant', () => {
    const active = must(apply(registerTenant(undefined, REGISTRATION, LICENSE, NOW).tenant, licenseUpdated(T)).tenant);
    expect(applySubscriptionEvent(active, event('unsubscribe_pending', T + 1, { identity: agreement('agmt-other'), source: 'eventbridge' }), NOW).tenant).toBe(active);
    expect(applySubscriptionEvent(active, event('unsubscribe_pending', T + 1, { identity: { ...agreement(), customerAWSAccountId: '999999999999' } as EventIdentity, source: 'eventbridge' }), NOW).tenant).toBe(active);
  });

  it('a renewal moves the tenant to the new agreement, and the licence of the new agreement replaces the old one', () => {
    const active = must(apply(registerTenant(undefined, REGISTRATION, LICENSE, NOW).tenant, licenseUpdated(T)).tenant);
    const renewed = must(applySubscriptionEvent(active, event('agreement_created', T + 100, { identity: agreement('agmt-renewal0002', AGREEMENT), source: 'eventbridge', details: { agreementIntent: 'RENEW', offerId: 'offer-2' } }), NOW).tenant);
    expect(renewed.identity).toMatchObject({ agreementId: 'agmt-renewal0002' });
    expect(renewed.entitlement.offerId).toBe('offer-2');
    const newLicence = 'arn:aws:license-manager::111122223333:license:l-ffffffffffffffffffffffffffffffff';
    const updated = must(applySubscriptionEvent(renewed, licenseUpdated(T + 200, { ...LICENSE, licenseArn: newLicence, agreementId: 'agmt-renewal0002' }), NOW).tenant);
    expect(updated.identity).toMatchObject({ licenseArn: newLicence, agreementId: 'agmt-renewal0002' });
    expect(updated.state).toBe('active');
    expect(meteringCustomerOf(updated)).toEqual({ customerAWSAccountId: BUYER, licenseArn: newLicence });
  });

  it('keeps ResolveCustomer’s ARN text when an event spells the same licence differently', () => {
    const registered = must(registerTenant(undefined, REGISTRATION, LICENSE, NOW).tenant);
    const odd = { ...withAgreement, licenseArn: 'arn:aws:license-manager:us-east-1:111122223333:l-0a1b2c3d4e5f60718293a4b5c6d7e8f9' };
    const { tenant } = applySubscriptionEvent(registered, licenseUpdated(T, odd), NOW);
    expect(must(tenant).identity).toMatchObject({ licenseArn: LICENSE_ARN, agreementId: AGREEMENT });
    expect(must(tenant).state).toBe('active');
  });
});

describe('entitlement snapshots', () => {
  const snapshot = (asOf: number, quantity: number) => ({ asOf, dimensions: [{ dimension: 'Users', quantity }, { dimension: 'Admins', quantity: 1 }] });

  it('records the dimensions (sorted) and publishes a change for an active tenant', () => {
    const { tenant, effects } = recordEntitlements(must(FROM.active()), snapshot(T, 10), NOW);
    expect(must(tenant).entitlement).toMatchObject({ dimensions: [{ dimension: 'Admins', quantity: 1 }, { dimension: 'Users', quantity: 10 }], dimensionsAsOf: T });
    expect(labels(effects)).toEqual([`publish:${DETAIL_TYPES.changeOfSubscription}`]);
  });

  it('ignores an older snapshot, and publishes nothing when nothing changed', () => {
    const recorded = must(recordEntitlements(must(FROM.active()), snapshot(T, 10), NOW).tenant);
    expect(labels(recordEntitlements(recorded, snapshot(T - 1, 20), NOW).effects)).toEqual(['ignore']);
    expect(recordEntitlements(recorded, snapshot(T + 1, 10), NOW).effects).toEqual([]);
  });

  it('publishes nothing for a tenant that is not active', () => {
    expect(recordEntitlements(must(FROM['pending_registration (not registered)']()), snapshot(T, 10), NOW).effects).toEqual([]);
  });
});

describe('tenant helpers', () => {
  it.each([
    ['pending_registration (registered)', false],
    ['active', true],
    ['unsubscribe_pending', true],
    ['cancelled', false],
    ['failed', false],
  ])('a %s tenant is billable: %s', (from, billable) => {
    expect(isBillable(must(FROM[from]()))).toBe(billable);
  });

  it('meters a legacy tenant by customer identifier only', () => {
    expect(meteringCustomerOf(must(FROM.active()))).toEqual({ customerIdentifier: 'QxU3mZk8pWd' });
  });

  it('derives the same tenant id from the same identity', () => {
    expect(deriveTenantId(LICENSE)).toBe(deriveTenantId({ ...LICENSE, agreementId: AGREEMENT }));
    expect(deriveTenantId(LICENSE)).toMatch(/^mp-[0-9a-f]{24}$/);
    expect(deriveTenantId(LICENSE)).not.toBe(deriveTenantId(LEGACY));
  });
});
