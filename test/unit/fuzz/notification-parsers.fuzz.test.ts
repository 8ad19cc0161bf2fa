/**
 * Fuzzing the AWS Marketplace notification parsers (core/marketplace/notification-parsers.ts) and the
 * two intakes built on them (intake-sqs.ts, intake-eventbridge.ts), with valid notifications of every
 * form (SNS envelope, raw delivery, EventBridge event in SQS or direct) mutated at every level — the
 * envelope, the JSON text of the SNS `Message`, the event detail — plus arbitrary, deeply nested, huge
 * and non-JSON bodies.
 *
 * Properties: the parsers never throw; a rejection has a known code (never `parser_error`) and a short
 * reason that never repeats a value; an accepted event is sound and, written back as a notification,
 * parses to the same event (round trip). Through the SQS intake every record of a batch ends in exactly
 * one logged outcome, and every record not applied or discarded is reported for redelivery (zero lost);
 * the EventBridge intake resolves or fails with its typed errors only. Run counts are in the test names
 * (numRuns; FUZZ_RUNS multiplies them, see test/support/fuzz-runs.ts).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { IntakeLog } from '../../../core/marketplace/intake-apply';
import { DeferNotification } from '../../../core/marketplace/intake-apply';
import { processAgreementEvent, UnrecognisedNotificationError } from '../../../core/marketplace/intake-eventbridge';
import { processSubscriptionBatch, type SqsRecordLike } from '../../../core/marketplace/intake-sqs';
import { AGREEMENT_EVENT_SOURCE, MAX_BODY_CHARS, parseEventBridgeEvent, parseSqsMessage, type ParsedNotification } from '../../../core/marketplace/notification-parsers';
import { INFO_EVENT_KINDS, STATUS_EVENT_KINDS, type SubscriptionEvent } from '../../../core/marketplace/subscription-event';
import { InMemoryEventPublisher } from '../../../local/registration/in-memory-event-publisher';
import { fuzzParameters, fuzzRuns } from '../../support/fuzz-runs';
import { MemoryRegistry } from '../../support/memory-tenant-registry';
import { anyJsonText, anyThing, anyValue, HUGE_TEXTS, MARKER, mutatedJsonText, mutatedValue } from './adversarial';

const NOW = Date.UTC(2025, 5, 1, 13);
const CODES = ['not_json', 'too_large', 'unknown_format', 'invalid_envelope', 'invalid_payload', 'unsupported_type', 'missing_metadata'];
const KINDS: readonly string[] = [...STATUS_EVENT_KINDS, ...INFO_EVENT_KINDS];
const VISIBLE_ID = /^[\x21-\x7e]{1,256}$/;
const ACCOUNT = /^\d{12}$/;
const LEGACY_ACTIONS = ['subscribe-success', 'subscribe-fail', 'unsubscribe-pending', 'unsubscribe-success', 'entitlement-updated'] as const;
const DETAIL_TYPES = ['Purchase Agreement Created', 'Purchase Agreement Amended', 'Purchase Agreement Ended', 'License Updated', 'License Deprovisioned'] as const;
const TOO_LARGE_BODY = 'x'.repeat(MAX_BODY_CHARS + 1);

// ---------------------------------------------------------------------------------------------
// Valid notifications (as parsed JSON, before any mutation)
// ---------------------------------------------------------------------------------------------

const time = fc.integer({ min: Date.UTC(2012, 0, 1), max: Date.UTC(2099, 0, 1) });
const isoTime = fc.tuple(time, fc.constantFrom('Z', '+02:00', '-05:30', '.123456789Z')).map(([millis, zone]) => {
  const text = new Date(millis).toISOString();
  if (zone === 'Z') return text;
  if (zone.startsWith('.')) return `${text.slice(0, 19)}${zone}`;
  const sign = zone.startsWith('-') ? -1 : 1;
  const offsetMs = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4))) * 60_000;
  return `${new Date(millis + offsetMs).toISOString().slice(0, 23)}${zone}`;
});
const productCode = fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/);
const customer = fc.oneof(fc.stringMatching(/^[A-Za-z0-9]{1,40}$/), fc.constant(MARKER));
const account = fc.stringMatching(/^\d{12}$/);
const agreementId = fc.stringMatching(/^agmt-[A-Za-z0-9_/-]{1,40}$/);

const legacyMessage = fc.record(
  {
    action: fc.constantFrom(...LEGACY_ACTIONS),
    'customer-identifier': customer,
    'product-code': productCode,
    'offer-identifier': fc.stringMatching(/^offer-[a-z0-9]{1,20}$/),
    isFreeTrialTermPresent: fc.constantFrom('true', 'false', 'TRUE', true, false),
  },
  { requiredKeys: ['action', 'customer-identifier', 'product-code'] },
);

/** A legacy notification as the queue receives it: enveloped by SNS (the Message as parsed JSON, for mutation) or raw. */
const snsEnvelope = fc.record({
  Type: fc.constant('Notification'),
  MessageId: fc.uuid(),
  TopicArn: fc.tuple(fc.constantFrom('aws-mp-subscription-notification-', 'aws-mp-entitlement-notification-', 'forward-'), productCode).map(([topic, code]) => `arn:aws:sns:us-east-1:287250355862:${topic}${code}`),
  Message: legacyMessage,
  Timestamp: isoTime,
  SignatureVersion: fc.constant('1'),
});

