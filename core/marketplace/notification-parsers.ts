/**
 * Parses AWS Marketplace subscription notifications into one {@link SubscriptionEvent}, whichever way
 * they arrive:
 * - an SQS message whose body is an SNS envelope of the legacy topics
 *   (`aws-mp-subscription-notification-<productCode>`, `aws-mp-entitlement-notification-<productCode>`),
 * - an SQS message whose body is the legacy message itself (SNS raw message delivery; the SQS message
 *   id and `SentTimestamp` then stand in for the SNS `MessageId` and `Timestamp`),
 * - an SQS message whose body is an EventBridge event (an EventBridge rule targeting a queue),
 * - an EventBridge event handed to a Lambda function directly ({@link parseEventBridgeEvent}).
 * Payload formats and their sources: `notification-schemas.ts`; the mapping to event kinds:
 * `subscription-event.ts`.
 *
 * Nothing here throws on bad input: anything unknown or malformed becomes an
 * {@link UnrecognisedNotification} with a reason that names fields and rules, never values (reasons are
 * logged; notifications carry customer identifiers and account ids). The `code` tells a caller whether
 * to drop the message (`unsupported_type`: a notification we deliberately do not handle) or to keep it
 * for inspection (every other code).
 */
import { canonicalLicenseArn, type EventIdentity } from './identity';
import {
  agreementDetailSchema,
  describeIssues,
  eventBridgeEnvelopeSchema,
  legacyMessageSchema,
  LEGACY_ACTIONS,
  licenseDetailSchema,
  MIN_NOTIFICATION_TIME,
  parseIsoTime,
  snsEnvelopeSchema,
  idSchema,
  type LegacyAction,
} from './notification-schemas';
import type { SubscriptionEvent, SubscriptionEventDetails, SubscriptionEventKind } from './subscription-event';

/** The largest SQS message body accepted (the SQS message size limit, 1 MiB). */
export const MAX_BODY_CHARS = 1024 * 1024;
/** The largest SNS `Message` accepted (the SNS message size limit, 256 KiB). */
export const MAX_MESSAGE_CHARS = 256 * 1024;
/** The EventBridge source of the agreement and licence events. */
export const AGREEMENT_EVENT_SOURCE = 'aws.agreement-marketplace';

/** Why a notification was not recognised. */
export type UnrecognisedCode =
  | 'not_json' // the body (or the SNS Message) is not JSON
  | 'too_large' // over the size limits
  | 'unknown_format' // JSON, but neither an SNS envelope, an EventBridge event nor a legacy message
  | 'invalid_envelope' // an SNS envelope or EventBridge event with missing or malformed fields
  | 'invalid_payload' // the Marketplace message or event detail has missing or malformed fields
  | 'unsupported_type' // well-formed, but an SNS message type, action, source or detail-type we do not handle
  | 'missing_metadata' // raw delivery without the SQS message id or SentTimestamp
  | 'parser_error'; // a bug in this module (never expected)

/** A notification that could not be turned into a {@link SubscriptionEvent}. */
export interface UnrecognisedNotification {
  readonly ok: false;
  readonly code: UnrecognisedCode;
  /** What is wrong, naming fields and rules only (safe to log). */
  readonly reason: string;
  readonly source?: 'sns' | 'eventbridge';
  /** The notification id, when it could be read (for correlation in logs). */
  readonly eventId?: string;
}

/** The result of parsing one notification. */
export type ParsedNotification = { readonly ok: true; readonly event: SubscriptionEvent } | UnrecognisedNotification;

/** The parts of an SQS message (as a Lambda SQS record has them) the parser reads. */
export interface SqsMessageLike {
  readonly body?: unknown;
  /** The SQS message id (used with raw delivery). */
  readonly messageId?: unknown;
  /** SQS system attributes; `SentTimestamp` (epoch ms, as a string) is used with raw delivery. */
  readonly attributes?: unknown;
}

/** Parses one SQS message carrying a Marketplace notification (any of the forms in the module comment). */
export function parseSqsMessage(message: SqsMessageLike): ParsedNotification {
  try {
    return parseSqsMessageUnsafe(message);
  } catch (error) {
    return unrecognised('parser_error', `unexpected ${error instanceof Error ? error.name : 'exception'} while parsing`);
  }
}

