import { measureMeterHours, meterQuantity, type MeterHour } from '../../../core/usage/meter-values';
import { parseMeteringConfig } from '../../../core/usage/metering-config';

const { meters } = parseMeteringConfig({
  dimensions: [{ name: 'api_requests', measure: 'requests', match: { resourcePaths: ['*'] } }],
  meters: [
    { name: 'tokens', aggregation: 'SUM' },
    { name: 'users', aggregation: 'UNIQUE_COUNT', property: 'user_id' },
    { name: 'exports', aggregation: 'COUNT' },
    { name: 'peak', aggregation: 'MAX', decimals: 1 },
    { name: 'storage_gb', aggregation: 'LATEST', decimals: 3 },
  ],
  aggregation: { graceSeconds: 0, lookBackHours: 6, maxHoursPerRun: 24 },
});
const meter = (name: string) => meters.find((m) => m.name === name)!;
const HOUR = Date.UTC(2026, 10, 23, 11);
const row = (name: string, overrides: Partial<MeterHour> = {}): MeterHour => ({
  tenantId: 'acme', meter: name, hour: HOUR, events: 4, sum: '10.500000', max: '7.250000', latest: '1.125000', uniqueValues: 3, ...overrides,
});

describe('meter quantities', () => {
  it.each([
    ['exports', 4], ['users', 3], ['tokens', 11], ['peak', 73], ['storage_gb', 1125],
  ])('%s bills %d units', (name, units) => {
    expect(meterQuantity(meter(name), row(name))).toBe(units);
  });

  it('keeps exact integers up to 2^53 and refuses more', () => {
    expect(meterQuantity(meter('tokens'), row('tokens', { sum: '9007199254740991.000000' }))).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => meterQuantity(meter('tokens'), row('tokens', { sum: '9007199254740992' }))).toThrow('beyond exact integers');
  });

  it('measures configured meters and counts the rows of meters no longer configured', () => {
    const result = measureMeterHours([row('tokens'), row('retired'), row('exports', { tenantId: 'globex' })], meters);
    expect(result).toEqual({
      measurements: [
        { tenantId: 'acme', dimension: 'tokens', hour: HOUR, quantity: 11 },
        { tenantId: 'globex', dimension: 'exports', hour: HOUR, quantity: 4 },
      ],
      unconfigured: 1,
    });
  });
});
