/**
 * The subscription lifecycle of a Marketplace tenant: a pure state machine over normalised
 * notifications ({@link applySubscriptionEvent}), the registration page ({@link registerTenant}) and the
 * entitlements read from GetEntitlements ({@link recordEntitlements}). No I/O: every function returns
 * the new tenant and the {@link Effect}s its caller must carry out.
 *
 * ## Ordering and duplicates
 * SNS, SQS and EventBridge deliver at least once and in no guaranteed order, so:
 * - A notification whose id the tenant remembers (`appliedEventIds`) is a no-op: same tenant object,
 *   one `ignore` effect.
 * - The state is decided by the *newest* status notification (`subscribed`, `subscribe_failed`,
 *   `unsubscribe_pending`, `unsubscribed`), newest by Marketplace's time (`occurredAt`); on equal
 *   times (EventBridge times have whole seconds) the later lifecycle step wins
 *   (subscribe_failed < subscribed < unsubscribe_pending < unsubscribed), then the larger event id. A
 *   status notification older than `lastStatusEvent` is *stale*: it changes no state (an
 *   `unsubscribed` followed by a late, older `subscribed` does not reactivate) — it only updates the
 *   time of its own kind (`subscribedAt`, …: the latest time of each kind). A newer `subscribed` after
 *   cancellation does reactivate (the buyer subscribed again; the seller guide notes that a buyer who
 *   re-subscribes before `unsubscribe-success` gets `subscribe-success` instead).
 * - Offer, free-trial flag, licence ARN and agreement id are each set by the newest notification that
 *   carried them (last writer wins by time, then event id).
 * Hence applying any set of notifications in any order (and any number of times) gives the same tenant,
 * except for `appliedEventIds`' order, `updatedAt` and `createdAt` (our clock), and the effects. One
 * caveat: a purchase-agreement notification that arrives before the licence event has no tenant to
 * reach and is dropped (see below); when the licence event carries the same offer, which is the
 * documented flow, that changes only bookkeeping (`lastEventAt`, `fieldVersions`, `appliedEventIds`).
 *
 * ## Registration
 * The registration page and Marketplace's confirmation arrive in either order. The tenant is `active`
 * once it is both registered and subscribed; until then it is `pending_registration` (registered or
 * not: `registeredAt` tells). Registering an already subscribed tenant activates it; registering a
 * failed, leaving or cancelled tenant records the details and keeps the state.
 *
 * ## Transition table (a status notification newer than `lastStatusEvent`)
 * "reg" = registered. Effects in brackets; "publish X" uses {@link DETAIL_TYPES}. Nothing is published
 * for a tenant created by this very notification (the control plane does not know it yet).
 *
 * | from \ notification     | subscribed                                 | subscribe_failed       | unsubscribe_pending                                  | unsubscribed                                      |
 * |-------------------------|--------------------------------------------|------------------------|------------------------------------------------------|---------------------------------------------------|
 * | (no tenant)             | pending_registration (create)              | failed (create)        | unsubscribe_pending (create) [send_final_usage]      | cancelled (create; remembers the cancellation)    |
 * | pending_registration    | reg ? active [publish newSubscriber] : pending_registration | failed [publish subscriptionFailed] | unsubscribe_pending [send_final_usage, publish unsubscribePending] | cancelled [publish endOfSubscription] |
 * | active                  | active [publish changeOfSubscription if the offer changed] | failed [publish subscriptionFailed] | unsubscribe_pending [send_final_usage, publish unsubscribePending] | cancelled [publish endOfSubscription, offboard] |
 * | unsubscribe_pending     | reg ? active [publish newSubscriber] : pending_registration | failed [publish subscriptionFailed] | unsubscribe_pending [send_final_usage] | cancelled [publish endOfSubscription, offboard] |
 * | cancelled               | reg ? active [publish newSubscriber] : pending_registration | failed [publish subscriptionFailed] | unsubscribe_pending [send_final_usage, publish unsubscribePending] | cancelled [] |
 * | failed                  | reg ? active [publish newSubscriber] : pending_registration | failed [] | unsubscribe_pending [send_final_usage, publish unsubscribePending] | cancelled [publish endOfSubscription] |
 *
 * A `subscribed` from EventBridge (`License Updated`) also yields `refresh_entitlements`. A stale
 * status notification: state unchanged, [ignore]. Other notifications never change the state:
 * `entitlement_updated` and `agreement_amended` → [refresh_entitlements]; `agreement_created` and
 * `agreement_replaced` → [] (a renewal moves the tenant to the new agreement id). A notification that
 * knows only an agreement (purchase-agreement events) cannot create a tenant: without one it is ignored,
 * except `unsubscribe_pending` (`Purchase Agreement Ended`), which is deferred — its licence event will
 * create the tenant, and final usage must not be forgotten.
 *
 * Decisions: `send_final_usage` is repeated for every newer `unsubscribe_pending` (the window starts
 * again; sending final usage is idempotent). `offboard` only follows a state that had access (`active`,
 * `unsubscribe_pending`); a newer `subscribe_failed` for an active tenant publishes
 * `subscriptionFailed` with `previousState: 'active'` and leaves off-boarding to the control plane.
 * The final-usage deadline is counted from Marketplace's time, not ours.
 */