/** Parses an EventBridge event of source `aws.agreement-marketplace` (as a Lambda target receives it). */
export function parseEventBridgeEvent(event: unknown): ParsedNotification {
  try {
    return parseEventBridgeUnsafe(event);
  } catch (error) {
    return unrecognised('parser_error', `unexpected ${error instanceof Error ? error.name : 'exception'} while parsing`, 'eventbridge');
  }
}

function parseSqsMessageUnsafe(message: SqsMessageLike): ParsedNotification {
  if (typeof message !== 'object' || message === null) return unrecognised('unknown_format', 'the SQS message is not an object');
  const { body } = message;
  if (typeof body !== 'string') return unrecognised('unknown_format', 'the SQS message body is not a string');
  if (body.length > MAX_BODY_CHARS) return unrecognised('too_large', `the SQS message body is longer than ${MAX_BODY_CHARS} characters`);
  const json = parseJson(body);
  if (json === undefined) return unrecognised('not_json', 'the SQS message body is not JSON');
  if (!isObject(json)) return unrecognised('unknown_format', 'the SQS message body is not a JSON object');
  if ('Type' in json || 'TopicArn' in json) return parseSnsEnvelope(json);
  if ('detail-type' in json || 'source' in json || 'detail' in json) return parseEventBridgeUnsafe(json);
  if ('action' in json) return parseRawDelivery(json, message);
  return unrecognised('unknown_format', 'the SQS message body is neither an SNS envelope, an EventBridge event nor a Marketplace message');
}

function parseSnsEnvelope(json: Record<string, unknown>): ParsedNotification {
  const envelope = snsEnvelopeSchema.safeParse(json);
  if (!envelope.success) return unrecognised('invalid_envelope', `invalid SNS envelope: ${describeIssues(envelope.error.issues)}`, 'sns', safeId(json.MessageId));
  const { Type, MessageId, TopicArn, Message, Timestamp } = envelope.data;
  if (Type !== 'Notification') {
    const known = ['SubscriptionConfirmation', 'UnsubscribeConfirmation'].includes(Type) ? ` (${Type})` : '';
    return unrecognised('unsupported_type', `the SNS message is not a Notification${known}`, 'sns', MessageId);
  }
  if (Message.length > MAX_MESSAGE_CHARS) return unrecognised('too_large', `the SNS Message is longer than ${MAX_MESSAGE_CHARS} characters`, 'sns', MessageId);
  const payload = parseJson(Message);
  if (payload === undefined) return unrecognised('not_json', 'the SNS Message is not JSON', 'sns', MessageId);
  return legacyEvent(payload, { eventId: MessageId, occurredAt: parseIsoTime(Timestamp) as number, topicArn: TopicArn });
}

function parseRawDelivery(json: Record<string, unknown>, message: SqsMessageLike): ParsedNotification {
  const messageId = idSchema.safeParse(message.messageId);
  const attributes = isObject(message.attributes) ? message.attributes : {};
  const sent = epochMillis(attributes.SentTimestamp);
  if (!messageId.success || sent === undefined) {
    return unrecognised('missing_metadata', 'raw message delivery needs the SQS messageId and attributes.SentTimestamp', 'sns');
  }
  return legacyEvent(json, { eventId: messageId.data, occurredAt: sent });
}

interface LegacyContext {
  readonly eventId: string;
  readonly occurredAt: number;
  readonly topicArn?: string;
}

const LEGACY_KINDS: Readonly<Record<LegacyAction, SubscriptionEventKind>> = {
  'subscribe-success': 'subscribed',
  'subscribe-fail': 'subscribe_failed',
  'unsubscribe-pending': 'unsubscribe_pending',
  'unsubscribe-success': 'unsubscribed',
  'entitlement-updated': 'entitlement_updated',
};

