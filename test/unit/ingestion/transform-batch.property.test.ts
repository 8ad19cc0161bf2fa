/**
 * Property-based tests (fast-check). Run counts are given per property (numRuns) and in the test names.
 */
import type { FirehoseTransformationEventRecord } from 'aws-lambda';
import fc from 'fast-check';
import { ACCESS_LOG_FIELDS, type AccessLogField } from '../../../core/access-log/fields';
import {
  ACCESS_LOG_SCHEMA,
  epochMillisToIcebergTimestamp,
  MAX_FUTURE_SKEW_MILLIS,
  MIN_REQUEST_TIME_MILLIS,
  validationContextAt,
} from '../../../core/ingestion/access-log-schema';
import { decodeStrictBase64, FAILURE_CATEGORIES, jsonStringBytes } from '../../../core/ingestion/transform-batch';
import { base64, DATABASE, NOW, TABLE, transform } from './fixtures';

const context = validationContextAt(NOW);
const MAX_MILLIS = NOW + MAX_FUTURE_SKEW_MILLIS;

/** Any UTF-16 string, unpaired surrogates included. */
const anyString = (maxLength = 12) =>
  fc.string({ unit: fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code))), maxLength });

/** A valid value for a field, as API Gateway writes it. */
function validValue(field: AccessLogField): fc.Arbitrary<string> {
  const absent = field.nullable ? [fc.constant('-')] : [];
  switch (field.type) {
    case 'string':
      return fc.oneof(
        ...absent,
        field.name === 'request_id' ? fc.uuid() : fc.string({ unit: 'grapheme', minLength: field.nullable ? 0 : 1, maxLength: 30 }).filter((text) => text !== '-'),
      );
    case 'integer':
      return fc.oneof(...absent, field.name === 'status' ? fc.integer({ min: 100, max: 599 }).map(String) : fc.integer({ min: 0, max: 2 ** 31 - 1 }).map(String));
    case 'epoch_millis':
      return fc.integer({ min: MIN_REQUEST_TIME_MILLIS, max: MAX_MILLIS }).map(String);
    case 'ip':
      return fc.oneof(...absent, fc.ipV4(), fc.ipV6());
    default:
      throw new Error('unknown type');
  }
}

/** A value for a field that may or may not be valid. */
function trickyValue(field: AccessLogField): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: validValue(field) },
    fc.constantFrom('-', '', '0', '00', '01', '-1', '1e3', ' 1', '1 ', '+1', '2147483648', '99', '600', '1420070399999', String(MAX_MILLIS + 1), '256.0.0.1', '::1', '1.2.3.4', '２', 'x'.repeat(2049), '😀'.repeat(1024), '😀'.repeat(1025)),
    fc.stringMatching(/^[0-9]{0,16}$/),
    anyString(),
  );
}

const validRecord = fc.record(Object.fromEntries(ACCESS_LOG_FIELDS.map((field) => [field.name, validValue(field)])) as Record<string, fc.Arbitrary<string>>);
const trickyRecord = fc.record(Object.fromEntries(ACCESS_LOG_FIELDS.map((field) => [field.name, trickyValue(field)])) as Record<string, fc.Arbitrary<string>>);

type Mutation = (record: Record<string, unknown>) => string;
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constantFrom(ACCESS_LOG_FIELDS.map((field) => field.name)).chain(() => fc.constantFrom(...ACCESS_LOG_FIELDS.map((field) => field.name))).map((name): Mutation => (record) => {
    const copy = { ...record };
    delete copy[name];
    return JSON.stringify(copy);
  }),
  fc.tuple(fc.constantFrom(...ACCESS_LOG_FIELDS.map((field) => field.name)), fc.jsonValue()).map(([name, value]): Mutation => (record) => JSON.stringify({ ...record, [name]: value })),
  fc.tuple(anyString(8), fc.jsonValue()).map(([name, value]): Mutation => (record) => JSON.stringify({ ...record, [name]: value })),
  fc.constant<Mutation>((record) => JSON.stringify(record, null, 2)),
  fc.constant<Mutation>((record) => `${JSON.stringify(record)}\r\n`),
  fc.constant<Mutation>((record) => `\ufeff${JSON.stringify(record)}`),
  fc.constant<Mutation>((record) => JSON.stringify([record])),
  fc.constant<Mutation>((record) => JSON.stringify(record).repeat(2)),
  fc.nat().map((cut): Mutation => (record) => {
    const text = JSON.stringify(record);
    return text.slice(0, cut % text.length);
  }),
);

const recordData: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: validRecord.map((record) => base64(`${JSON.stringify(record)}\n`)) },
  { weight: 2, arbitrary: trickyRecord.map((record) => base64(JSON.stringify(record))) },
  { weight: 2, arbitrary: fc.tuple(validRecord, mutation).map(([record, mutate]) => base64(mutate(record))) },
  fc.uint8Array({ maxLength: 300 }).map((bytes) => base64(bytes)),
  anyString(40),
  fc.constantFrom('', '=', 'YQ', 'YW-j', undefined, null, 42),
);

const batch = fc.array(fc.record({ recordId: anyString(20), data: recordData }), { maxLength: 25 });

