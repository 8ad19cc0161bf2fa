import { CombinedConsumptionSource, ConsumptionOverlapError } from '../../../core/cost/combined-consumption';
import { checkConsumptionRange, ConsumptionRangeError, type ConsumptionRecord, type ConsumptionSource, type Granularity, periodStart } from '../../../core/cost/consumption';

const D23 = Date.UTC(2026, 10, 23);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const record = (tenantId: string, stream: ConsumptionRecord['stream'], start: number, value: string): ConsumptionRecord => ({ tenantId, stream, granularity: 'DAILY', start, value });

/** A source with fixed records that remembers what it was asked. */
class FixedSource implements ConsumptionSource {
  readonly asked: [{ start: number; end: number }, Granularity][] = [];
  constructor(private readonly records: ConsumptionRecord[]) {}
  async read(range: { start: number; end: number }, granularity: Granularity) {
    this.asked.push([range, granularity]);
    return this.records;
  }
}

describe('CombinedConsumptionSource', () => {
  it('asks every source for the same range and returns all their records, ordered', async () => {
    const lake = new FixedSource([record('globex', 'api_requests', D23, '3'), record('acme', 'response_bytes', D23 + DAY, '10')]);
    const metrics = new FixedSource([record('acme', 'lambda_invocations', D23, '2')]);
    const combined = new CombinedConsumptionSource([lake, metrics]);
    await expect(combined.read({ start: D23, end: D23 + 2 * DAY }, 'DAILY')).resolves.toEqual([
      record('acme', 'lambda_invocations', D23, '2'),
      record('globex', 'api_requests', D23, '3'),
      record('acme', 'response_bytes', D23 + DAY, '10'),
    ]);
    expect(lake.asked).toEqual([[{ start: D23, end: D23 + 2 * DAY }, 'DAILY']]);
    expect(metrics.asked).toEqual(lake.asked);
  });

  it('refuses two sources reporting the same tenant, stream and period', async () => {
    const combined = new CombinedConsumptionSource([new FixedSource([record('acme', 'api_requests', D23, '1')]), new FixedSource([record('acme', 'api_requests', D23, '2')])]);
    await expect(combined.read({ start: D23, end: D23 + DAY }, 'DAILY')).rejects.toThrow(ConsumptionOverlapError);
  });

  it('checks the range before asking any source', async () => {
    const source = new FixedSource([]);
    await expect(new CombinedConsumptionSource([source]).read({ start: D23, end: D23 + HOUR }, 'DAILY')).rejects.toThrow(ConsumptionRangeError);
    expect(source.asked).toEqual([]);
  });

  it('is empty over no sources', async () => {
    await expect(new CombinedConsumptionSource([]).read({ start: D23, end: D23 + HOUR }, 'HOURLY')).resolves.toEqual([]);
  });
});

describe('consumption ranges', () => {
  it('takes whole UTC hours for HOURLY and whole UTC days for DAILY', () => {
    expect(() => checkConsumptionRange({ start: D23 + HOUR, end: D23 + 3 * HOUR }, 'HOURLY')).not.toThrow();
    expect(() => checkConsumptionRange({ start: D23, end: D23 + 7 * DAY }, 'DAILY')).not.toThrow();
  });

  it.each<[string, { start: number; end: number }, Granularity, RegExp]>([
    ['an hour boundary for DAILY', { start: D23 + HOUR, end: D23 + DAY }, 'DAILY', /start .* is not the start of a UTC day/],
    ['a minute for HOURLY', { start: D23, end: D23 + 60_000 }, 'HOURLY', /end .* not the start of a UTC hour/],
    ['an empty range', { start: D23, end: D23 }, 'HOURLY', /before its end/],
    ['a reversed range', { start: D23 + DAY, end: D23 }, 'DAILY', /before its end/],
    ['seconds instead of milliseconds', { start: 1.5, end: D23 }, 'HOURLY', /epoch milliseconds/],
    ['NaN', { start: Number.NaN, end: D23 }, 'HOURLY', /epoch milliseconds/],
    ['an unknown granularity', { start: D23, end: D23 + DAY }, 'WEEKLY' as Granularity, /unknown granularity/],
  ])('refuses %s', (_, range, granularity, message) => {
    expect(() => checkConsumptionRange(range, granularity)).toThrow(message);
    expect(() => checkConsumptionRange(range, granularity)).toThrow(ConsumptionRangeError);
  });

  it('finds the period a moment falls in', () => {
    expect(periodStart(D23 + 10 * HOUR + 59 * 60_000, 'HOURLY')).toBe(D23 + 10 * HOUR);
    expect(periodStart(D23 + DAY - 1, 'DAILY')).toBe(D23);
  });
});
