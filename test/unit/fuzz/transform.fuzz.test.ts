/**
 * Fuzzing the ingestion transform (core/ingestion/): whole Firehose batches of adversarial records —
 * valid access logs and usage-event records, mutated ones (fields deleted, retyped, `__proto__` keys,
 * truncated or altered JSON, extreme number literals), arbitrary and deeply nested JSON, records over
 * the size limit, data that is not base64 or not text, records that are not even objects — and the two
 * record kinds' validators on their own.
 *
 * Properties: nothing throws; every record is answered once, in order, `Ok` or `ProcessingFailed`
 * with its original data (zero lost); every failure has a category and a reason that names the rule
 * (and, for a schema failure, the field) without repeating a value; an `Ok` row is written back as
 * the line it came from and transformed again to the very same bytes (round trip). Run counts are in
 * the test names (numRuns; FUZZ_RUNS multiplies them, see test/support/fuzz-runs.ts).
 */
import assert from 'node:assert/strict';
import type { FirehoseTransformationEventRecord } from 'aws-lambda';
import fc from 'fast-check';
import { ACCESS_LOG_FIELDS, type AccessLogField } from '../../../core/access-log/fields';
import { ACCESS_LOG_SCHEMA, MAX_FUTURE_SKEW_MILLIS, MIN_REQUEST_TIME_MILLIS, validationContextAt } from '../../../core/ingestion/access-log-schema';
import { ACCESS_LOG_KIND, USAGE_EVENT_KIND } from '../../../core/ingestion/record-kinds';
import { FAILURE_CATEGORIES, type IcebergTransformationResultRecord, type RecordFailure } from '../../../core/ingestion/transform-batch';
import { USAGE_EVENT_COLUMNS } from '../../../core/lake/usage-event-table';
import { usageEventRecord } from '../../../core/usage-events/usage-event-record';
import type { AcceptedUsageEvent } from '../../../core/usage-events/usage-event-validation';
import { fuzzParameters, fuzzRuns } from '../../support/fuzz-runs';
import { base64, DATABASE, NOW, TABLE, transform } from '../ingestion/fixtures';
import { anyJsonText, anyKey, anyText, anyValue, HUGE_TEXTS, MARKER, mutatedJsonText, mutatedValue, ownObject } from './adversarial';

const context = validationContextAt(NOW);
const USAGE_TABLE = 'usage_events';
const USAGE_FIELDS = USAGE_EVENT_COLUMNS.map((column) => column.name);
const ACCESS_LOG_REASON = new RegExp(`^(${ACCESS_LOG_FIELDS.map((field) => field.name).join('|')}): \\S`);
const USAGE_EVENT_REASON = new RegExp(`^(${USAGE_FIELDS.join('|')}) \\S`);
/** A request id the transform may log: letters, digits and dashes. */
const LOGGABLE = /^[A-Za-z0-9-]{1,128}$/;

/** A value API Gateway writes for a field (every value a string). */
function validValue(field: AccessLogField): fc.Arbitrary<string> {
  const absent = field.nullable ? [fc.constant('-')] : [];
  switch (field.type) {
    case 'string':
      return fc.oneof(...absent, fc.string({ unit: 'grapheme', minLength: field.nullable ? 0 : 1, maxLength: 30 }).filter((text) => text !== '-'), fc.constant(MARKER));
    case 'integer':
      return fc.oneof(...absent, field.name === 'status' ? fc.integer({ min: 100, max: 599 }).map(String) : fc.integer({ min: 0, max: 2 ** 31 - 1 }).map(String));
    case 'epoch_millis':
      return fc.integer({ min: MIN_REQUEST_TIME_MILLIS, max: NOW + MAX_FUTURE_SKEW_MILLIS }).map(String);
    case 'ip':
      return fc.oneof(...absent, fc.ipV4(), fc.ipV6());
  }
}

const validAccessLog = fc.record(Object.fromEntries(ACCESS_LOG_FIELDS.map((field) => [field.name, validValue(field)])) as Record<string, fc.Arbitrary<string>>);