const licenseDetail = fc.record(
  {
    requestId: fc.uuid(),
    agreement: fc.record({ id: agreementId }),
    product: fc.record({ code: productCode, id: fc.stringMatching(/^prod-[a-z0-9]{1,20}$/) }, { requiredKeys: ['code'] }),
    license: fc.record({ arn: fc.tuple(fc.constantFrom('arn:aws:license-manager::', 'aws:license-manager::'), account, fc.stringMatching(/^[A-Za-z0-9]{1,30}$/)).map(([prefix, id, license]) => `${prefix}${id}:license:l-${license}`) }),
    acceptor: fc.record({ accountId: account }),
    offer: fc.record({ id: fc.stringMatching(/^offer-[a-z0-9]{0,20}$/) }),
  },
  { requiredKeys: ['product', 'license', 'acceptor'] },
);

const agreementDetail = fc.record(
  {
    requestId: fc.uuid(),
    agreement: fc.record(
      {
        id: agreementId,
        intent: fc.constantFrom('NEW', 'RENEW', 'REPLACE', 'AMEND'),
        status: fc.constantFrom('ACTIVE', 'CANCELLED', 'EXPIRED', 'RENEWED', 'REPLACED', 'SUPERSEDED', 'ROLLED_BACK', 'TERMINATED'),
        startTime: isoTime,
        endTime: isoTime,
        previousAgreementId: agreementId,
      },
      { requiredKeys: ['id'] },
    ),
    acceptor: fc.record({ accountId: account }),
    proposer: fc.record({ accountId: account }),
    offer: fc.record({ id: fc.stringMatching(/^offer-[a-z0-9]{1,20}$/) }),
    product: fc.record({ id: fc.stringMatching(/^prod-[a-z0-9]{1,20}$/) }),
  },
  { requiredKeys: ['agreement', 'acceptor'] },
);

const eventBridgeEvent = fc
  .tuple(fc.constantFrom(...DETAIL_TYPES), fc.constantFrom('Manufacturer', 'Proposer'), fc.uuid(), isoTime, licenseDetail, agreementDetail)
  .map(([base, role, id, at, license, agreement]) => ({
    version: '0',
    id,
    'detail-type': `${base} - ${role}`,
    source: AGREEMENT_EVENT_SOURCE,
    account: '444455556666',
    time: at,
    region: 'us-east-1',
    detail: base.startsWith('License') ? license : agreement,
  }));