import { isDeepStrictEqual } from 'node:util';
import { deriveTenantId, identityMatches, licenseIdOf, type MarketplaceIdentity } from './identity';
import { DETAIL_TYPES, FINAL_USAGE_WINDOW_MS, publish, type Effect } from './subscription-effects';
import { appliedEventKey, isStatusEventKind, type StatusEventKind, type SubscriptionEvent } from './subscription-event';
import { MAX_APPLIED_EVENT_IDS, type EntitlementDimension, type EventStamp, type Registration, type Tenant, type TenantState, type VersionedField } from './tenant';

/** A tenant after a change (undefined: there was none and the input could not create one) and what to do. */
export interface LifecycleResult {
  readonly tenant: Tenant | undefined;
  readonly effects: readonly Effect[];
}

/** Order of status notifications that carry the same time: the later lifecycle step wins. */
const STATUS_RANK: Readonly<Record<StatusEventKind, number>> = { subscribe_failed: 0, subscribed: 1, unsubscribe_pending: 2, unsubscribed: 3 };

/** The tenant-time field of each status notification kind. */
const STATUS_TIME_FIELD = {
  subscribed: 'subscribedAt',
  subscribe_failed: 'subscribeFailedAt',
  unsubscribe_pending: 'unsubscribePendingAt',
  unsubscribed: 'cancelledAt',
} as const satisfies Record<StatusEventKind, keyof Tenant>;

/**
 * Applies one notification to a tenant (undefined: none found for the notification's identity). See the
 * module comment for the rules and the transition table. `now` (epoch ms) stamps `createdAt`/`updatedAt`.
 */
export function applySubscriptionEvent(tenant: Tenant | undefined, event: SubscriptionEvent, now: number): LifecycleResult {
  const key = appliedEventKey(event);
  if (tenant !== undefined) {
    if (tenant.appliedEventIds.includes(key)) return { tenant, effects: [ignore('duplicate notification')] };
    if (!identityMatches(tenant.identity, event.identity)) return { tenant, effects: [ignore('the notification is for another customer')] };
  }
  let current = tenant;
  if (current === undefined) {
    if (event.identity.kind === 'agreement') {
      return event.kind === 'unsubscribe_pending'
        ? { tenant: undefined, effects: [{ type: 'defer', reason: 'no tenant has this agreement yet: the agreement ended before its licence event arrived' }] }
        : { tenant: undefined, effects: [ignore('no tenant has this agreement: its licence event creates the tenant')] };
    }
    current = newTenant(event.identity, now);
  }
  const stamp: EventStamp = { occurredAt: event.occurredAt, eventId: key };
  const next = applyCarriedFields(recordApplied(current, key, event.occurredAt, now), event, stamp);
  if (isStatusEventKind(event.kind)) return applyStatus(tenant, next, event.kind, event, stamp);
  switch (event.kind) {
    case 'entitlement_updated':
    case 'agreement_amended':
      return { tenant: next, effects: [{ type: 'refresh_entitlements' }] };
    default:
      return { tenant: next, effects: [] };
  }
}

/**
 * Records a completed registration page: contact details, tier and the identity ResolveCustomer
 * returned. Creates the tenant when no notification has arrived yet; activates it when Marketplace has
 * already confirmed the subscription. Registering again with the same details changes nothing.
 */
export function registerTenant(tenant: Tenant | undefined, registration: Registration, identity: MarketplaceIdentity, now: number): LifecycleResult {
  if (tenant !== undefined && !identityMatches(tenant.identity, identity)) return { tenant, effects: [ignore('the registration is for another customer')] };
  const base = tenant ?? newTenant(identity, now);
  const { tier, ...contact } = registration;
  const candidate: Tenant = {
    ...base,
    identity: mergeRegisteredIdentity(base.identity, identity),
    contact,
    ...((tier ?? base.tier) === undefined ? {} : { tier: tier ?? base.tier }),
    registeredAt: base.registeredAt ?? now,
    state: stateAfter(base.lastStatusEvent?.kind, true),
  };
  if (tenant !== undefined && isDeepStrictEqual(candidate, tenant)) return { tenant, effects: [] };
  const next: Tenant = { ...candidate, updatedAt: now };
  const activated = next.state === 'active' && tenant?.state !== 'active';
  return { tenant: next, effects: activated ? [publish(DETAIL_TYPES.newSubscriber, next, tenant?.state)] : [] };
}