function legacyEvent(payload: unknown, context: LegacyContext): ParsedNotification {
  const { eventId } = context;
  if (!isObject(payload)) return unrecognised('invalid_payload', 'the Marketplace message is not a JSON object', 'sns', eventId);
  if (typeof payload.action !== 'string') return unrecognised('invalid_payload', 'invalid Marketplace message: action: missing or not a string', 'sns', eventId);
  if (!(LEGACY_ACTIONS as readonly string[]).includes(payload.action)) return unrecognised('unsupported_type', 'unknown Marketplace action', 'sns', eventId);
  const parsed = legacyMessageSchema.safeParse(payload);
  if (!parsed.success) return unrecognised('invalid_payload', `invalid Marketplace message: ${describeIssues(parsed.error.issues)}`, 'sns', eventId);
  const message = parsed.data;
  const topic = topicKind(context.topicArn);
  const entitlementAction = message.action === 'entitlement-updated';
  if ((topic === 'entitlement' && !entitlementAction) || (topic === 'subscription' && entitlementAction)) {
    return unrecognised('invalid_payload', `the action does not belong to the ${topic} topic`, 'sns', eventId);
  }
  const freeTrial = message.isFreeTrialTermPresent;
  const details: SubscriptionEventDetails = {
    origin: message.action,
    ...(message['offer-identifier'] ? { offerId: message['offer-identifier'] } : {}),
    ...(freeTrial === undefined || freeTrial === null ? {} : { freeTrial: typeof freeTrial === 'boolean' ? freeTrial : freeTrial.toLowerCase() === 'true' }),
    ...(context.topicArn === undefined ? {} : { topicArn: context.topicArn }),
  };
  return {
    ok: true,
    event: {
      kind: LEGACY_KINDS[message.action],
      identity: { kind: 'customer-identifier', customerIdentifier: message['customer-identifier'], productCode: message['product-code'] },
      occurredAt: context.occurredAt,
      eventId,
      source: 'sns',
      details,
    },
  };
}

/** Which Marketplace topic an ARN names (undefined: another topic, e.g. a forwarding one). */
function topicKind(topicArn: string | undefined): 'subscription' | 'entitlement' | undefined {
  const name = topicArn?.slice(topicArn.lastIndexOf(':') + 1) ?? '';
  if (name.startsWith('aws-mp-subscription-notification-')) return 'subscription';
  if (name.startsWith('aws-mp-entitlement-notification-')) return 'entitlement';
  return undefined;
}

/** The detail-types handled, without their role suffix. */
const HANDLED_DETAIL_TYPES = ['Purchase Agreement Created', 'Purchase Agreement Amended', 'Purchase Agreement Ended', 'License Updated', 'License Deprovisioned'] as const;
type HandledDetailType = (typeof HANDLED_DETAIL_TYPES)[number];

/** Agreement statuses that end an agreement without ending the customer's purchase (renewals, replacements, revisions). */
const REPLACED_STATUSES = new Set(['RENEWED', 'REPLACED', 'SUPERSEDED', 'ROLLED_BACK']);

/** Detail-types of this source that are echoed in reasons: AWS's own names only, never free text. */
const ECHOABLE_DETAIL_TYPE = /^(?:Purchase Agreement|License|Agreement Cancellation Request) [A-Za-z ]{1,60} - (?:Manufacturer|Proposer|Acceptor)$/;

function parseEventBridgeUnsafe(value: unknown): ParsedNotification {
  if (!isObject(value)) return unrecognised('unknown_format', 'the EventBridge event is not an object', 'eventbridge');
  const envelope = eventBridgeEnvelopeSchema.safeParse(value);
  if (!envelope.success) return unrecognised('invalid_envelope', `invalid EventBridge event: ${describeIssues(envelope.error.issues)}`, 'eventbridge', safeId(value.id));
  const { id, source, time, detail } = envelope.data;
  const detailType = envelope.data['detail-type'];
  if (source !== AGREEMENT_EVENT_SOURCE) return unrecognised('unsupported_type', `the EventBridge source is not ${AGREEMENT_EVENT_SOURCE}`, 'eventbridge', id);
  const match = /^(.+) - (Manufacturer|Proposer)$/.exec(detailType);
  const base = match?.[1] as HandledDetailType | undefined;
  if (match === null || base === undefined || !HANDLED_DETAIL_TYPES.includes(base)) {
    const name = ECHOABLE_DETAIL_TYPE.test(detailType) ? ` "${detailType}"` : '';
    return unrecognised('unsupported_type', `unsupported detail-type${name}`, 'eventbridge', id);
  }
  const common = { eventId: id, occurredAt: parseIsoTime(time) as number, detailType, role: match[2] === 'Manufacturer' ? ('manufacturer' as const) : ('proposer' as const) };
  return base.startsWith('License') ? licenseEvent(base, detail, common) : agreementEvent(base, detail, common);
}

