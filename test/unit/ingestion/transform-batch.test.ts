import type { FirehoseTransformationEventRecord } from 'aws-lambda';
import { ACCESS_LOG_FIELDS } from '../../../core/access-log/fields';
import { ACCESS_LOG_KIND, routingFromEnvironment, type RecordKind } from '../../../core/ingestion/record-kinds';
import {
  DEFAULT_MAX_RECORD_BYTES,
  DEFAULT_RESPONSE_BUDGET_BYTES,
  FAILURE_CATEGORIES,
  LAMBDA_RESPONSE_LIMIT_BYTES,
  MAX_PROCESSOR_BUFFER_MIB,
  transformBatch,
} from '../../../core/ingestion/transform-batch';
import { accessLog, base64, DATABASE, firehoseRecord, line, NOW, ROUTING, smallestValidLine, TABLE, transform, transformOne, without } from './fixtures';

const responseSize = (records: unknown): number => Buffer.byteLength(JSON.stringify({ records }), 'utf8');

/** The UTF-8 bytes of `text` with its one `marker` character replaced by raw bytes. */
function withBytes(text: string, marker: string, bytes: number[]): Buffer {
  const [before, after] = text.split(marker) as [string, string];
  return Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]);
}

describe('transformBatch: a valid access log', () => {
  it('is answered Ok with the normalised JSON line, routed to the access-log table for insert', () => {
    const { result, outputText, row } = transformOne(line());
    expect(result.result).toBe('Ok');
    expect(result.recordId).toBe('only');
    expect(result.metadata).toEqual({ otfMetadata: { destinationDatabaseName: DATABASE, destinationTableName: TABLE, operation: 'insert' } });
    expect(outputText?.endsWith('}\n')).toBe(true);
    expect(outputText?.indexOf('\n')).toBe((outputText as string).length - 1);
    expect(Object.keys(row as object)).toEqual(ACCESS_LOG_FIELDS.map((field) => field.name));
    expect(row).toMatchObject({ status: 200, response_length: 123, request_time: 1705319999123000, error_type: null, user: 'alice.smith' });
  });

  it('keeps the milliseconds of request_time exactly (1700000000123 → 1700000000123000 µs)', () => {
    const { row } = transformOne(line(accessLog({ request_time: '1700000000123' })));
    expect(row?.request_time).toBe(1700000000123000);
    expect(new Date((row?.request_time as number) / 1000).toISOString()).toBe('2023-11-14T22:13:20.123Z');
  });

  it.each([
    ['without a trailing newline', JSON.stringify(accessLog())],
    ['with a trailing newline', line()],
    ['with CRLF', `${JSON.stringify(accessLog())}\r\n`],
    ['pretty-printed', JSON.stringify(accessLog(), null, 2)],
    ['in another key order', JSON.stringify(Object.fromEntries(Object.entries(accessLog()).reverse()))],
    ['with escaped key names', JSON.stringify(accessLog()).replace('"request_id"', '"request\\u005fid"')],
    ['with unknown fields', line({ ...accessLog(), extra: { nested: [1, 2] }, another: 'x' })],
  ])('is accepted %s, with the same output', (_label, text) => {
    expect(transformOne(text).outputText).toBe(transformOne(line()).outputText);
  });

  it.each([
    ['a unicode user name', 'józef.müller'],
    ['a CJK user name', '山田太郎'],
    ['emoji', '🦄👩‍💻'],
    ['an escaped accent', '\u00e9'],
    ['a line separator', 'a\u2028b'],
  ])('keeps %s exactly', (_label, user) => {
    expect(transformOne(line(accessLog({ user }))).row?.user).toBe(user);
  });

  it('accepts IPv6 addresses', () => {
    expect(transformOne(line(accessLog({ ip: '2001:db8:85a3::8a2e:370:7334' }))).row?.ip).toBe('2001:db8:85a3::8a2e:370:7334');
  });
});

