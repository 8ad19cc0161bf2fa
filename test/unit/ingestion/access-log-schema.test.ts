import { ACCESS_LOG_FIELDS, type AccessLogField } from '../../../core/access-log/fields';
import {
  ACCESS_LOG_SCHEMA,
  compileAccessLogSchema,
  epochMillisToIcebergTimestamp,
  MAX_FUTURE_SKEW_MILLIS,
  MIN_REQUEST_TIME_MILLIS,
  validateAccessLog,
  validationContextAt,
} from '../../../core/ingestion/access-log-schema';
import { accessLog, NOW, without } from './fixtures';

const context = validationContextAt(NOW);
const nullable = ACCESS_LOG_FIELDS.filter((field) => field.nullable).map((field) => field.name);
const required = ACCESS_LOG_FIELDS.filter((field) => !field.nullable).map((field) => field.name);

function reasonFor(record: unknown): string | undefined {
  const result = validateAccessLog(record, context);
  return result.ok ? undefined : result.reason;
}

/** Runs the byte-level fast path on a text; the output text, or undefined when it declined. */
function fastPath(text: string): string | undefined {
  const input = Buffer.from(text, 'utf8');
  const output = Buffer.alloc(input.length + ACCESS_LOG_SCHEMA.maxCanonicalGrowth);
  const end = ACCESS_LOG_SCHEMA.normaliseCanonical(input, 0, input.length, output, 0, context);
  return end < 0 ? undefined : output.toString('utf8', 0, end);
}