/** The SQS message of a (possibly mutated) SNS envelope whose Message is kept as parsed JSON until now. */
function envelopeMessage(envelope: unknown, messageText: string): { body: string } {
  if (envelope === null || typeof envelope !== 'object' || Array.isArray(envelope)) return { body: JSON.stringify(envelope) ?? '' };
  return { body: JSON.stringify({ ...(envelope as Record<string, unknown>), Message: messageText }) };
}

/** SQS messages: valid or mutated notifications of every form, and bodies that are none. */
const sqsMessage: fc.Arbitrary<{ body?: unknown; messageId?: unknown; attributes?: unknown }> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.tuple(mutatedValue(snsEnvelope), mutatedJsonText(legacyMessage), fc.boolean()).map(([envelope, messageText, keepMessage]) => {
      const original = envelope.value as Record<string, unknown> | undefined;
      // Either the envelope's own (mutated) Message, as JSON text, or a separately mutated message text.
      const message = keepMessage && original !== null && typeof original === 'object' && 'Message' in original ? JSON.stringify(original.Message) ?? '' : messageText;
      return envelopeMessage(envelope.value, message);
    }),
  },
  { weight: 3, arbitrary: fc.tuple(mutatedJsonText(legacyMessage), fc.uuid(), time).map(([body, messageId, sent]) => ({ body, messageId, attributes: { SentTimestamp: String(sent) } })) },
  { weight: 1, arbitrary: fc.tuple(legacyMessage, mutatedValue(fc.record({ messageId: fc.uuid(), attributes: fc.record({ SentTimestamp: time.map(String) }) }))).map(([message, meta]) => ({ ...(meta.value as object), body: JSON.stringify(message) })) },
  { weight: 3, arbitrary: mutatedJsonText(eventBridgeEvent).map((body) => ({ body })) },
  { weight: 1, arbitrary: fc.tuple(snsEnvelope, fc.constantFrom('SubscriptionConfirmation', 'UnsubscribeConfirmation', 'Other')).map(([envelope, type]) => ({ body: JSON.stringify({ ...envelope, Type: type, Message: 'confirm' }) })) },
  { weight: 2, arbitrary: anyJsonText.map((body) => ({ body })) },
  { weight: 1, arbitrary: fc.constantFrom(TOO_LARGE_BODY, ...HUGE_TEXTS).map((body) => ({ body })) },
  { weight: 1, arbitrary: fc.record({ body: anyValue, messageId: anyValue, attributes: anyValue }, { requiredKeys: [] }) },
);

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

/** A rejection: a known code and a short reason that repeats no value; an acceptance: a sound event. */
function assertWellFormed(result: ParsedNotification): void {
  if (!result.ok) {
    assert.ok(CODES.includes(result.code), `unexpected code ${result.code}: ${result.reason}`);
    assert.ok(result.reason.length > 0 && result.reason.length < 400, 'a rejection has a short reason');
    assert.ok(!result.reason.includes(MARKER), `the reason repeats a value: ${result.reason}`);
    if (result.eventId !== undefined) assert.match(result.eventId, VISIBLE_ID);
    return;
  }
  const { event } = result;
  assert.ok(KINDS.includes(event.kind));
  assert.match(event.eventId, VISIBLE_ID);
  assert.ok(Number.isSafeInteger(event.occurredAt) && event.occurredAt >= Date.UTC(2012, 0, 1));
  const { identity } = event;
  if (identity.kind === 'customer-identifier') {
    assert.equal(event.source, 'sns');
    assert.equal(identity.customerIdentifier, identity.customerIdentifier.trim());
    assert.ok(identity.customerIdentifier.length > 0);
  } else {
    assert.equal(event.source, 'eventbridge');
    assert.match(identity.customerAWSAccountId, ACCOUNT);
  }
}

