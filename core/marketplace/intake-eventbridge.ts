/**
 * The EventBridge intake of AWS Marketplace notifications: a Lambda target of a rule on the default
 * bus in us-east-1 for source `aws.agreement-marketplace` (purchase-agreement and licence events).
 *
 * EventBridge invokes the function asynchronously, so the only way to keep an event is to fail the
 * invocation: {@link processAgreementEvent} throws for an unrecognised event
 * ({@link UnrecognisedNotificationError}), a deferred one ({@link DeferNotification}) and any error,
 * after one clear log line (code, reason, event id — never the event). Lambda retries the invocation
 * (asynchronous retry attempts, with backoff), then hands the event to the function's on-failure
 * destination or dead-letter queue. A deferral (`Purchase Agreement Ended` before the licence event
 * that creates the tenant) is normally resolved by the first retry: the licence event follows within
 * moments. Duplicates (EventBridge delivers at least once, and retries repeat) are no-ops.
 */
import { applyNotification, DeferNotification, describeError, type IntakeDependencies, type IntakeOutcome } from './intake-apply';
import { parseEventBridgeEvent, type UnrecognisedCode } from './notification-parsers';

/**
 * The detail-types this intake applies, as an EventBridge rule should list them (with source
 * `aws.agreement-marketplace`): a rule on the source alone also sends events such as
 * `Agreement Cancellation Request … - Manufacturer`, which the function refuses (they then end in
 * the on-failure destination and raise its alarm). The manufacturer's copies suffice for the
 * listing's seller: the licence events are documented for the manufacturer only, and the parser
 * reads a `- Proposer` copy the same way (a seller that is also the proposer would get both).
 */
export const AGREEMENT_DETAIL_TYPES = [
  'Purchase Agreement Created - Manufacturer',
  'Purchase Agreement Amended - Manufacturer',
  'Purchase Agreement Ended - Manufacturer',
  'License Updated - Manufacturer',
  'License Deprovisioned - Manufacturer',
] as const;

/** The event could not be turned into a notification (see `notification-parsers.ts`). */
export class UnrecognisedNotificationError extends Error {
  constructor(readonly code: UnrecognisedCode, readonly reason: string, readonly eventId?: string) {
    super(`unrecognised Marketplace event (${code}): ${reason}`);
    this.name = 'UnrecognisedNotificationError';
  }
}

/**
 * Parses and applies one `aws.agreement-marketplace` event; resolves with what was done.
 *
 * @throws UnrecognisedNotificationError, DeferNotification, or the registry's / publisher's error
 */
export async function processAgreementEvent(event: unknown, deps: IntakeDependencies): Promise<IntakeOutcome> {
  const { log } = deps;
  const parsed = parseEventBridgeEvent(event);
  if (!parsed.ok) {
    log.error('unrecognised Marketplace event: the invocation fails so that it is retried, then kept by the on-failure destination', {
      outcome: 'unrecognised',
      code: parsed.code,
      reason: parsed.reason,
      ...(parsed.eventId === undefined ? {} : { eventId: parsed.eventId }),
    });
    throw new UnrecognisedNotificationError(parsed.code, parsed.reason, parsed.eventId);
  }
  const { event: notification } = parsed;
  const context = { eventKey: `${notification.source}:${notification.eventId}`, kind: notification.kind, detailType: notification.details.origin };
  try {
    const outcome = await applyNotification(deps.registry, notification, (deps.now ?? Date.now)(), deps.publisher, log);
    log.info('notification applied', { outcome: 'applied', ...outcome, detailType: notification.details.origin });
    return outcome;
  } catch (error) {
    if (error instanceof DeferNotification) {
      log.warn('notification deferred: the invocation fails so that Lambda retries it', { outcome: 'deferred', ...context, reason: error.reason });
    } else {
      log.error('notification not applied: the invocation fails so that Lambda retries it', { outcome: 'failed', ...context, ...describeError(error) });
    }
    throw error;
  }
}