interface EventBridgeContext {
  readonly eventId: string;
  readonly occurredAt: number;
  readonly detailType: string;
  readonly role: 'manufacturer' | 'proposer';
}

function licenseEvent(base: HandledDetailType, detail: unknown, context: EventBridgeContext): ParsedNotification {
  const parsed = licenseDetailSchema.safeParse(detail);
  if (!parsed.success) return unrecognised('invalid_payload', `invalid ${context.detailType} detail: ${describeIssues(parsed.error.issues)}`, 'eventbridge', context.eventId);
  const { agreement, product, license, acceptor, offer, requestId } = parsed.data;
  const identity: EventIdentity = {
    kind: 'license',
    customerAWSAccountId: acceptor.accountId,
    licenseArn: canonicalLicenseArn(license.arn),
    productCode: product.code,
    ...(agreement ? { agreementId: agreement.id } : {}),
  };
  const details: SubscriptionEventDetails = {
    origin: context.detailType,
    role: context.role,
    ...optional('offerId', offer?.id || undefined),
    ...optional('requestId', requestId ?? undefined),
    ...optional('productId', product.id ?? undefined),
  };
  const kind: SubscriptionEventKind = base === 'License Updated' ? 'subscribed' : 'unsubscribed';
  return { ok: true, event: { kind, identity, occurredAt: context.occurredAt, eventId: context.eventId, source: 'eventbridge', details } };
}

function agreementEvent(base: HandledDetailType, detail: unknown, context: EventBridgeContext): ParsedNotification {
  const parsed = agreementDetailSchema.safeParse(detail);
  if (!parsed.success) return unrecognised('invalid_payload', `invalid ${context.detailType} detail: ${describeIssues(parsed.error.issues)}`, 'eventbridge', context.eventId);
  const { agreement, acceptor, offer, product, requestId } = parsed.data;
  const identity: EventIdentity = {
    kind: 'agreement',
    customerAWSAccountId: acceptor.accountId,
    agreementId: agreement.id,
    ...(agreement.previousAgreementId ? { previousAgreementId: agreement.previousAgreementId } : {}),
  };
  const details: SubscriptionEventDetails = {
    origin: context.detailType,
    role: context.role,
    ...optional('offerId', offer?.id || undefined),
    ...optional('requestId', requestId ?? undefined),
    ...optional('productId', product?.id ?? undefined),
    ...optional('agreementIntent', agreement.intent ?? undefined),
    ...optional('agreementStatus', agreement.status ?? undefined),
    ...optional('agreementStartsAt', agreement.startTime ? parseIsoTime(agreement.startTime) : undefined),
    ...optional('agreementEndsAt', agreement.endTime ? parseIsoTime(agreement.endTime) : undefined),
  };
  let kind: SubscriptionEventKind;
  if (base === 'Purchase Agreement Created') kind = 'agreement_created';
  else if (base === 'Purchase Agreement Amended') kind = 'agreement_amended';
  else kind = agreement.status && REPLACED_STATUSES.has(agreement.status) ? 'agreement_replaced' : 'unsubscribe_pending';
  return { ok: true, event: { kind, identity, occurredAt: context.occurredAt, eventId: context.eventId, source: 'eventbridge', details } };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function unrecognised(code: UnrecognisedCode, reason: string, source?: 'sns' | 'eventbridge', eventId?: string): UnrecognisedNotification {
  return { ok: false, code, reason, ...(source ? { source } : {}), ...(eventId ? { eventId } : {}) };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An id from unvalidated input, only if it is a well-formed id (ids are not personal data). */
function safeId(value: unknown): string | undefined {
  const parsed = idSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** SQS `SentTimestamp` (epoch ms as a string, or a number) → epoch ms, when plausible. */
function epochMillis(value: unknown): number | undefined {
  const millis = typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
  return Number.isSafeInteger(millis) && millis >= MIN_NOTIFICATION_TIME ? millis : undefined;
}