/** The notification an accepted event came from, written back in its source's form. */
function notificationOf(event: SubscriptionEvent): { sqs: SqsRecordLike } | { eventBridge: Record<string, unknown> } {
  const { identity, details } = event;
  const at = new Date(event.occurredAt).toISOString();
  if (identity.kind === 'customer-identifier') {
    const message = {
      action: details.origin,
      'customer-identifier': identity.customerIdentifier,
      'product-code': identity.productCode,
      ...(details.offerId === undefined ? {} : { 'offer-identifier': details.offerId }),
      ...(details.freeTrial === undefined ? {} : { isFreeTrialTermPresent: String(details.freeTrial) }),
    };
    if (details.topicArn === undefined) return { sqs: { body: JSON.stringify(message), messageId: event.eventId, attributes: { SentTimestamp: String(event.occurredAt) } } };
    return { sqs: { messageId: 'm', body: JSON.stringify({ Type: 'Notification', MessageId: event.eventId, TopicArn: details.topicArn, Message: JSON.stringify(message), Timestamp: at }) } };
  }
  const common = { ...(details.requestId === undefined ? {} : { requestId: details.requestId }), ...(details.offerId === undefined ? {} : { offer: { id: details.offerId } }) };
  const detail =
    identity.kind === 'license'
      ? {
          ...common,
          ...(identity.agreementId === undefined ? {} : { agreement: { id: identity.agreementId } }),
          product: { code: identity.productCode, ...(details.productId === undefined ? {} : { id: details.productId }) },
          license: { arn: identity.licenseArn },
          acceptor: { accountId: identity.customerAWSAccountId },
        }
      : {
          ...common,
          agreement: {
            id: identity.agreementId,
            ...(identity.previousAgreementId === undefined ? {} : { previousAgreementId: identity.previousAgreementId }),
            ...(details.agreementIntent === undefined ? {} : { intent: details.agreementIntent }),
            ...(details.agreementStatus === undefined ? {} : { status: details.agreementStatus }),
            ...(details.agreementStartsAt === undefined ? {} : { startTime: new Date(details.agreementStartsAt).toISOString() }),
            ...(details.agreementEndsAt === undefined ? {} : { endTime: new Date(details.agreementEndsAt).toISOString() }),
          },
          acceptor: { accountId: identity.customerAWSAccountId },
          ...(details.productId === undefined ? {} : { product: { id: details.productId } }),
        };
  return { eventBridge: { id: event.eventId, 'detail-type': details.origin, source: AGREEMENT_EVENT_SOURCE, time: at, detail } };
}

/** An accepted event, written back as its notification, parses to the same event. */
function assertRoundTrip(result: ParsedNotification): void {
  if (!result.ok) return;
  const source = notificationOf(result.event);
  const again = 'sqs' in source ? parseSqsMessage(source.sqs) : parseEventBridgeEvent(source.eventBridge);
  assert.deepEqual(again, result);
}