/** Entitlements as read from GetEntitlements, at a moment. */
export interface EntitlementSnapshot {
  readonly dimensions: readonly EntitlementDimension[];
  /** When they were read, epoch ms. */
  readonly asOf: number;
}

/**
 * Records the entitlements read after a `refresh_entitlements` effect (or at registration). A snapshot
 * older than the one recorded is ignored; a change for an active tenant is published.
 */
export function recordEntitlements(tenant: Tenant, snapshot: EntitlementSnapshot, now: number): LifecycleResult {
  const recordedAsOf = tenant.entitlement.dimensionsAsOf;
  if (recordedAsOf !== undefined && snapshot.asOf <= recordedAsOf) return { tenant, effects: [ignore('a snapshot at least as recent is already recorded')] };
  const dimensions = [...snapshot.dimensions].sort((a, b) => (a.dimension < b.dimension ? -1 : a.dimension > b.dimension ? 1 : 0));
  const changed = !isDeepStrictEqual(dimensions, tenant.entitlement.dimensions);
  const next: Tenant = { ...tenant, entitlement: { ...tenant.entitlement, dimensions, dimensionsAsOf: snapshot.asOf }, updatedAt: now };
  return { tenant: next, effects: changed && next.state === 'active' ? [publish(DETAIL_TYPES.changeOfSubscription, next, tenant.state)] : [] };
}

/** The state a tenant is in after its newest status notification (none: not confirmed yet). */
export function stateAfter(kind: StatusEventKind | undefined, registered: boolean): TenantState {
  switch (kind) {
    case undefined:
      return 'pending_registration';
    case 'subscribed':
      return registered ? 'active' : 'pending_registration';
    case 'subscribe_failed':
      return 'failed';
    case 'unsubscribe_pending':
      return 'unsubscribe_pending';
    case 'unsubscribed':
      return 'cancelled';
  }
}

function newTenant(identity: MarketplaceIdentity, now: number): Tenant {
  return {
    tenantId: deriveTenantId(identity),
    identity,
    state: 'pending_registration',
    entitlement: { freeTrial: false },
    createdAt: now,
    updatedAt: now,
    fieldVersions: {},
    appliedEventIds: [],
  };
}

function recordApplied(tenant: Tenant, key: string, occurredAt: number, now: number): Tenant {
  return {
    ...tenant,
    appliedEventIds: [...tenant.appliedEventIds, key].slice(-MAX_APPLIED_EVENT_IDS),
    lastEventAt: Math.max(tenant.lastEventAt ?? occurredAt, occurredAt),
    updatedAt: now,
  };
}

function applyStatus(before: Tenant | undefined, tenant: Tenant, kind: StatusEventKind, event: SubscriptionEvent, stamp: EventStamp): LifecycleResult {
  const timeField = STATUS_TIME_FIELD[kind];
  const timed: Tenant = { ...tenant, [timeField]: Math.max(tenant[timeField] ?? event.occurredAt, event.occurredAt) };
  const last = tenant.lastStatusEvent;
  if (last !== undefined && compareStatus({ ...stamp, kind }, last) <= 0) {
    return { tenant: timed, effects: [ignore(`stale: a newer ${last.kind} notification already decided the state`)] };
  }
  const next: Tenant = { ...timed, state: stateAfter(kind, timed.registeredAt !== undefined), lastStatusEvent: { ...stamp, kind } };
  return { tenant: next, effects: statusEffects(before, next, event, stamp.eventId) };
}

function statusEffects(before: Tenant | undefined, next: Tenant, event: SubscriptionEvent, eventKey: string): Effect[] {
  const previous = before?.state;
  const effects: Effect[] = [];
  const announce = (detailType: (typeof DETAIL_TYPES)[keyof typeof DETAIL_TYPES]) => {
    // A tenant created by this very notification is not announced: the control plane does not know it.
    if (before !== undefined) effects.push(publish(detailType, next, previous, eventKey));
  };
  switch (next.state) {
    case 'active':
      if (previous !== 'active') announce(DETAIL_TYPES.newSubscriber);
      else if (before?.entitlement.offerId !== next.entitlement.offerId) announce(DETAIL_TYPES.changeOfSubscription);
      break;
    case 'failed':
      if (previous !== 'failed') announce(DETAIL_TYPES.subscriptionFailed);
      break;
    case 'unsubscribe_pending':
      effects.push({ type: 'send_final_usage', deadline: event.occurredAt + FINAL_USAGE_WINDOW_MS });
      if (previous !== 'unsubscribe_pending') announce(DETAIL_TYPES.unsubscribePending);
      break;
    case 'cancelled':
      if (previous !== 'cancelled') announce(DETAIL_TYPES.endOfSubscription);
      if (previous === 'active' || previous === 'unsubscribe_pending') effects.push({ type: 'offboard' });
      break;
    case 'pending_registration':
      break;
  }
  if (event.kind === 'subscribed' && event.source === 'eventbridge') effects.push({ type: 'refresh_entitlements' });
  return effects;
}

