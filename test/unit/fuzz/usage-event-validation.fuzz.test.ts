/**
 * Fuzzing POST /usage: the body as API Gateway hands it over (text or base64, valid batches, batches
 * with mutated events — fields deleted or retyped, `__proto__` keys, extreme number literals such as
 * `1e309` and `-0`, truncated JSON — arbitrary, deeply nested and oversized bodies) through
 * `parseJsonBody`, `validateUsageRequest` and `reportUsage` onto a stream that refuses some records;
 * and `validateUsageRequest` on its own with any in-memory value (bigint, symbols, null-prototype objects).
 *
 * Properties: nothing throws; a refused body has a status and a message; otherwise every event of the
 * batch ends in exactly one of accepted, rejected (with reasons that name the field and do not echo
 * large input) and failed (with a reason) — zero lost — and the status follows from that; every record
 * put on the stream is one the ingestion transform accepts, and an accepted event sent again in its
 * normalised form is accepted unchanged (idempotence). Run counts are in the test names (numRuns;
 * FUZZ_RUNS multiplies them, see test/support/fuzz-runs.ts).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { DeliveryStream, PutReport } from '../../../core/ingestion/delivery-stream';
import { MAX_FUTURE_SKEW_MILLIS } from '../../../core/ingestion/access-log-schema';
import { EVENT_ID } from '../../../core/identifiers';
import { reportUsage } from '../../../core/usage-events/report-usage';
import { usageEventRow } from '../../../core/usage-events/usage-event-record';
import { validateUsageRequest, type AcceptedUsageEvent, type UsageCaller, type UsageRequestValidation } from '../../../core/usage-events/usage-event-validation';
import { parseMeteringConfig, type MeteringConfig } from '../../../core/usage/metering-config';
import { MAX_BODY_BYTES, parseJsonBody } from '../../../functions/usage-events/request-body';
import { fuzzParameters, fuzzRuns } from '../../support/fuzz-runs';
import { anyJsonText, anyKey, anyText, anyThing, anyValue, mutatedJsonText, mutatedValue, ownObject } from './adversarial';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const MAX_EVENTS = 20;
const CONFIG: MeteringConfig = parseMeteringConfig({
  dimensions: [{ name: 'api_requests', measure: 'requests', match: { resourcePaths: ['*'] } }],
  meters: [
    { name: 'tokens', aggregation: 'SUM' },
    { name: 'active_users', aggregation: 'UNIQUE_COUNT', property: 'user_id' },
    { name: 'exports', aggregation: 'COUNT' },
    { name: 'peak', aggregation: 'MAX' },
    { name: 'storage_gb', aggregation: 'LATEST', decimals: 3 },
  ],
  usageEvents: { maxAgeHours: 3, maxFutureSeconds: 300, maxEventsPerRequest: MAX_EVENTS, maxPropertiesBytes: 300 },
  aggregation: { graceSeconds: 0, lookBackHours: 6, maxHoursPerRun: 24 },
});
const TENANT: UsageCaller = { kind: 'tenant', tenantId: 'acme' };
const BACKEND: UsageCaller = { kind: 'backend' };
/** Every reason of a rejected event names what it is about. */
const NAMES_A_FIELD = /\b(id|tenantId|meter|quantity|timestamp|properties|property|field|event)\b/;
/**
 * No reason echoes large input: texts past 40 characters are given by their length. A quantity is
 * written out as plain decimal text, which for a double takes up to about 330 digits (5e-324).
 */
const MAX_REASON_LENGTH = 1000;
const OVERSIZED_BODY = `{"events":[${'1,'.repeat(MAX_BODY_BYTES / 2)}1]}`;

// ---------------------------------------------------------------------------------------------
// Valid events
// ---------------------------------------------------------------------------------------------

const timestamp = fc.tuple(fc.integer({ min: NOW - 3 * 3_600_000, max: NOW + 300_000 }), fc.constantFrom('Z', 'z', '+01:00', '-09:30', '.123456Z')).map(([millis, zone]) => {
  const iso = new Date(millis).toISOString();
  if (zone === 'Z') return iso;
  if (zone === 'z') return iso.replace('Z', 'z');
  if (zone.startsWith('.')) return `${iso.slice(0, 19)}${zone}`;
  const sign = zone.startsWith('-') ? -1 : 1;
  const offsetMs = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4))) * 60_000;
  return `${new Date(millis + offsetMs).toISOString().slice(0, 23)}${zone}`;
});
const propertyValue = fc.oneof(fc.string({ maxLength: 20 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.integer());
const properties = fc.dictionary(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,10}$/), propertyValue, { maxKeys: 4 });
const quantityFor: Record<string, fc.Arbitrary<number | undefined>> = {
  tokens: fc.integer({ min: 0, max: 1e12 }),
  active_users: fc.constant(undefined),
  exports: fc.option(fc.constant(1), { nil: undefined }),
  peak: fc.nat(),
  storage_gb: fc.integer({ min: 0, max: 1e9 }).map((thousandths) => thousandths / 1000),
};

