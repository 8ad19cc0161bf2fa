/**
 * Applies one parsed AWS Marketplace notification to the tenant registry and carries out what the
 * subscription lifecycle asks for — the core of both intake functions (SQS for the legacy SNS topics,
 * EventBridge for `aws.agreement-marketplace`). No AWS SDK here: the registry, the publisher and the
 * log are ports.
 *
 * Steps ({@link applyNotification}):
 * 1. Read the tenant: `findByIdentity`; when that finds none and the identity can create a tenant,
 *    also `get(deriveTenantId(identity))` — a tenant created under that id whose lookup keys do not
 *    (yet) include this one is then updated rather than created twice (the lifecycle still checks that
 *    the identity matches).
 * 2. `applySubscriptionEvent`. A `defer` effect throws {@link DeferNotification} before anything is
 *    written: the caller lets the message be delivered again later.
 * 3. Save, conditional on the version read (only when the tenant changed: a duplicate or a
 *    notification for another customer returns the same object and writes nothing). On
 *    {@link TenantVersionConflict} read again and re-apply, at most {@link MAX_CONFLICT_RETRIES} times;
 *    after that the conflict is thrown (transient: the message is retried).
 * 4. Only after the save: publish the `publish` effects (one call; each detail carries the
 *    notification's `eventId`, so a consumer drops a repeated event), then log the other effects.
 *
 * ## At-least-once publishing
 * A notification whose id the tenant remembers is a no-op for the lifecycle: once saved, a
 * redelivery publishes nothing. So a publish that fails after the save would be lost if the message
 * were simply retried. Instead, the save is *undone*: the tenant as it was read is written back,
 * conditional on the version just written, and the error is thrown; the redelivery then applies the
 * notification afresh and publishes again (a repeat of anything that did get through is harmless by
 * `eventId`). If another writer changed the tenant in between, the undo loses that race and an error
 * is logged: those events were not published. A crash between the save and the publish has the same
 * result. Only a transactional outbox (a pending-events item written with the tenant, or a DynamoDB
 * stream on the tenant table) would close this window; the registry port has neither today.
 *
 * ## Other effects
 * - `send_final_usage`: logged with its deadline. The hourly metering run sends the unsent usage of
 *   every billable tenant, and `unsubscribe_pending` tenants stay billable (`isBillable`).
 * - `offboard`: logged. It always comes with the `AWS Marketplace customer end of subscription`
 *   event, on which the control plane revokes access.
 * - `refresh_entitlements`: logged. Reading GetEntitlements (and `recordEntitlements`) is not wired
 *   into the intake.
 * - `ignore`: logged with the lifecycle's reason.
 *
 * Logs carry the tenant id, the notification key (`sns:<id>` / `eventbridge:<id>`), kinds, states
 * and detail-types — never contact details or the notification's identifiers.
 */
import { deriveTenantId, type EventIdentity } from './identity';
import type { ControlPlaneEvent, EventPublisher } from './control-plane-events';
import type { Effect, PublishedDetailType } from './subscription-effects';
import { appliedEventKey, type SubscriptionEvent, type SubscriptionEventKind } from './subscription-event';
import { applySubscriptionEvent } from './subscription-lifecycle';
import type { TenantState } from './tenant';
import { flushOutbox } from './outbox';
import { TenantVersionConflict, type TenantRegistry, type VersionedTenant } from './tenant-registry';

/** How many times a save that lost a race is retried (each time after reading the tenant again). */
export const MAX_CONFLICT_RETRIES = 3;

