/**
 * The SQS intake of AWS Marketplace notifications: the queue subscribed to the legacy SNS topics
 * (`aws-mp-subscription-notification-<productCode>`, `aws-mp-entitlement-notification-<productCode>`;
 * raw message delivery or not) — an EventBridge rule may target it too. One Lambda invocation gets a
 * batch; the answer is a partial batch response (the event source mapping must have
 * `ReportBatchItemFailures`), so only the records listed in `batchItemFailures` are delivered again.
 *
 * Per record ({@link processSubscriptionBatch}), in order, one at a time:
 * - parsed and applied ({@link applyNotification}), duplicates and ignored notifications included →
 *   success (deleted);
 * - deferred by the lifecycle, or any error (registry, publisher, lost races) → failure: retried after
 *   the visibility timeout, and kept by the dead-letter queue after the redrive policy's
 *   `maxReceiveCount`;
 * - unrecognised (any parser code) → failure, logged with its code, reason and SQS message id — never
 *   the body — so it ends up in the dead-letter queue for inspection, never silently deleted;
 * - except SNS `SubscriptionConfirmation` / `UnsubscribeConfirmation` messages (code
 *   `unsupported_type`; the type is read from the envelope here): success with a warning. They are not
 *   notifications; a queue subscribed to the Marketplace topics by its own account is confirmed without
 *   one, so a confirmation means a subscription made some other way: re-subscribe from the queue's
 *   account (sns:Subscribe) rather than follow a URL from a message body — the function never does. An
 *   unknown Marketplace `action` is *not* excepted: it goes to the dead-letter queue.
 *
 * Records are processed one after another: Marketplace sends few notifications, and two records of one
 * tenant in a batch would otherwise only race each other. The queue is a standard queue (SNS
 * standard topics cannot deliver to FIFO queues), so order does not matter: the lifecycle is
 * order-independent.
 */
import { applyNotification, DeferNotification, describeError, type IntakeDependencies } from './intake-apply';
import { parseSqsMessage, type SqsMessageLike, type UnrecognisedNotification } from './notification-parsers';

/** An SQS record as Lambda delivers it (the parts read here). */
export interface SqsRecordLike extends SqsMessageLike {
  readonly messageId: string;
}

/** The partial batch response of an SQS event source mapping. */
export interface SqsBatchResult {
  readonly batchItemFailures: { readonly itemIdentifier: string }[];
}

/** What happened to one record. */
export type RecordOutcome = 'applied' | 'discarded' | 'unrecognised' | 'deferred' | 'failed';

/** SNS messages that are not notifications, acknowledged without being applied. */
export type SnsControlMessageType = 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';

const SNS_CONTROL_TYPES: readonly string[] = ['SubscriptionConfirmation', 'UnsubscribeConfirmation'] satisfies SnsControlMessageType[];

/** Processes a batch (see the module comment); never throws — failures are listed for redelivery. */
export async function processSubscriptionBatch(records: readonly SqsRecordLike[], deps: IntakeDependencies): Promise<SqsBatchResult> {
  const batchItemFailures: { itemIdentifier: string }[] = [];
  const counts: Record<RecordOutcome, number> = { applied: 0, discarded: 0, unrecognised: 0, deferred: 0, failed: 0 };
  for (const record of records) {
    const outcome = await processRecord(record, deps);
    counts[outcome] += 1;
    if (outcome !== 'applied' && outcome !== 'discarded') batchItemFailures.push({ itemIdentifier: record.messageId });
  }
  deps.log.info('notification batch processed', { records: records.length, ...counts });
  return { batchItemFailures };
}

async function processRecord(record: SqsRecordLike, deps: IntakeDependencies): Promise<RecordOutcome> {
  const { log } = deps;
  const messageId = record.messageId;
  const receiveCount = receiveCountOf(record);
  const parsed = parseSqsMessage(record);
  if (!parsed.ok) {
    const controlType = parsed.code === 'unsupported_type' && parsed.source === 'sns' ? snsControlMessageType(record.body) : undefined;
    if (controlType !== undefined) {
      log.warn('SNS control message acknowledged without action: re-subscribe the queue from its own account if notifications stop', { outcome: 'discarded', snsType: controlType, messageId, ...idOf(parsed) });
      return 'discarded';
    }
    log.error('unrecognised Marketplace notification: reported as failed so that it ends in the dead-letter queue', {
      outcome: 'unrecognised',
      code: parsed.code,
      reason: parsed.reason,
      messageId,
      ...(parsed.source === undefined ? {} : { source: parsed.source }),
      ...idOf(parsed),
      ...(receiveCount === undefined ? {} : { receiveCount }),
    });
    return 'unrecognised';
  }
  const { event } = parsed;
  try {
    const outcome = await applyNotification(deps.registry, event, (deps.now ?? Date.now)(), deps.publisher, log);
    log.info('notification applied', { outcome: 'applied', messageId, ...outcome });
    return 'applied';
  } catch (error) {
    const context = { messageId, eventKey: `${event.source}:${event.eventId}`, kind: event.kind, ...(receiveCount === undefined ? {} : { receiveCount }) };
    if (error instanceof DeferNotification) {
      log.warn('notification deferred: it is delivered again after the visibility timeout', { outcome: 'deferred', ...context, reason: error.reason });
      return 'deferred';
    }
    log.error('notification not applied: it is delivered again after the visibility timeout', { outcome: 'failed', ...context, ...describeError(error) });
    return 'failed';
  }
}

/** The SNS `Type` of a body that is an SNS confirmation message, else undefined. Reads only `Type`. */
export function snsControlMessageType(body: unknown): SnsControlMessageType | undefined {
  if (typeof body !== 'string') return undefined;
  try {
    const json = JSON.parse(body) as unknown;
    const type = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as { Type?: unknown }).Type : undefined;
    return typeof type === 'string' && SNS_CONTROL_TYPES.includes(type) ? (type as SnsControlMessageType) : undefined;
  } catch {
    return undefined;
  }
}

function idOf(parsed: UnrecognisedNotification): { eventId?: string } {
  return parsed.eventId === undefined ? {} : { eventId: parsed.eventId };
}

function receiveCountOf(record: SqsRecordLike): number | undefined {
  const attributes = record.attributes;
  const value = typeof attributes === 'object' && attributes !== null ? (attributes as { ApproximateReceiveCount?: unknown }).ApproximateReceiveCount : undefined;
  const count = typeof value === 'string' ? Number(value) : value;
  return typeof count === 'number' && Number.isSafeInteger(count) ? count : undefined;
}