/** A valid event for `tenantId` (undefined: omitted, as a tenant may). */
function validEvent(tenantId: fc.Arbitrary<string | undefined>): fc.Arbitrary<Record<string, unknown>> {
  return fc.constantFrom(...CONFIG.meters.map((meter) => meter.name)).chain((meter) =>
    fc
      .record({
        id: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,30}$/),
        meter: fc.constant(meter),
        quantity: quantityFor[meter] as fc.Arbitrary<number | undefined>,
        timestamp,
        properties: meter === 'active_users' ? fc.tuple(properties, fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), fc.nat())).map(([rest, user]) => ({ ...rest, user_id: user })) : fc.option(properties, { nil: undefined }),
        tenantId,
      })
      .map((event) => Object.fromEntries(Object.entries(event).filter(([, value]) => value !== undefined))),
  );
}

const tenantEvent = validEvent(fc.constantFrom(undefined, 'acme'));
const backendEvent = validEvent(fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/));

/** Events: valid, mutated, or anything at all. */
function eventsOf(valid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<unknown[]> {
  const event = fc.oneof(
    { weight: 5, arbitrary: valid },
    { weight: 4, arbitrary: mutatedValue(valid).map((mutated) => mutated.value) },
    { weight: 1, arbitrary: anyValue },
  );
  return fc.oneof({ weight: 9, arbitrary: fc.array(event, { maxLength: 6 }) }, { weight: 1, arbitrary: fc.array(event, { minLength: MAX_EVENTS - 1, maxLength: MAX_EVENTS + 2 }) });
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

function assertNamedReasons(reasons: readonly unknown[]): void {
  assert.ok(reasons.length > 0, 'a rejection has reasons');
  for (const reason of reasons) {
    assert.ok(typeof reason === 'string' && reason.length > 0 && reason.length < MAX_REASON_LENGTH, `a reason is short text: ${String(reason).slice(0, 200)}`);
    assert.match(reason, NAMES_A_FIELD);
  }
}

/** The event an accepted one is, written back as a reporter would send it. */
function resent(event: AcceptedUsageEvent, caller: UsageCaller): Record<string, unknown> {
  return {
    id: event.id,
    meter: event.meter,
    quantity: Number(event.quantity),
    timestamp: new Date(event.eventTime).toISOString(),
    ...(event.properties === undefined ? {} : { properties: JSON.parse(event.properties) as unknown }),
    ...(caller.kind === 'backend' ? { tenantId: event.tenantId } : {}),
  };
}

/** Every event in exactly one of accepted and rejected; reasons name fields; accepted events are accepted again as they are. */
function assertPartition(result: UsageRequestValidation & { ok: true }, count: number, caller: UsageCaller): void {
  const indexes = [...result.accepted.map((event) => event.index), ...result.rejected.map((event) => event.index)].sort((a, b) => a - b);
  assert.deepEqual(indexes, Array.from({ length: count }, (_, i) => i), 'every event is accepted or rejected, once');
  for (const rejected of result.rejected) {
    assertNamedReasons(rejected.reasons);
    if (rejected.id !== undefined) assert.match(rejected.id, EVENT_ID);
  }
  if (result.accepted.length === 0) return;
  const again = validateUsageRequest({ events: result.accepted.map((event) => resent(event, caller)) }, caller, CONFIG, NOW);
  assert.ok(again.ok);
  assert.deepEqual(again.rejected, [], 'an accepted event, sent again as it was normalised, is accepted');
  assert.deepEqual(
    again.accepted.map(({ index: _, ...event }) => event),
    result.accepted.map(({ index: _, ...event }) => event),
  );
}

/** A stream that acknowledges records as `acknowledge` says (cycled), and keeps what it acknowledged. */
function patchyStream(acknowledge: readonly boolean[]): DeliveryStream & { readonly records: string[] } {
  const records: string[] = [];
  return {
    records,
    async put(batch): Promise<PutReport> {
      const delivered: number[] = [];
      const failed: { index: number; errorCode: string; errorMessage?: string }[] = [];
      batch.forEach((bytes, index) => {
        records.push(new TextDecoder().decode(bytes));
        if (acknowledge.length === 0 || acknowledge[index % acknowledge.length]) delivered.push(index);
        else failed.push({ index, errorCode: 'ServiceUnavailableException', errorMessage: 'Slow down.' });
      });
      return { delivered, failed, calls: 1, attempts: 1 };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

describe('POST /usage under adversarial bodies', () => {
  const body = fc.boolean().chain((backend) => {
    const events = eventsOf(backend ? backendEvent : tenantEvent);
    const text = fc.oneof(
      { weight: 4, arbitrary: events.map((list) => JSON.stringify({ events: list })) },
      { weight: 4, arbitrary: mutatedJsonText(events.map((list) => ({ events: list }))) },
      { weight: 1, arbitrary: anyJsonText },
      { weight: 1, arbitrary: fc.constantFrom(OVERSIZED_BODY, '', ' ') },
    );
    return fc.record({ backend: fc.constant(backend), text, base64: fc.boolean(), acknowledge: fc.array(fc.boolean(), { maxLength: 5 }) });
  });

  const runs = fuzzRuns(1500);
  it(`ends every event in exactly one of accepted, rejected (with reasons naming the field) and failed; the stream gets only what the transform accepts (numRuns ${runs})`, async () => {
    await fc.assert(
      fc.asyncProperty(body, async ({ backend, text, base64, acknowledge }) => {
        const caller = backend ? BACKEND : TENANT;
        const parsed = parseJsonBody({ body: base64 ? Buffer.from(text, 'utf8').toString('base64') : text, isBase64Encoded: base64 });
        if (!parsed.ok) {
          assert.ok(parsed.statusCode === 400 || parsed.statusCode === 413);
          assert.ok(parsed.message.length > 0);
          return;
        }
        const stream = patchyStream(acknowledge);
        const report = await reportUsage({ stream, config: CONFIG, now: () => NOW }, caller, parsed.value);
        const { accepted, rejected, failed, errors } = report.body;
        assert.ok(report.body.message.length > 0);
        if (errors !== undefined) {
          // The body as a whole is unusable: a 400 that says why, nothing taken.
          assert.equal(report.statusCode, 400);
          assert.ok(errors.length > 0 && errors.every((error) => error.length > 0 && error.length < MAX_REASON_LENGTH), 'a refused body says why');
          assert.deepEqual([accepted.length, rejected.length, failed.length, stream.records.length], [0, 0, 0, 0]);
          return;
        }
        const events = (parsed.value as { events: unknown[] }).events;
        const indexes = [...accepted, ...rejected, ...failed].map((event) => event.index).sort((a, b) => a - b);
        assert.deepEqual(indexes, Array.from({ length: events.length }, (_, i) => i), 'every event ends accepted, rejected or failed, once');
        for (const event of rejected) assertNamedReasons(event.reasons);
        for (const event of failed) assert.ok(event.reason.length > 0 && EVENT_ID.test(event.id));
        assert.equal(report.statusCode, failed.length > 0 ? 503 : rejected.length > 0 ? 400 : 200);

        // What went on the stream: exactly the valid events, each a record the ingestion transform takes.
        assert.equal(stream.records.length, accepted.length + failed.length);
        for (const record of stream.records) {
          const row = usageEventRow(JSON.parse(record) as Record<string, unknown>, NOW + MAX_FUTURE_SKEW_MILLIS);
          assert.ok(row.ok, `the transform refuses a record the endpoint wrote: ${row.ok ? '' : row.reason}`);
        }
      }),
      fuzzParameters(1500),
    );
  });
});

describe('validateUsageRequest on any in-memory value', () => {
  const runs = fuzzRuns(2000);
  it(`never throws; every event is accepted or rejected once, with named reasons; accepted events are accepted again as normalised (numRuns ${runs})`, () => {
    const request = fc.boolean().chain((backend) => {
      const events = fc.array(
        fc.oneof(
          { weight: 3, arbitrary: backend ? backendEvent : tenantEvent },
          { weight: 4, arbitrary: mutatedValue(backend ? backendEvent : tenantEvent).map((mutated) => mutated.value) },
          { weight: 2, arbitrary: fc.array(fc.tuple(fc.oneof(fc.constantFrom('id', 'meter', 'quantity', 'timestamp', 'properties', 'tenantId'), anyKey), anyThing), { maxLength: 6 }).map(ownObject) },
          { weight: 1, arbitrary: anyThing },
        ),
        { maxLength: 6 },
      );
      const bodyValue = fc.oneof({ weight: 8, arbitrary: events.map((list) => ({ events: list })) }, { weight: 1, arbitrary: anyThing }, { weight: 1, arbitrary: fc.tuple(anyText(10), anyThing).map(([key, value]) => ownObject([['events', []], [key, value]])) });
      return fc.record({ backend: fc.constant(backend), body: bodyValue });
    });
    fc.assert(
      fc.property(request, ({ backend, body: value }) => {
        const caller = backend ? BACKEND : TENANT;
        const result = validateUsageRequest(value, caller, CONFIG, NOW);
        if (!result.ok) {
          assert.ok(result.message.length > 0);
          assert.ok(result.errors.length > 0 && result.errors.every((error) => error.length > 0 && error.length < MAX_REASON_LENGTH));
          return;
        }
        assertPartition(result, (value as { events: unknown[] }).events.length, caller);
        for (const event of result.accepted) if (!backend) assert.equal(event.tenantId, 'acme');
      }),
      fuzzParameters(2000),
    );
  });
});