describe('the notification parsers under adversarial notifications', () => {
  const runs = fuzzRuns(2000);
  it(`never throw; reject with a known code and a reason that repeats no value; accept sound events that round-trip (numRuns ${runs})`, () => {
    fc.assert(
      fc.property(sqsMessage, (message) => {
        const result = parseSqsMessage(message);
        assertWellFormed(result);
        assertRoundTrip(result);
        assert.deepEqual(parseSqsMessage(message), result, 'parsing is deterministic');
      }),
      fuzzParameters(2000),
    );
  });

  const eventRuns = fuzzRuns(1500);
  it(`read EventBridge events handed over directly the same way, whatever the event (numRuns ${eventRuns})`, () => {
    const event = fc.oneof({ weight: 4, arbitrary: mutatedValue(eventBridgeEvent).map((mutated) => mutated.value) }, { weight: 1, arbitrary: anyThing });
    fc.assert(
      fc.property(event, (value) => {
        const result = parseEventBridgeEvent(value);
        assertWellFormed(result);
        assertRoundTrip(result);
      }),
      fuzzParameters(1500),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The intakes, with in-memory ports
// ---------------------------------------------------------------------------------------------

interface LogEntry {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly attributes: Record<string, unknown>;
}

function recordingLog(): IntakeLog & { readonly entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at = (level: LogEntry['level']) => (message: string, attributes: Record<string, unknown>) => void entries.push({ level, message, attributes });
  return { entries, info: at('info'), warn: at('warn'), error: at('error') };
}

describe('the intakes under adversarial notifications', () => {
  const runs = fuzzRuns(1000);
  it(`SQS: every record of a batch ends in exactly one logged outcome, and every one not applied or discarded is redelivered (numRuns ${runs})`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(sqsMessage, { maxLength: 6 }), async (messages) => {
        const records: SqsRecordLike[] = messages.map((message, i) => ({ ...message, messageId: `m-${i}` }));
        const log = recordingLog();
        const result = await processSubscriptionBatch(records, { registry: new MemoryRegistry(), publisher: new InMemoryEventPublisher(), log, now: () => NOW });

        const redelivered = result.batchItemFailures.map((failure) => failure.itemIdentifier);
        assert.equal(new Set(redelivered).size, redelivered.length, 'a record is reported at most once');
        for (const record of records) {
          const outcomes = log.entries.filter((entry) => entry.attributes.messageId === record.messageId && 'outcome' in entry.attributes);
          assert.equal(outcomes.length, 1, `record ${record.messageId} has exactly one outcome`);
          const { outcome, reason, code } = (outcomes[0] as LogEntry).attributes;
          const kept = outcome === 'applied' || outcome === 'discarded';
          assert.equal(redelivered.includes(record.messageId), !kept, `record ${record.messageId} (${String(outcome)}) is redelivered exactly when not applied or discarded`);
          if (outcome === 'unrecognised') {
            assert.ok(CODES.includes(code as string), `unexpected code ${String(code)}`);
            assert.ok(typeof reason === 'string' && reason.length > 0 && !reason.includes(MARKER));
          }
          // Only a parser failure would be a bug here: the in-memory ports never fail.
          assert.notEqual(outcome, 'failed', JSON.stringify(outcomes[0]));
        }
        const summary = log.entries.find((entry) => entry.message === 'notification batch processed')?.attributes;
        assert.equal(summary?.records, records.length);
        const counted = ['applied', 'discarded', 'unrecognised', 'deferred', 'failed'].reduce((sum, key) => sum + (summary?.[key] as number), 0);
        assert.equal(counted, records.length);
      }),
      fuzzParameters(1000),
    );
  });

  const eventRuns = fuzzRuns(1000);
  it(`EventBridge: an event is applied, or refused with a typed error carrying a code and a reason (numRuns ${eventRuns})`, async () => {
    const event = fc.oneof({ weight: 4, arbitrary: mutatedValue(eventBridgeEvent).map((mutated) => mutated.value) }, { weight: 2, arbitrary: eventBridgeEvent }, { weight: 1, arbitrary: anyValue });
    await fc.assert(
      fc.asyncProperty(event, async (value) => {
        const deps = { registry: new MemoryRegistry(), publisher: new InMemoryEventPublisher(), log: recordingLog(), now: () => NOW };
        try {
          const outcome = await processAgreementEvent(value, deps);
          assert.match(outcome.eventKey, /^eventbridge:[\x21-\x7e]{1,256}$/);
        } catch (error) {
          if (error instanceof UnrecognisedNotificationError) {
            assert.ok(CODES.includes(error.code), `unexpected code ${error.code}`);
            assert.ok(error.reason.length > 0 && !error.reason.includes(MARKER));
          } else {
            assert.ok(error instanceof DeferNotification, `an untyped error: ${String(error)}`);
            assert.ok(error.reason.length > 0);
          }
        }
      }),
      fuzzParameters(1000),
    );
  });
});