describe('transformBatch: malformed records are ProcessingFailed with their original data', () => {
  const cases: [label: string, payload: Parameters<typeof transformOne>[0], category: string, reason: string][] = [
    ['invalid base64 characters', { raw: 'not base64!!' }, 'FailedDecode', 'data is not valid base64'],
    ['base64 of a bad length', { raw: 'YWJjZ' }, 'FailedDecode', 'data is not valid base64'],
    ['URL-safe base64', { raw: 'YW-_' }, 'FailedDecode', 'data is not valid base64'],
    ['base64 with whitespace', { raw: 'YW JjZA==' }, 'FailedDecode', 'data is not valid base64'],
    ['base64 with padding inside', { raw: 'YQ==YWJj' }, 'FailedDecode', 'data is not valid base64'],
    ['base64 with too much padding', { raw: 'Y===' }, 'FailedDecode', 'data is not valid base64'],
    ['non-ASCII in base64', { raw: 'YWJ\u0101' }, 'FailedDecode', 'data is not valid base64'],
    ['empty data', { raw: '' }, 'FailedDecode', 'data is empty'],
    ['data that is not a string', { raw: 12345 }, 'FailedDecode', 'data is not a string'],
    ['invalid UTF-8', Buffer.concat([Buffer.from('{"request_id":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), 'FailedDecode', 'data is not valid UTF-8'],
    ['an overlong UTF-8 encoding of "/"', withBytes(line(accessLog({ user: 'a#b' })), '#', [0xc0, 0xaf]), 'FailedDecode', 'data is not valid UTF-8'],
    ['a truncated UTF-8 sequence', withBytes(line(accessLog({ user: 'a#b' })), '#', [0xe6, 0x97]), 'FailedDecode', 'data is not valid UTF-8'],
    ['a code point above U+10FFFF', withBytes(line(accessLog({ user: 'a#b' })), '#', [0xf4, 0x90, 0x80, 0x80]), 'FailedDecode', 'data is not valid UTF-8'],
    ['a UTF-8-encoded surrogate (CESU-8)', Buffer.concat([Buffer.from('{"user":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]), 'FailedDecode', 'data is not valid UTF-8'],
    ['a byte-order mark', `\ufeff${line()}`, 'FailedJson', 'not valid JSON'],
    ['text that is not JSON', 'hello world', 'FailedJson', 'not valid JSON'],
    ['only whitespace', ' \n', 'FailedJson', 'not valid JSON'],
    ['a truncated line', line().slice(0, 40), 'FailedJson', 'not valid JSON'],
    ['two objects on one line', `${JSON.stringify(accessLog())}${JSON.stringify(accessLog())}`, 'FailedJson', 'not valid JSON'],
    ['two lines', `${line()}${line()}`, 'FailedJson', 'not valid JSON'],
    ['a raw control character in a value', line(accessLog({ user: 'ab' })).replace('ab', 'a\u0001b'), 'FailedJson', 'not valid JSON'],
    ['a JSON array', JSON.stringify([accessLog()]), 'FailedJson', 'not a JSON object'],
    ['a JSON number', '42', 'FailedJson', 'not a JSON object'],
    ['JSON null', 'null', 'FailedJson', 'not a JSON object'],
    ['a JSON string', '"text"', 'FailedJson', 'not a JSON object'],
    ['an empty object', '{}', 'FailedSchema', 'access-log: request_id: missing'],
    ['a missing field', line(without(accessLog(), 'status')), 'FailedSchema', 'access-log: status: missing'],
    ['numbers instead of strings', line(accessLog({ status: 200 })), 'FailedSchema', 'access-log: status: not a JSON string'],
    ['a nested object', line(accessLog({ user: { name: 'alice' } })), 'FailedSchema', 'access-log: user: not a JSON string'],
    ['"-" in a required field', line(accessLog({ request_id: '-' })), 'FailedSchema', 'access-log: request_id: "-" (no value) in a required field'],
    ['an out-of-range status', line(accessLog({ status: '600' })), 'FailedSchema', 'access-log: status: outside 100..599'],
    ['a negative length', line(accessLog({ response_length: '-5' })), 'FailedSchema', 'access-log: response_length: not a decimal integer'],
    ['a huge latency', line(accessLog({ response_latency: '98765432109876543210' })), 'FailedSchema', 'access-log: response_latency: outside 0..2147483647'],
    ['a leading zero', line(accessLog({ status: '0200' })), 'FailedSchema', 'access-log: status: has a leading zero'],
    ['an exponent', line(accessLog({ response_length: '1e3' })), 'FailedSchema', 'access-log: response_length: not a decimal integer'],
    ['a leading blank', line(accessLog({ status: ' 200' })), 'FailedSchema', 'access-log: status: not a decimal integer'],
    ['a request time in the far future', line(accessLog({ request_time: String(NOW + 2 * 86_400_000) })), 'FailedSchema', 'access-log: request_time: more than a day in the future'],
    ['a request time before 2015', line(accessLog({ request_time: '1400000000000' })), 'FailedSchema', 'access-log: request_time: before 2015-01-01'],
    ['a request time in seconds', line(accessLog({ request_time: '1705319999' })), 'FailedSchema', 'access-log: request_time: before 2015-01-01'],
    ['an invalid IP', line(accessLog({ ip: '300.1.2.3' })), 'FailedSchema', 'access-log: ip: not an IPv4 or IPv6 address'],
    ['an escaped unpaired surrogate', line(accessLog({ user: '\ud83d' })), 'FailedSchema', 'access-log: user: contains an unpaired surrogate (not valid Unicode)'],
    ['an empty request id', line(accessLog({ request_id: '' })), 'FailedSchema', 'access-log: request_id: empty'],
    ['an over-long path', line(accessLog({ path: 'p'.repeat(2049) })), 'FailedSchema', 'access-log: path: longer than 2048 characters'],
    ['an oversized record', line(accessLog({ user: 'u'.repeat(DEFAULT_MAX_RECORD_BYTES) })), 'FailedTooLarge', `larger than ${DEFAULT_MAX_RECORD_BYTES} bytes`],
  ];

  it.each(cases)('%s', (_label, payload, category, reason) => {
    const { result, failure } = transformOne(payload);
    const original = typeof payload === 'object' && 'raw' in payload ? payload.raw : base64(payload as string | Uint8Array);
    expect(result).toEqual({ recordId: 'only', result: 'ProcessingFailed', data: original });
    expect(failure).toMatchObject({ recordId: 'only', category, reason });
  });

  it('reports the request id when it could be read, and only then', () => {
    expect(transformOne(line(accessLog({ status: '999' }))).failure?.requestId).toBe('c6b2a3e4-1f0d-4b8a-9c2e-5d7f8a9b0c1d');
    expect(transformOne(line(accessLog({ status: '999', request_id: 'a b' }))).failure).not.toHaveProperty('requestId');
    expect(transformOne('not json').failure).not.toHaveProperty('requestId');
  });

  it('never puts the payload into a failure', () => {
    const secretUser = 'jane.doe.secret@example.com';
    const secretIp = '198.51.100.201';
    const payloads = [
      line(accessLog({ user: secretUser, ip: secretIp, status: 'x' })),
      `{"user":"${secretUser}","ip":"${secretIp}"`,
      `[${JSON.stringify(secretUser)}]`,
      line(accessLog({ ip: `${secretIp}0` })),
    ];
    for (const payload of payloads) {
      const text = JSON.stringify(transformOne(payload).failure);
      expect(text).not.toContain(secretUser);
      expect(text).not.toContain(secretIp);
    }
  });

  it('fails a record that has no recordId without failing the batch', () => {
    const batch = transform([{ approximateArrivalTimestamp: NOW, data: base64(line()) } as unknown as FirehoseTransformationEventRecord, firehoseRecord(base64(line()), 'b')]);
    expect(batch.records.map((record) => record.result)).toEqual(['ProcessingFailed', 'Ok']);
    expect(batch.failures[0]).toMatchObject({ category: 'FailedDecode', reason: 'record has no recordId' });
  });
});

describe('transformBatch: the batch', () => {
  it('answers every record, same ids, same order, counting each outcome', () => {
    const records = [
      firehoseRecord(base64(line()), 'r1'),
      firehoseRecord('%%%', 'r2'),
      firehoseRecord(base64('[]'), 'r3'),
      firehoseRecord(base64(line(accessLog({ status: '42' }))), 'r4'),
      firehoseRecord(base64(line(accessLog({ user: '-' }))), 'r5'),
    ];
    const batch = transform(records);
    expect(batch.records.map((record) => [record.recordId, record.result])).toEqual([
      ['r1', 'Ok'],
      ['r2', 'ProcessingFailed'],
      ['r3', 'ProcessingFailed'],
      ['r4', 'ProcessingFailed'],
      ['r5', 'Ok'],
    ]);
    expect(batch.counts).toEqual({
      ok: 2,
      failed: 3,
      byCategory: { FailedDecode: 1, FailedJson: 1, FailedSchema: 1, FailedTooLarge: 0, FailedResponseLimit: 0, FailedInternal: 0 },
    });
    expect(batch.failures.map((failure) => failure.recordId)).toEqual(['r2', 'r3', 'r4']);
  });

  it('handles an empty batch', () => {
    expect(transform([])).toEqual({
      records: [],
      counts: { ok: 0, failed: 0, byCategory: Object.fromEntries(FAILURE_CATEGORIES.map((category) => [category, 0])) },
      failures: [],
      responseBytes: responseSize([]),
    });
  });

  it('does not de-duplicate: the same request twice is inserted twice (the hourly query counts it once)', () => {
    const batch = transform([firehoseRecord(base64(line()), 'a'), firehoseRecord(base64(line()), 'b')]);
    expect(batch.records.map((record) => record.result)).toEqual(['Ok', 'Ok']);
    expect(batch.records[0]?.data).toBe(batch.records[1]?.data);
  });

  it('uses the clock once per batch and defaults it to now', () => {
    const inAWeek = String(Date.now() + 7 * 86_400_000);
    expect(transformBatch([firehoseRecord(base64(line(accessLog({ request_time: inAWeek }))))], ROUTING).records[0]?.result).toBe('ProcessingFailed');
    expect(transformBatch([firehoseRecord(base64(line(accessLog({ request_time: String(Date.now()) }))))], ROUTING).records[0]?.result).toBe('Ok');
  });

  it('answers ProcessingFailed (FailedInternal) when a kind throws, and carries on', () => {
    const throwing: RecordKind = {
      name: 'access-log',
      destinationEnvironment: { database: 'A', table: 'B' },
      table: 'b',
      recognises: () => true,
      normalise: () => {
        throw new TypeError('boom with payload');
      },
    };
    const batch = transform([firehoseRecord(base64(line()), 'x')], { kinds: [throwing] });
    expect(batch.records[0]).toEqual({ recordId: 'x', result: 'ProcessingFailed', data: base64(line()) });
    expect(batch.failures[0]).toEqual({ recordId: 'x', category: 'FailedInternal', reason: 'unexpected TypeError' });
  });

  it('routes each kind to its own destination, and refuses to run without one', () => {
    const usage: RecordKind = {
      name: 'usage-event',
      destinationEnvironment: { database: 'USAGE_DATABASE', table: 'USAGE_TABLE' },
      table: 'usage',
      recognises: (record) => record.kind === 'usage',
      normalise: (record) => ({ ok: true, json: JSON.stringify({ quantity: record.quantity }) }),
    };
    const kinds = [usage, ACCESS_LOG_KIND];
    const routing = routingFromEnvironment({ USAGE_DATABASE: 'db', USAGE_TABLE: 'usage', ACCESS_LOG_DATABASE: DATABASE, ACCESS_LOG_TABLE: TABLE }, kinds);
    const batch = transformBatch([firehoseRecord(base64('{"kind":"usage","quantity":3}'))], routing, { kinds, nowMillis: NOW });
    expect(batch.records[0]?.metadata?.otfMetadata).toEqual({ destinationDatabaseName: 'db', destinationTableName: 'usage', operation: 'insert' });
    expect(Buffer.from(batch.records[0]?.data as string, 'base64').toString()).toBe('{"quantity":3}\n');
    expect(() => transformBatch([], new Map(), { kinds })).toThrow('no destination for record kind usage-event');
  });
});

describe('transformBatch: the 6 MB response limit', () => {
  const worstCaseRecord = (i: number): FirehoseTransformationEventRecord =>
    firehoseRecord(base64(smallestValidLine(NOW)), `${'4954698668313554428650745793632167567570019247115'}${String(i).padStart(7, '0')}`);

  it('computes the exact size of the response', () => {
    const records = [
      firehoseRecord(base64(line()), 'a'),
      firehoseRecord('bad data "quoted" \u00e9 \ud800', 'b\u0001"é'),
      firehoseRecord(base64(line(accessLog({ user: '山田 🦄' }))), 'c'),
      { recordId: 'd', approximateArrivalTimestamp: NOW } as unknown as FirehoseTransformationEventRecord,
    ];
    const batch = transform(records);
    expect(batch.responseBytes).toBe(responseSize(batch.records));
  });

  it(`never needs the guard with a processor buffer of ${MAX_PROCESSOR_BUFFER_MIB} MiB of worst-case records and 64-character table names`, () => {
    const routing = routingFromEnvironment({ ACCESS_LOG_DATABASE: 'd'.repeat(64), ACCESS_LOG_TABLE: 't'.repeat(64), USAGE_EVENT_DATABASE: 'd'.repeat(64), USAGE_EVENT_TABLE: 'u'.repeat(64) });
    const recordBytes = smallestValidLine(NOW).length;
    const count = Math.floor((MAX_PROCESSOR_BUFFER_MIB * 1024 * 1024) / recordBytes);
    const batch = transformBatch(Array.from({ length: count }, (_, i) => worstCaseRecord(i)), routing, { nowMillis: NOW });
    expect(batch.counts.ok).toBe(count);
    expect(batch.responseBytes).toBe(responseSize(batch.records));
    expect(batch.responseBytes).toBeLessThanOrEqual(DEFAULT_RESPONSE_BUDGET_BYTES);
    // The worst-case growth: response bytes per byte of record data (smallest records, every nullable "-").
    expect(batch.responseBytes / (count * recordBytes)).toBeLessThan(DEFAULT_RESPONSE_BUDGET_BYTES / (MAX_PROCESSOR_BUFFER_MIB * 1024 * 1024));
  });

  it('keeps a 3 MiB batch of worst-case records within the budget: the tail is ProcessingFailed with its original data', () => {
    const recordBytes = smallestValidLine(NOW).length;
    const count = Math.floor((3 * 1024 * 1024) / recordBytes);
    const records = Array.from({ length: count }, (_, i) => worstCaseRecord(i));
    const routing = routingFromEnvironment({ ACCESS_LOG_DATABASE: 'd'.repeat(64), ACCESS_LOG_TABLE: 't'.repeat(64), USAGE_EVENT_DATABASE: 'd'.repeat(64), USAGE_EVENT_TABLE: 'u'.repeat(64) });
    const batch = transformBatch(records, routing, { nowMillis: NOW });
    expect(batch.responseBytes).toBe(responseSize(batch.records));
    expect(batch.responseBytes).toBeLessThanOrEqual(DEFAULT_RESPONSE_BUDGET_BYTES);
    expect(batch.responseBytes).toBeLessThan(LAMBDA_RESPONSE_LIMIT_BYTES);
    const firstFailed = batch.records.findIndex((record) => record.result === 'ProcessingFailed');
    expect(firstFailed).toBeGreaterThan(0);
    expect(batch.records.slice(0, firstFailed).every((record) => record.result === 'Ok')).toBe(true);
    batch.records.slice(firstFailed).forEach((record, i) => {
      expect(record).toEqual({ recordId: records[firstFailed + i]?.recordId, result: 'ProcessingFailed', data: records[firstFailed + i]?.data });
    });
    expect(batch.counts.byCategory.FailedResponseLimit).toBe(count - firstFailed);
    expect(batch.failures[0]).toMatchObject({ category: 'FailedResponseLimit', reason: `no room left in the ${DEFAULT_RESPONSE_BUDGET_BYTES}-byte response` });
  });

  it('reserves room for every later record, so a tight budget is never exceeded', () => {
    const records = Array.from({ length: 20 }, (_, i) => firehoseRecord(base64(line(accessLog({ request_id: `req-${i}` }))), `id-${i}`));
    const all = transform(records, { responseBudgetBytes: Number.POSITIVE_INFINITY });
    const allFailed = responseSize(records.map((record) => ({ recordId: record.recordId, result: 'ProcessingFailed', data: record.data })));
    for (const budget of [allFailed, allFailed + 1000, Math.floor((allFailed + all.responseBytes) / 2), all.responseBytes - 1, all.responseBytes]) {
      const batch = transform(records, { responseBudgetBytes: budget });
      expect(batch.responseBytes).toBe(responseSize(batch.records));
      expect(batch.responseBytes).toBeLessThanOrEqual(budget);
      expect(batch.records.map((record) => record.recordId)).toEqual(records.map((record) => record.recordId));
    }
    expect(transform(records, { responseBudgetBytes: all.responseBytes }).counts.ok).toBe(20);
    const limited = transform(records, { responseBudgetBytes: all.responseBytes - 1 });
    expect(limited.counts.byCategory.FailedResponseLimit).toBe(1);
    expect(limited.failures[0]?.requestId).toBe('req-19');
  });

  it('answers every record ProcessingFailed (never throws) when even that exceeds the budget', () => {
    const records = [firehoseRecord(base64(line()), 'a'), firehoseRecord(base64(line()), 'b')];
    const batch = transform(records, { responseBudgetBytes: 10 });
    expect(batch.records).toEqual(records.map((record) => ({ recordId: record.recordId, result: 'ProcessingFailed', data: record.data })));
    expect(batch.counts.byCategory.FailedResponseLimit).toBe(2);
  });
});