const acceptedEvent: fc.Arbitrary<AcceptedUsageEvent> = fc.record({
  index: fc.nat(),
  tenantId: fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/),
  id: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$/),
  meter: fc.stringMatching(/^[a-z][a-z0-9_]{0,63}$/),
  quantity: fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.nat({ max: 6 })).map(([units, digits]) => (digits === 0 ? `${units}` : `${units}.${'7'.repeat(digits)}`)),
  eventTime: fc.integer({ min: Date.UTC(2000, 0, 1), max: NOW }),
  uniqueValue: fc.option(anyText(), { nil: undefined }),
  properties: fc.option(fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value)), { nil: undefined }),
});
/** The record POST /usage writes, as a parsed object. */
const validUsageEventRecord = fc.tuple(acceptedEvent, fc.constantFrom('tenant' as const, 'backend' as const)).map(([event, source]) => JSON.parse(usageEventRecord(event, NOW, source)) as Record<string, unknown>);

/** The data of a Firehose record: base64 of good, mutated or hostile text, or no base64 at all. */
const recordData: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: validAccessLog.map((record) => base64(`${JSON.stringify(record)}\n`)) },
  { weight: 3, arbitrary: validUsageEventRecord.map((record) => base64(JSON.stringify(record))) },
  { weight: 5, arbitrary: mutatedJsonText(fc.oneof(validAccessLog, validUsageEventRecord)).map((text) => base64(text)) },
  { weight: 2, arbitrary: anyJsonText.map((text) => base64(text)) },
  { weight: 1, arbitrary: fc.constantFrom(...HUGE_TEXTS).map((text) => base64(JSON.stringify({ request_id: text }))) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => base64(bytes)) },
  { weight: 1, arbitrary: anyText() },
  { weight: 1, arbitrary: anyValue },
);

/** The record id as the failure list names it: its text, or a note when it has none. */
function textOf(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '(a record id that cannot be written as text)';
  }
}

/** A Firehose record, or (rarely) something in its place that is not one. */
const firehoseRecord: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ recordId: fc.oneof(fc.uuid(), anyText(20)), approximateArrivalTimestamp: fc.constant(NOW), data: recordData }) },
  { weight: 1, arbitrary: fc.record({ recordId: anyValue, data: recordData }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: anyValue },
);

/** The access-log line a normalised row came from (API Gateway's form: every value a string, "-" for null). */
function lineOfAccessLogRow(row: Record<string, unknown>): string {
  const line: Record<string, string> = {};
  for (const field of ACCESS_LOG_FIELDS) {
    const value = row[field.name];
    line[field.name] = value === null ? '-' : field.type === 'epoch_millis' ? String((value as number) / 1000) : String(value);
  }
  return JSON.stringify(line);
}

/** The usage-event record a normalised row came from (marker back, times in milliseconds again). */
function recordOfUsageEventRow(row: Record<string, unknown>): Record<string, unknown> {
  return { record_type: 'usage_event', ...row, event_time: (row.event_time as number) / 1000, received_at: (row.received_at as number) / 1000 };
}

/** Checks one Ok answer: routed, one newline-terminated object, and the same bytes again when transformed from its source form. */
function assertSoundOk(output: IcebergTransformationResultRecord): void {
  const text = Buffer.from(output.data, 'base64').toString('utf8');
  assert.ok(text.endsWith('\n') && text.indexOf('\n') === text.length - 1, 'an Ok record is one newline-terminated line');
  const row = JSON.parse(text) as Record<string, unknown>;
  const routing = output.metadata?.otfMetadata;
  assert.equal(routing?.destinationDatabaseName, DATABASE);
  assert.equal(routing?.operation, 'insert');
  const accessLog = routing?.destinationTableName === TABLE;
  if (!accessLog) assert.equal(routing?.destinationTableName, USAGE_TABLE);
  assert.deepEqual(Object.keys(row), accessLog ? ACCESS_LOG_SCHEMA.columns : USAGE_FIELDS);
  const source = accessLog ? lineOfAccessLogRow(row) : JSON.stringify(recordOfUsageEventRow(row));
  const again = transform([{ recordId: 'again', approximateArrivalTimestamp: NOW, data: base64(source) }]);
  assert.deepEqual(again.records[0], { ...output, recordId: 'again' }, 'the row, written back as its source, transforms to the same bytes');
}

