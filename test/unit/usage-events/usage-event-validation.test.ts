import fc from 'fast-check';
import { parseMeteringConfig, type MeteringConfig } from '../../../core/usage/metering-config';
import { parseRfc3339, validateUsageRequest, type UsageCaller } from '../../../core/usage-events/usage-event-validation';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const CONFIG: MeteringConfig = parseMeteringConfig({
  dimensions: [{ name: 'api_requests', measure: 'requests', match: { resourcePaths: ['*'] } }],
  meters: [
    { name: 'tokens', aggregation: 'SUM' },
    { name: 'active_users', aggregation: 'UNIQUE_COUNT', property: 'user_id' },
    { name: 'exports', aggregation: 'COUNT' },
    { name: 'peak', aggregation: 'MAX' },
    { name: 'storage_gb', aggregation: 'LATEST', decimals: 3 },
  ],
  usageEvents: { maxAgeHours: 3, maxFutureSeconds: 300, maxEventsPerRequest: 5, maxPropertiesBytes: 100 },
  aggregation: { graceSeconds: 0, lookBackHours: 6, maxHoursPerRun: 24 },
});
const ACME: UsageCaller = { kind: 'tenant', tenantId: 'acme' };
const BACKEND: UsageCaller = { kind: 'backend' };

function event(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'evt-1', meter: 'tokens', quantity: 12, timestamp: '2026-11-23T11:30:00Z', ...overrides };
}

function only(body: unknown, caller: UsageCaller = ACME) {
  const result = validateUsageRequest(body, caller, CONFIG, NOW);
  if (!result.ok) throw new Error(`request refused: ${result.errors.join('; ')}`);
  return result;
}

function reasonsOf(overrides: Record<string, unknown>, caller: UsageCaller = ACME): readonly string[] {
  const result = only({ events: [event(overrides)] }, caller);
  expect(result.accepted).toEqual([]);
  return result.rejected[0].reasons;
}

describe('validateUsageRequest: accepted events', () => {
  it('accepts a valid event for the caller\'s tenant and normalises it', () => {
    const result = only({ events: [event({ properties: { model: 'large', batch: 3, cached: false } })] });
    expect(result.rejected).toEqual([]);
    expect(result.accepted).toEqual([
      { index: 0, tenantId: 'acme', id: 'evt-1', meter: 'tokens', quantity: '12', eventTime: Date.UTC(2026, 10, 23, 11, 30), properties: '{"model":"large","batch":3,"cached":false}' },
    ]);
  });

  it('takes the tenant from the verified caller, never from the body', () => {
    expect(only({ events: [event({ tenantId: 'acme' })] }).accepted[0].tenantId).toBe('acme');
    expect(reasonsOf({ tenantId: 'globex' })).toEqual(['tenantId names another tenant: a tenant reports only its own usage']);
  });

  it('requires a backend caller to name the tenant of each event', () => {
    const result = only({ events: [event({ tenantId: 'globex' }), event({ id: 'evt-2', tenantId: 'initech' }), event({ id: 'evt-3' })] }, BACKEND);
    expect(result.accepted.map((e) => [e.id, e.tenantId])).toEqual([['evt-1', 'globex'], ['evt-2', 'initech']]);
    expect(result.rejected).toEqual([{ index: 2, id: 'evt-3', reasons: ['tenantId is required from a backend caller: 1-64 letters, digits, _ . or -, got none'] }]);
    expect(reasonsOf({ tenantId: 'a b' }, BACKEND)[0]).toMatch(/^tenantId is required from a backend caller/);
  });

  it('keeps the valid events of a batch with invalid ones, by position', () => {
    const result = only({ events: [event({ id: 'a' }), event({ id: 'b', meter: 'nope' }), event({ id: 'c', quantity: -1 }), event({ id: 'd' })] });
    expect(result.accepted.map((e) => [e.index, e.id])).toEqual([[0, 'a'], [3, 'd']]);
    expect(result.rejected.map((e) => [e.index, e.id])).toEqual([[1, 'b'], [2, 'c']]);
  });

  it('lets counting meters omit the quantity, and reads UNIQUE_COUNT values from the meter\'s property', () => {
    const result = only({
      events: [
        { id: 'x1', meter: 'exports', timestamp: '2026-11-23T11:00:00Z' },
        { id: 'x2', meter: 'active_users', timestamp: '2026-11-23T11:00:00Z', properties: { user_id: 'u-7' } },
        { id: 'x3', meter: 'active_users', timestamp: '2026-11-23T11:00:00Z', properties: { user_id: 42 } },
      ],
    });
    expect(result.accepted.map((e) => [e.quantity, e.uniqueValue])).toEqual([['0', undefined], ['0', 'u-7'], ['0', '42']]);
  });

  it('keeps quantities exact as decimal text within the meter\'s decimals', () => {
    const accepted = only({ events: [event({ meter: 'storage_gb', quantity: 1.5 }), event({ id: 'e2', meter: 'storage_gb', quantity: 0.125 }), event({ id: 'e3', quantity: 1e15 })] }).accepted;
    expect(accepted.map((e) => e.quantity)).toEqual(['1.5', '0.125', '1000000000000000']);
  });

  it('accepts time zones and truncates sub-millisecond digits', () => {
    expect(only({ events: [event({ timestamp: '2026-11-23T12:30:00.123456+01:00' })] }).accepted[0].eventTime).toBe(Date.UTC(2026, 10, 23, 11, 30, 0, 123));
    expect(only({ events: [event({ timestamp: '2026-11-23T12:04:59Z' })] }).accepted).toHaveLength(1);
  });
});