/** Orders two status notifications: time, then lifecycle step, then event id. */
function compareStatus(a: EventStamp & { kind: StatusEventKind }, b: EventStamp & { kind: StatusEventKind }): number {
  if (a.occurredAt !== b.occurredAt) return a.occurredAt - b.occurredAt;
  if (a.kind !== b.kind) return STATUS_RANK[a.kind] - STATUS_RANK[b.kind];
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}

/** Whether `stamp` is newer than `current` (last writer wins by time, then event id). */
function isNewer(stamp: EventStamp, current: EventStamp | undefined): boolean {
  if (current === undefined) return true;
  return stamp.occurredAt !== current.occurredAt ? stamp.occurredAt > current.occurredAt : stamp.eventId > current.eventId;
}

/** The versioned fields a notification carries (only those present). */
function carriedFields(tenant: Tenant, event: SubscriptionEvent): Partial<{ offerId: string; freeTrial: boolean; licenseArn: string; agreementId: string }> {
  const { details, identity } = event;
  const offer = details.offerId === undefined ? {} : { offerId: details.offerId };
  switch (event.kind) {
    case 'subscribed':
      return {
        ...offer,
        ...(details.freeTrial === undefined ? {} : { freeTrial: details.freeTrial }),
        ...(identity.kind === 'license' && tenant.identity.kind === 'license'
          ? { licenseArn: identity.licenseArn, ...(identity.agreementId === undefined ? {} : { agreementId: identity.agreementId }) }
          : {}),
      };
    case 'agreement_created':
      return { ...offer, ...(identity.kind === 'agreement' && tenant.identity.kind === 'license' ? { agreementId: identity.agreementId } : {}) };
    case 'agreement_amended':
      return offer;
    default:
      return {};
  }
}

function applyCarriedFields(tenant: Tenant, event: SubscriptionEvent, stamp: EventStamp): Tenant {
  const carried = carriedFields(tenant, event);
  let next = tenant;
  for (const field of Object.keys(carried) as VersionedField[]) {
    if (!isNewer(stamp, next.fieldVersions[field])) continue;
    next = { ...setField(next, field, carried[field] as string | boolean), fieldVersions: { ...next.fieldVersions, [field]: stamp } };
  }
  return next;
}

function setField(tenant: Tenant, field: VersionedField, value: string | boolean): Tenant {
  const { identity } = tenant;
  switch (field) {
    case 'offerId':
      return { ...tenant, entitlement: { ...tenant.entitlement, offerId: value as string } };
    case 'freeTrial':
      return { ...tenant, entitlement: { ...tenant.entitlement, freeTrial: value as boolean } };
    case 'licenseArn':
      // The same licence keeps the ARN text it has (ResolveCustomer's, when the tenant registered).
      if (identity.kind !== 'license' || licenseIdOf(identity.licenseArn) === licenseIdOf(value as string)) return tenant;
      return { ...tenant, identity: { ...identity, licenseArn: value as string } };
    case 'agreementId':
      return identity.kind === 'license' ? { ...tenant, identity: { ...identity, agreementId: value as string } } : tenant;
  }
}

/** The identity of a tenant after registration with ResolveCustomer's identity (which matched it). */
function mergeRegisteredIdentity(current: MarketplaceIdentity, registered: MarketplaceIdentity): MarketplaceIdentity {
  if (registered.kind === 'customer-identifier') return current;
  if (current.kind === 'customer-identifier') return registered;
  const sameLicence = licenseIdOf(current.licenseArn) === licenseIdOf(registered.licenseArn);
  const customerIdentifier = current.customerIdentifier ?? registered.customerIdentifier;
  return {
    ...current,
    ...(sameLicence ? { licenseArn: registered.licenseArn } : {}),
    ...(customerIdentifier === undefined ? {} : { customerIdentifier }),
  };
}

function ignore(reason: string): Effect {
  return { type: 'ignore', reason };
}