/** Structured logging (Powertools' Logger fits). Attributes must never hold contact details. */
export interface IntakeLog {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

/** What the intake functions talk to. */
export interface IntakeDependencies {
  readonly registry: TenantRegistry;
  readonly publisher: EventPublisher;
  readonly log: IntakeLog;
  /** @default Date.now */
  readonly now?: () => number;
}

/** The notification cannot be applied yet (the lifecycle's `defer`): deliver it again later. */
export class DeferNotification extends Error {
  constructor(readonly reason: string, readonly eventKey: string) {
    super(`notification ${eventKey} deferred: ${reason}`);
    this.name = 'DeferNotification';
  }
}

/** What applying one notification did. */
export interface IntakeOutcome {
  /** `sns:<id>` / `eventbridge:<id>`. */
  readonly eventKey: string;
  readonly kind: SubscriptionEventKind;
  /** The tenant concerned (absent: none exists and the notification could not create one). */
  readonly tenantId?: string;
  readonly previousState?: TenantState;
  readonly state?: TenantState;
  /** Whether the tenant was written (false: duplicate, stale-and-unchanged, or nothing to write). */
  readonly saved: boolean;
  /** The registry version written, when saved. */
  readonly version?: number;
  /** Detail-types published to the control plane. */
  readonly published: readonly PublishedDetailType[];
  /** Every effect type the lifecycle returned, in order. */
  readonly effects: readonly Effect['type'][];
  /** How many saves lost a race before this one succeeded. */
  readonly conflicts: number;
}

/**
 * Applies one notification (see the module comment): read, apply, save conditionally (re-read and
 * re-apply on a lost race), then publish and log the effects. `now` (epoch ms) stamps the tenant.
 *
 * @throws DeferNotification when the lifecycle defers the notification; TenantVersionConflict when the
 *   race is lost more than {@link MAX_CONFLICT_RETRIES} times; the publisher's or the registry's error.
 */
export async function applyNotification(registry: TenantRegistry, event: SubscriptionEvent, now: number, publisher: EventPublisher, log: IntakeLog = SILENT_LOG): Promise<IntakeOutcome> {
  const eventKey = appliedEventKey(event);
  for (let conflicts = 0; ; conflicts += 1) {
    const current = await readTenant(registry, event.identity);
    const { tenant, effects } = applySubscriptionEvent(current?.tenant, event, now);
    const deferred = effects.find((effect) => effect.type === 'defer');
    if (deferred !== undefined) throw new DeferNotification(deferred.reason, eventKey);

    const changed = tenant !== undefined && tenant !== current?.tenant;
    const events = effects.flatMap((effect): ControlPlaneEvent[] => (effect.type === 'publish' ? [{ detailType: effect.detailType, detail: effect.detail }] : []));
    let version: number | undefined;
    if (changed) {
      try {
        // The events go into the tenant's outbox in the same write as the change that causes them.
        version = await registry.save(tenant, current?.version, [...(current?.outbox ?? []), ...events]);
      } catch (error) {
        if (isVersionConflict(error) && conflicts < MAX_CONFLICT_RETRIES) {
          log.info('tenant changed while applying a notification; reading it again', { eventKey, tenantId: tenant.tenantId, conflicts: conflicts + 1 });
          continue;
        }
        throw error;
      }
    }

    const tenantId = tenant?.tenantId ?? current?.tenant.tenantId;
    // Publishes this change's events and any an earlier delivery saved but could not publish. If
    // publishing fails they stay in the outbox, and the redelivery of this notification publishes them.
    // (The lifecycle asks to publish only with a changed tenant, so every event went through the outbox.)
    const published = tenantId === undefined ? [] : await flushOutbox(registry, tenantId, publisher);
    for (const effect of effects) logEffect(log, effect, { eventKey, kind: event.kind, tenantId });

    return {
      eventKey,
      kind: event.kind,
      ...(tenantId === undefined ? {} : { tenantId }),
      ...(current === undefined ? {} : { previousState: current.tenant.state }),
      ...(tenant === undefined ? {} : { state: tenant.state }),
      saved: changed,
      ...(version === undefined ? {} : { version }),
      published,
      effects: effects.map((effect) => effect.type),
      conflicts,
    };
  }
}

/** The tenant the identity designates, or (for identities that can create one) the one under its derived id. */
async function readTenant(registry: TenantRegistry, identity: EventIdentity): Promise<VersionedTenant | undefined> {
  const found = await registry.findByIdentity(identity);
  if (found !== undefined || identity.kind === 'agreement') return found;
  return registry.get(deriveTenantId(identity));
}

/** Writes back the tenant as it was read, so that the redelivered notification applies (and publishes) again. */

function logEffect(log: IntakeLog, effect: Effect, context: { eventKey: string; kind: SubscriptionEventKind; tenantId: string | undefined }): void {
  switch (effect.type) {
    case 'publish':
    case 'defer':
      return;
    case 'send_final_usage':
      log.info('final usage due: the hourly metering run sends the unsent usage of this unsubscribe-pending tenant', { ...context, effect: effect.type, deadline: new Date(effect.deadline).toISOString() });
      return;
    case 'offboard':
      log.info('tenant to off-board: the control plane revokes access on the end-of-subscription event', { ...context, effect: effect.type });
      return;
    case 'refresh_entitlements':
      log.info('entitlements changed: read them again with GetEntitlements (not done by the intake)', { ...context, effect: effect.type });
      return;
    case 'ignore':
      log.info('notification ignored', { ...context, effect: effect.type, reason: effect.reason });
      return;
  }
}

function isVersionConflict(error: unknown): error is TenantVersionConflict {
  return error instanceof TenantVersionConflict || errorName(error) === 'TenantVersionConflict';
}

/**
 * An error's name and a bounded message, for logs. Identity lookup keys in the message (the registry's
 * "identity key customer:<product>:<id> already belongs to another tenant") keep only their kind.
 */
export function describeError(error: unknown): { errorName: string; errorMessage?: string } {
  const message = (error as { message?: unknown } | null)?.message;
  if (typeof message !== 'string') return { errorName: errorName(error) };
  return { errorName: errorName(error), errorMessage: message.slice(0, 300).replace(IDENTITY_KEY, '$1:[redacted]') };
}

/** A lookup key of `identity.ts` (`customer:…`, `license:…`, `agreement:…`). */
const IDENTITY_KEY = /\b(customer|license|agreement):[^\s,;]+/g;

function errorName(error: unknown): string {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : typeof error;
}

const SILENT_LOG: IntakeLog = { info: () => undefined, warn: () => undefined, error: () => undefined };