describe('the access-log schema derived from ACCESS_LOG_FIELDS', () => {
  it('has one column per field, in field-list order', () => {
    expect(ACCESS_LOG_SCHEMA.columns).toEqual(ACCESS_LOG_FIELDS.map((field) => field.name));
  });

  it('normalises a valid access log: integers become numbers, "-" null, request_time microseconds', () => {
    const result = validateAccessLog(accessLog(), context);
    expect(result).toEqual({
      ok: true,
      row: {
        request_id: 'c6b2a3e4-1f0d-4b8a-9c2e-5d7f8a9b0c1d',
        ip: '203.0.113.42',
        user: 'alice.smith',
        request_time: 1705319999123000,
        http_method: 'GET',
        resource_path: '/random/strings',
        status: 200,
        protocol: 'HTTP/1.1',
        response_length: 123,
        tenant_id: 'tenant-0042',
        path: '/prod/random/strings',
        stage: 'prod',
        api_id: 'a1b2c3d4e5',
        response_latency: 12,
        integration_latency: 10,
        error_type: null,
      },
    });
  });

  it('serialises a row with the columns in field-list order and nothing else', () => {
    const result = validateAccessLog({ zzz: 'ignored', ...accessLog() }, context);
    if (!result.ok) throw new Error(result.reason);
    const json = ACCESS_LOG_SCHEMA.serialise(result.row);
    expect(Object.keys(JSON.parse(json) as object)).toEqual(ACCESS_LOG_SCHEMA.columns);
    expect(json.startsWith('{"request_id":"c6b2a3e4-1f0d-4b8a-9c2e-5d7f8a9b0c1d","ip":"203.0.113.42"')).toBe(true);
  });

  it.each(ACCESS_LOG_FIELDS.map((field) => field.name))('rejects a record without %s', (name) => {
    expect(reasonFor(without(accessLog(), name))).toBe(`${name}: missing`);
  });

  it.each(required)('rejects "-" in the required field %s', (name) => {
    expect(reasonFor(accessLog({ [name]: '-' }))).toBe(`${name}: "-" (no value) in a required field`);
  });

  it.each(nullable)('turns "-" in the nullable field %s into null', (name) => {
    const result = validateAccessLog(accessLog({ [name]: '-' }), context);
    expect(result.ok && result.row[name]).toBeNull();
  });

  it.each([
    ['a number', 200],
    ['null', null],
    ['a boolean', true],
    ['an object', { code: '200' }],
    ['an array', ['200']],
  ])('rejects %s where a string is due', (_label, value) => {
    expect(reasonFor(accessLog({ status: value }))).toBe('status: not a JSON string');
    expect(reasonFor(accessLog({ user: value }))).toBe('user: not a JSON string');
  });

  it('rejects the demo format (unquoted numbers)', () => {
    expect(reasonFor(accessLog({ request_time: 1705319999123 }))).toBe('request_time: not a JSON string');
  });

  it.each(['[]', 'null', '42', '"text"', 'true'])('rejects the non-object JSON value %s', (json) => {
    expect(reasonFor(JSON.parse(json))).toBe('not a JSON object');
  });

  it('ignores unknown fields (also nested ones) and does not write them', () => {
    const result = validateAccessLog(accessLog({ extra: { nested: ['x'] }, requestId: 'other' }), context);
    expect(result.ok).toBe(true);
    expect(result.ok && Object.keys(result.row)).toEqual(ACCESS_LOG_SCHEMA.columns);
  });

  describe('integer fields', () => {
    it.each(['100', '200', '599'])('accepts status %s', (status) => {
      expect(reasonFor(accessLog({ status }))).toBeUndefined();
    });
    it.each(['99', '600', '0', '1000', '2147483647'])('rejects status %s as out of range', (status) => {
      expect(reasonFor(accessLog({ status }))).toBe('status: outside 100..599');
    });
    it.each(['0', '1', '2147483647'])('accepts response_length %s', (length) => {
      expect(reasonFor(accessLog({ response_length: length }))).toBeUndefined();
    });
    it.each(['2147483648', '99999999999999999999999999999'])('rejects the huge response_length %s', (length) => {
      expect(reasonFor(accessLog({ response_length: length }))).toBe('response_length: outside 0..2147483647');
    });
    it.each(['-1', '-200', '1e3', ' 200', '200 ', '+200', '2.0', '0x1F', '', '２００', 'NaN', 'Infinity', '1_000'])(
      'rejects %j as not a decimal integer',
      (value) => {
        expect(reasonFor(accessLog({ response_length: value }))).toBe('response_length: not a decimal integer');
      },
    );
    it.each(['0200', '00', '007'])('rejects the leading zeros of %s', (value) => {
      expect(reasonFor(accessLog({ response_length: value }))).toBe('response_length: has a leading zero');
    });
  });

  describe('request_time', () => {
    it('keeps the milliseconds exactly: 1700000000123 → 1700000000123000 µs = …20.123', () => {
      const result = validateAccessLog(accessLog({ request_time: '1700000000123' }), context);
      if (!result.ok) throw new Error(result.reason);
      expect(result.row.request_time).toBe(1700000000123000);
      expect(new Date((result.row.request_time as number) / 1000).toISOString()).toBe('2023-11-14T22:13:20.123Z');
      expect(epochMillisToIcebergTimestamp(1700000000123)).toBe(1700000000123000);
    });
    it('accepts 2015-01-01T00:00:00.000Z and now + 1 day, the ends of the window', () => {
      expect(reasonFor(accessLog({ request_time: String(MIN_REQUEST_TIME_MILLIS) }))).toBeUndefined();
      expect(reasonFor(accessLog({ request_time: String(NOW + MAX_FUTURE_SKEW_MILLIS) }))).toBeUndefined();
    });
    it('rejects a time before 2015 and one more than a day ahead', () => {
      expect(reasonFor(accessLog({ request_time: String(MIN_REQUEST_TIME_MILLIS - 1) }))).toBe('request_time: before 2015-01-01');
      expect(reasonFor(accessLog({ request_time: '0' }))).toBe('request_time: before 2015-01-01');
      expect(reasonFor(accessLog({ request_time: String(NOW + MAX_FUTURE_SKEW_MILLIS + 1) }))).toBe('request_time: more than a day in the future');
    });
    it('takes "now" from the context', () => {
      const later = validationContextAt(NOW + 10 * MAX_FUTURE_SKEW_MILLIS);
      expect(validateAccessLog(accessLog({ request_time: String(NOW + 5 * MAX_FUTURE_SKEW_MILLIS) }), later).ok).toBe(true);
    });
    it.each(['1705319999.123', '1.705319999123e12', '2024-01-15T11:59:59.123Z', '-1705319999123'])('rejects %s as not epoch milliseconds', (value) => {
      expect(reasonFor(accessLog({ request_time: value }))).toBe('request_time: not a decimal integer');
    });
  });

  describe('ip', () => {
    it.each(['203.0.113.42', '0.0.0.0', '255.255.255.255', '2001:db8::1', '::1', '::ffff:192.0.2.1', '2001:0db8:0000:0000:0000:ff00:0042:8329'])(
      'accepts %s',
      (ip) => {
        expect(reasonFor(accessLog({ ip }))).toBeUndefined();
      },
    );
    it.each(['256.1.1.1', '1.2.3', '01.2.3.4', '1.2.3.4 ', ' 1.2.3.4', 'localhost', '::g', '1.2.3.4.5', '12345::1:2:3:4:5:6:7', '', 'a'.repeat(46)])(
      'rejects %j',
      (ip) => {
        expect(reasonFor(accessLog({ ip }))).toBe('ip: not an IPv4 or IPv6 address');
      },
    );
  });

  describe('string fields', () => {
    it('keeps unicode user names and emoji exactly', () => {
      for (const user of ['józef.müller', '山田太郎', '🦄 unicorn 👩‍💻', 'e\u0301', 'ﬁ']) {
        const result = validateAccessLog(accessLog({ user }), context);
        expect(result.ok && result.row.user).toBe(user);
      }
    });
    it('accepts 2048 UTF-16 code units and rejects 2049 (an emoji counts as two)', () => {
      expect(reasonFor(accessLog({ path: 'p'.repeat(2048) }))).toBeUndefined();
      expect(reasonFor(accessLog({ path: 'p'.repeat(2049) }))).toBe('path: longer than 2048 characters');
      expect(reasonFor(accessLog({ path: '😀'.repeat(1024) }))).toBeUndefined();
      expect(reasonFor(accessLog({ path: `${'😀'.repeat(1024)}x` }))).toBe('path: longer than 2048 characters');
    });
    it('rejects an empty request id (or other required string) but keeps an empty nullable one', () => {
      expect(reasonFor(accessLog({ request_id: '' }))).toBe('request_id: empty');
      expect(reasonFor(accessLog({ stage: '' }))).toBe('stage: empty');
      const result = validateAccessLog(accessLog({ user: '' }), context);
      expect(result.ok && result.row.user).toBe('');
    });
    it('rejects an unpaired surrogate, which cannot be stored as UTF-8', () => {
      expect(reasonFor(accessLog({ user: 'a\ud800b' }))).toBe('user: contains an unpaired surrogate (not valid Unicode)');
      expect(reasonFor(accessLog({ user: '\udc00' }))).toBe('user: contains an unpaired surrogate (not valid Unicode)');
    });
    it('accepts escaped control characters inside a value and keeps them', () => {
      const result = validateAccessLog(accessLog({ user: 'tab\there\u0001' }), context);
      expect(result.ok && result.row.user).toBe('tab\there\u0001');
    });
  });

  describe('failure reasons', () => {
    it('never contain the offending value', () => {
      const secret = '198.51.100.77-secret';
      expect(reasonFor(accessLog({ ip: secret }))).not.toContain(secret);
      expect(reasonFor(accessLog({ status: '777777' }))).not.toContain('777777');
    });
    it('carry the request id when it looks like one, and not otherwise', () => {
      expect(validateAccessLog(accessLog({ status: 'x' }), context)).toEqual({
        ok: false,
        reason: 'status: not a decimal integer',
        requestId: 'c6b2a3e4-1f0d-4b8a-9c2e-5d7f8a9b0c1d',
      });
      const garbled = validateAccessLog(accessLog({ status: 'x', request_id: 'alice@example.com 203.0.113.9' }), context);
      expect(garbled).toEqual({ ok: false, reason: 'status: not a decimal integer' });
      expect(validateAccessLog(without(accessLog({ status: 'x' }), 'request_id'), context)).toEqual({ ok: false, reason: 'request_id: missing' });
    });
  });

  describe('compilation', () => {
    it('rejects duplicate field names and an empty list', () => {
      const field = ACCESS_LOG_FIELDS[0] as AccessLogField;
      expect(() => compileAccessLogSchema([field, field])).toThrow('duplicate field name');
      expect(() => compileAccessLogSchema([])).toThrow('the list is empty');
    });
    it('rejects a field type it does not know', () => {
      const strange = { ...(ACCESS_LOG_FIELDS[0] as AccessLogField), type: 'decimal' } as unknown as AccessLogField;
      expect(() => compileAccessLogSchema([strange])).toThrow('unsupported type decimal');
    });
    it('compiles any field list: a two-field schema validates only those fields', () => {
      const schema = compileAccessLogSchema([
        { name: 'a', source: '$context.a', type: 'integer', nullable: false, description: '' },
        { name: 'b', source: '$context.b', type: 'string', nullable: true, description: '' },
      ]);
      expect(schema.validate({ a: '7', b: '-' }, context)).toEqual({ ok: true, row: { a: 7, b: null } });
      expect(schema.serialise({ a: 7, b: null })).toBe('{"a":7,"b":null}');
    });
  });
});