/** Checks a rejection reason: not empty, naming the field for a schema failure, never repeating a value. */
function assertNamedReason(reason: string, schemaFailure: boolean): void {
  assert.ok(reason.length > 0, 'a failure has a reason');
  assert.ok(!reason.includes(MARKER), `the reason repeats a value: ${reason}`);
  if (!schemaFailure) return;
  const [kind, ...rest] = reason.split(': ');
  assert.ok(kind === 'access-log' || kind === 'usage-event', `a schema failure names its kind: ${reason}`);
  assert.match(rest.join(': '), kind === 'access-log' ? ACCESS_LOG_REASON : USAGE_EVENT_REASON);
}

describe('the ingestion transform under adversarial batches', () => {
  const runs = fuzzRuns(1000);
  it(`answers every record exactly once, Ok (re-transforms to the same bytes) or ProcessingFailed with its data and a reason naming the rule (numRuns ${runs})`, () => {
    fc.assert(
      fc.property(fc.array(firehoseRecord, { maxLength: 8 }), (input) => {
        const records = input as FirehoseTransformationEventRecord[];
        const result = transform(records);

        // Zero lost: one answer per record, same ids, same order; the counts add up.
        assert.equal(result.records.length, records.length);
        const failed = result.records.filter((record) => record.result !== 'Ok').length;
        assert.equal(result.counts.ok + result.counts.failed, records.length);
        assert.equal(result.counts.failed, failed);
        assert.equal(result.failures.length, failed);
        assert.equal(FAILURE_CATEGORIES.reduce((sum, category) => sum + result.counts.byCategory[category], 0), failed);

        let failure = 0;
        result.records.forEach((output, i) => {
          const original = records[i] as unknown;
          const fields = typeof original === 'object' && original !== null ? (original as Record<string, unknown>) : {};
          assert.equal(output.recordId, fields.recordId);
          if (output.result === 'Ok') {
            assertSoundOk(output);
            return;
          }
          assert.equal(output.result, 'ProcessingFailed');
          assert.equal(output.data, fields.data, 'a failed record keeps its original data');
          assert.ok(!('metadata' in output));
          const reported = result.failures[failure++] as RecordFailure;
          assert.equal(reported.recordId, textOf(fields.recordId));
          assert.ok(FAILURE_CATEGORIES.includes(reported.category));
          // An unexpected error while processing is a bug, not a rejection.
          assert.notEqual(reported.category, 'FailedInternal', reported.reason);
          assertNamedReason(reported.reason, reported.category === 'FailedSchema');
          if (reported.requestId !== undefined) assert.match(reported.requestId, LOGGABLE);
        });
      }),
      fuzzParameters(1000),
    );
  });
});

describe('the record kinds on their own, on mutated and arbitrary parsed records', () => {
  const runs = fuzzRuns(2000);
  it(`validate without throwing; a rejection names its field, an accepted row round-trips (numRuns ${runs})`, () => {
    const parsedRecord = fc.oneof(
      { weight: 3, arbitrary: mutatedValue(fc.oneof(validAccessLog, validUsageEventRecord)).map((mutated) => mutated.value) },
      { weight: 1, arbitrary: fc.array(fc.tuple(anyKey, anyValue), { maxLength: 6 }).map(ownObject) },
    );
    fc.assert(
      fc.property(parsedRecord, (value) => {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
        const record = value as Record<string, unknown>;
        const kind = USAGE_EVENT_KIND.recognises(record) ? USAGE_EVENT_KIND : ACCESS_LOG_KIND;
        const outcome = kind.normalise(record, context);
        if (!outcome.ok) {
          assertNamedReason(`${kind.name}: ${outcome.reason}`, true);
          return;
        }
        const row = JSON.parse(outcome.json) as Record<string, unknown>;
        const source = kind === ACCESS_LOG_KIND ? (JSON.parse(lineOfAccessLogRow(row)) as Record<string, unknown>) : recordOfUsageEventRow(row);
        assert.deepEqual(kind.normalise(source, context), outcome);
      }),
      fuzzParameters(2000),
    );
  });
});