describe('transformBatch properties', () => {
  it('answers any batch with the same record ids in order, each Ok (parseable, routed) or ProcessingFailed (original data), within the budget (numRuns: 500)', () => {
    fc.assert(
      fc.property(batch, fc.option(fc.integer({ min: 0, max: 30_000 }), { nil: undefined }), (records, budget) => {
        const input = records.map((record) => ({ ...record, approximateArrivalTimestamp: NOW })) as unknown as FirehoseTransformationEventRecord[];
        const result = transform(input, budget === undefined ? {} : { responseBudgetBytes: budget });

        expect(result.records.map((record) => record.recordId)).toEqual(input.map((record) => record.recordId));
        result.records.forEach((output, i) => {
          if (output.result === 'Ok') {
            const bytes = decodeStrictBase64(output.data as string) as Buffer;
            const text = bytes.toString('utf8');
            expect(text.indexOf('\n')).toBe(text.length - 1);
            const row = JSON.parse(text) as Record<string, unknown>;
            expect(Object.keys(row)).toEqual(ACCESS_LOG_SCHEMA.columns);
            expect(typeof row.request_time === 'number' && row.request_time % 1000 === 0).toBe(true);
            expect(output.metadata).toEqual({ otfMetadata: { destinationDatabaseName: DATABASE, destinationTableName: TABLE, operation: 'insert' } });
          } else {
            expect(output.result).toBe('ProcessingFailed');
            expect(output.data).toBe(input[i]?.data);
            expect(output).not.toHaveProperty('metadata');
          }
        });

        const failed = result.records.filter((record) => record.result !== 'Ok').length;
        expect(result.counts.ok + result.counts.failed).toBe(input.length);
        expect(result.counts.failed).toBe(failed);
        expect(result.failures).toHaveLength(failed);
        expect(FAILURE_CATEGORIES.reduce((sum, category) => sum + result.counts.byCategory[category], 0)).toBe(failed);

        const size = Buffer.byteLength(JSON.stringify({ records: result.records }), 'utf8');
        expect(result.responseBytes).toBe(size);
        if (budget !== undefined) {
          const allFailed = Buffer.byteLength(JSON.stringify({ records: input.map(({ recordId, data }) => ({ recordId, result: 'ProcessingFailed', data })) }), 'utf8');
          expect(size).toBeLessThanOrEqual(Math.max(budget, allFailed));
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('fast path and general path agree', () => {
  const generalPath = (text: string): string | undefined => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return undefined;
    }
    const result = ACCESS_LOG_SCHEMA.validate(value, context);
    return result.ok ? ACCESS_LOG_SCHEMA.serialise(result.row) : undefined;
  };
  const fastPath = (bytes: Buffer): string | undefined => {
    const output = Buffer.alloc(bytes.length + ACCESS_LOG_SCHEMA.maxCanonicalGrowth);
    const end = ACCESS_LOG_SCHEMA.normaliseCanonical(bytes, 0, bytes.length, output, 0, context);
    return end < 0 ? undefined : output.toString('utf8', 0, end);
  };

  it('on every canonical line, valid or not: same output, and declines only lines with escapes (numRuns: 3000)', () => {
    fc.assert(
      fc.property(fc.oneof(trickyRecord, validRecord), fc.boolean(), (record, newline) => {
        const text = `${JSON.stringify(record)}${newline ? '\n' : ''}`;
        const fast = fastPath(Buffer.from(text, 'utf8'));
        if (text.includes('\\')) expect(fast).toBeUndefined();
        else expect(fast).toBe(generalPath(text));
      }),
      { numRuns: 3000 },
    );
  });

  it('never accepts what the general path rejects, for any bytes (numRuns: 2000)', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 400 }).map((array) => Buffer.from(array)),
      fc.tuple(validRecord, mutation).map(([record, mutate]) => Buffer.from(mutate(record), 'utf8')),
      fc.tuple(validRecord, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([record, position, byte]) => {
        const buffer = Buffer.from(JSON.stringify(record), 'utf8');
        buffer[position % buffer.length] = byte;
        return buffer;
      }),
    );
    fc.assert(
      fc.property(bytes, (input) => {
        const fast = fastPath(input);
        if (fast !== undefined) expect(fast).toBe(generalPath(input.toString('utf8')));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('helpers', () => {
  it('decodeStrictBase64 accepts exactly padded standard base64 and decodes it like Buffer.from (numRuns: 3000)', () => {
    const alphabet = 'AQgw+/=-_ \n\u0141\u0101é';
    const text = fc.oneof(
      fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes).toString('base64')),
      fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 12 }),
      anyString(8),
    );
    fc.assert(
      fc.property(text, (candidate) => {
        const strict = candidate.length > 0 && candidate.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(candidate);
        const decoded = decodeStrictBase64(candidate);
        expect(decoded !== undefined).toBe(strict);
        if (decoded !== undefined) expect(decoded.equals(Buffer.from(candidate, 'base64'))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('jsonStringBytes is the UTF-8 size of JSON.stringify, unpaired surrogates included (numRuns: 3000)', () => {
    fc.assert(
      fc.property(anyString(30), (text) => {
        expect(jsonStringBytes(text)).toBe(Buffer.byteLength(JSON.stringify(text), 'utf8'));
      }),
      { numRuns: 3000 },
    );
  });

  it('epoch milliseconds become microseconds that keep the milliseconds exactly (numRuns: 2000)', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN_REQUEST_TIME_MILLIS, max: MAX_MILLIS }), (millis) => {
        const micros = epochMillisToIcebergTimestamp(millis);
        expect(Number.isSafeInteger(micros)).toBe(true);
        expect(micros / 1000).toBe(millis);
        expect(new Date(micros / 1000).toISOString()).toBe(new Date(millis).toISOString());
      }),
      { numRuns: 2000 },
    );
  });
});