describe('validateUsageRequest: each rejection says why', () => {
  it.each([
    [{ meter: 'nope' }, 'unknown meter "nope" (known: tokens, active_users, exports, peak, storage_gb)'],
    [{ meter: 7 }, 'meter must be a meter name, got 7'],
    [{ quantity: -1 }, 'quantity must be a finite number ≥ 0, got -1'],
    [{ quantity: '12' }, 'quantity must be a finite number ≥ 0, got "12"'],
    [{ quantity: null }, 'quantity must be a finite number ≥ 0, got null'],
    [{ quantity: undefined }, 'quantity is required for SUM meter "tokens"'],
    [{ quantity: 1.5 }, 'quantity 1.5 has more than 0 fraction digits, the most meter "tokens" allows'],
    [{ meter: 'storage_gb', quantity: 0.0001 }, 'quantity 0.0001 has more than 3 fraction digits, the most meter "storage_gb" allows'],
    [{ meter: 'storage_gb', quantity: 1e13 }, 'quantity 10000000000000 is too large for meter "storage_gb" (at most 9007199254740)'],
    [{ timestamp: '2026-11-23 11:30:00' }, 'timestamp "2026-11-23 11:30:00" is not an RFC 3339 time with a time zone, like 2026-11-23T10:15:00Z'],
    [{ timestamp: '2026-11-23T11:30:00' }, 'timestamp "2026-11-23T11:30:00" is not an RFC 3339 time with a time zone, like 2026-11-23T10:15:00Z'],
    [{ timestamp: '2026-02-30T11:30:00Z' }, 'timestamp "2026-02-30T11:30:00Z" is not an RFC 3339 time with a time zone, like 2026-11-23T10:15:00Z'],
    [{ timestamp: 1764000000000 }, 'timestamp must be an RFC 3339 text with a time zone, got 1764000000000'],
    [{ timestamp: '2026-11-23T08:59:59Z' }, 'timestamp 2026-11-23T08:59:59Z is more than 3 hours old: usage that late cannot be counted any more'],
    [{ timestamp: '2026-11-23T12:05:01Z' }, 'timestamp 2026-11-23T12:05:01Z is more than 300 seconds in the future'],
    [{ id: '' }, 'id must be 1-128 letters, digits or ._:@/+=- starting with a letter or digit, got ""'],
    [{ id: 'a'.repeat(129) }, 'id must be 1-128 letters, digits or ._:@/+=- starting with a letter or digit, got a string of 129 characters'],
    [{ id: 'has space' }, 'id must be 1-128 letters, digits or ._:@/+=- starting with a letter or digit, got "has space"'],
    [{ quantitiy: 3 }, 'unknown field "quantitiy"'],
    [{ properties: [] }, 'properties must be an object, got an array'],
    [{ properties: { 'bad name': 1 } }, 'property name "bad name" must be 1-64 letters, digits or _, not starting with a digit'],
    [{ properties: { nested: { a: 1 } } }, 'property nested must be a string, a finite number or a boolean, got object'],
    [{ properties: { long: 'x'.repeat(100) } }, 'properties are 111 bytes as JSON, at most 100 are allowed'],
    [{ meter: 'active_users', properties: {} }, 'meter "active_users" counts distinct values of property "user_id": it must be a non-empty string of at most 256 characters or a finite number, got none'],
    [{ meter: 'active_users', properties: { user_id: '' } }, 'meter "active_users" counts distinct values of property "user_id": it must be a non-empty string of at most 256 characters or a finite number, got ""'],
  ])('%j → %s', (overrides, reason) => {
    expect(reasonsOf(overrides)).toEqual([reason]);
  });

  it('lists every reason of an event at once', () => {
    expect(reasonsOf({ id: '', meter: 'nope', timestamp: 'yesterday', extra: true })).toHaveLength(4);
  });

  it('refuses a repeated id within one request, naming the first', () => {
    const result = only({ events: [event(), event({ quantity: 5 })] });
    expect(result.accepted).toHaveLength(1);
    expect(result.rejected).toEqual([{ index: 1, id: 'evt-1', reasons: ['id "evt-1" is repeated: the same event is already at index 0'] }]);
  });

  it('refuses a body that is not an events batch as a whole', () => {
    const refuse = (body: unknown) => {
      const result = validateUsageRequest(body, ACME, CONFIG, NOW);
      return result.ok ? [] : result.errors;
    };
    expect(refuse(null)).toEqual(['got null']);
    expect(refuse([])).toEqual(['got an array']);
    expect(refuse({})).toEqual(['events must be an array of events, got none']);
    expect(refuse({ events: [] })).toEqual(['events is empty: send at least one event']);
    expect(refuse({ events: Array.from({ length: 6 }, (_, i) => event({ id: `e${i}` })) })).toEqual(['events has 6 events, at most 5 per request are allowed']);
    expect(refuse({ events: [event()], tenant: 'globex' })).toEqual(['unknown field "tenant" (the body has only "events")']);
  });
});