describe('the canonical fast path', () => {
  const canonical = (record: Record<string, unknown>): string => JSON.stringify(record);
  const slowPath = (text: string): string | undefined => {
    const result = validateAccessLog(JSON.parse(text), context);
    return result.ok ? ACCESS_LOG_SCHEMA.serialise(result.row) : undefined;
  };

  it('produces exactly what the general path produces', () => {
    for (const record of [
      accessLog(),
      accessLog({ user: '-', tenant_id: '-', ip: '-', response_length: '-', error_type: 'UNAUTHORIZED', status: '401' }),
      accessLog({ user: 'józef 🦄 山田', ip: '2001:db8::1', request_time: String(MIN_REQUEST_TIME_MILLIS), response_length: '0' }),
    ]) {
      const text = canonical(record);
      expect(fastPath(text)).toBe(slowPath(text));
      expect(fastPath(`${text}\n`)).toBe(slowPath(text));
    }
  });

  it.each([
    ['whitespace', JSON.stringify(accessLog(), null, 1)],
    ['another key order', JSON.stringify({ ...without(accessLog(), 'request_id'), request_id: 'r1' })],
    ['an unknown field', JSON.stringify({ ...accessLog(), extra: 'x' })],
    ['an escape sequence', JSON.stringify(accessLog({ user: 'a"b' }))],
    ['a missing field', JSON.stringify(without(accessLog(), 'error_type'))],
    ['two newlines', `${JSON.stringify(accessLog())}\n\n`],
    ['a carriage return', `${JSON.stringify(accessLog())}\r\n`],
    ['something after the object', `${JSON.stringify(accessLog())}x`],
    ['a truncated line', JSON.stringify(accessLog()).slice(0, -2)],
    ['an invalid value', JSON.stringify(accessLog({ status: '700' }))],
    ['"-" in a required field', JSON.stringify(accessLog({ stage: '-' }))],
    ['a numeric value', JSON.stringify(accessLog({ status: 200 }))],
  ])('declines a line with %s (the general path decides)', (_label, text) => {
    expect(fastPath(text)).toBeUndefined();
  });

  it('declines invalid UTF-8', () => {
    const input = Buffer.concat([Buffer.from(JSON.stringify(accessLog({ user: 'ab' })).replace('ab', 'a\u0000b'))]);
    input[input.indexOf(0)] = 0xff;
    const output = Buffer.alloc(input.length + ACCESS_LOG_SCHEMA.maxCanonicalGrowth);
    expect(ACCESS_LOG_SCHEMA.normaliseCanonical(input, 0, input.length, output, 0, context)).toBe(-1);
  });

  it('works on a slice of a larger buffer and writes at an offset', () => {
    const text = JSON.stringify(accessLog());
    const input = Buffer.from(`garbage${text}garbage`);
    const output = Buffer.alloc(text.length + 100);
    const end = ACCESS_LOG_SCHEMA.normaliseCanonical(input, 7, 7 + Buffer.byteLength(text), output, 10, context);
    expect(output.toString('utf8', 10, end)).toBe(slowPath(text));
  });

  it('grows a record by at most maxCanonicalGrowth bytes', () => {
    const everyNullableAbsent = Object.fromEntries(ACCESS_LOG_FIELDS.map((field) => [field.name, field.nullable ? '-' : String(accessLog()[field.name])]));
    const text = JSON.stringify(everyNullableAbsent);
    const output = fastPath(text) as string;
    expect(Buffer.byteLength(output) - Buffer.byteLength(text)).toBeLessThanOrEqual(ACCESS_LOG_SCHEMA.maxCanonicalGrowth);
    expect(ACCESS_LOG_SCHEMA.maxCanonicalGrowth).toBe(nullable.length + 1);
  });
});