describe('validateUsageRequest: properties over arbitrary input', () => {
  const NUM_RUNS = 2000;

  it(`never throws, and puts every event in exactly one of accepted and rejected with reasons (${NUM_RUNS} runs)`, () => {
    const anyEvent = fc.oneof(
      fc.anything(),
      fc.record(
        {
          id: fc.oneof(fc.string(), fc.constantFrom('evt-1', 'evt-2')),
          meter: fc.oneof(fc.constantFrom('tokens', 'active_users', 'exports', 'peak', 'storage_gb', 'nope'), fc.anything()),
          quantity: fc.oneof(fc.double(), fc.integer(), fc.anything()),
          timestamp: fc.oneof(fc.constantFrom('2026-11-23T11:30:00Z', '2026-11-23T11:59:59.999-00:30'), fc.string(), fc.date({ noInvalidDate: true }).map((d) => d.toISOString())),
          properties: fc.oneof(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.double(), fc.boolean(), fc.anything())), fc.anything()),
          tenantId: fc.oneof(fc.constant('acme'), fc.string()),
        },
        { requiredKeys: [] },
      ),
    );
    fc.assert(
      fc.property(fc.array(anyEvent, { minLength: 1, maxLength: 5 }), fc.boolean(), (events, backend) => {
        const result = validateUsageRequest({ events }, backend ? BACKEND : ACME, CONFIG, NOW);
        if (!result.ok) return false;
        const indexes = [...result.accepted.map((e) => e.index), ...result.rejected.map((e) => e.index)].sort((a, b) => a - b);
        expect(indexes).toEqual(events.map((_, i) => i));
        for (const rejected of result.rejected) expect(rejected.reasons.length).toBeGreaterThan(0);
        for (const accepted of result.accepted) {
          if (!backend) expect(accepted.tenantId).toBe('acme');
          expect(Number(accepted.quantity)).toBeGreaterThanOrEqual(0);
          expect(accepted.eventTime).toBeLessThanOrEqual(NOW + 300_000);
          expect(accepted.eventTime).toBeGreaterThanOrEqual(NOW - 3 * 3_600_000);
        }
        return true;
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it(`parses every RFC 3339 rendering of an instant back to that instant (${NUM_RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.date({ min: new Date(0), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true }), fc.integer({ min: -23 * 60, max: 23 * 60 }), (date, offsetMinutes) => {
        const shifted = new Date(date.getTime() + offsetMinutes * 60_000).toISOString().slice(0, -1);
        const sign = offsetMinutes < 0 ? '-' : '+';
        const abs = Math.abs(offsetMinutes);
        const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
        expect(parseRfc3339(`${shifted}${zone}`)).toBe(date.getTime());
        expect(parseRfc3339(date.toISOString())).toBe(date.getTime());
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
