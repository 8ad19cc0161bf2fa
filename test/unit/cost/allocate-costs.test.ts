import { allocateCosts, CostAllocationError, splitByWeights, type AllocationResult } from '../../../core/cost/allocate-costs';
import { parseCostAllocationConfig, type CostAllocationConfig } from '../../../core/cost/allocation-config';
import type { ConsumptionRecord } from '../../../core/cost/consumption';
import type { CostLine } from '../../../core/cost/cost-line';

const HOUR = 3_600_000;
const DAY1 = Date.UTC(2026, 10, 1);
const DAY2 = DAY1 + 24 * HOUR;

const config = parseCostAllocationConfig({
  currency: 'USD',
  tenantTag: 'user_tenant_id',
  rules: [
    { service: 'AmazonApiGateway', split: 'proportional', stream: 'api_requests' },
    { service: 'AmazonDynamoDB', split: 'proportional', stream: 'dynamodb_capacity_units' },
    { service: 'AWSLambda', split: 'proportional', stream: 'lambda_duration_ms', whenNoConsumption: 'even' },
    { service: 'AWSGlue', split: 'even' },
  ],
});

const TENANTS = ['acme', 'globex', 'initech'];

const cost = (service: string, amount: string, extra: Partial<CostLine> = {}): CostLine => ({ start: DAY1, service, amount, tags: {}, currency: 'USD', ...extra });
const silo = (tenantId: string) => ({ tags: { user_tenant_id: tenantId, user_service: 'exports' } });
const use = (tenantId: string, stream: ConsumptionRecord['stream'], value: string, extra: Partial<ConsumptionRecord> = {}): ConsumptionRecord => ({
  tenantId, stream, granularity: 'DAILY', start: DAY1, value, ...extra,
});

function allocate(costs: CostLine[], consumption: ConsumptionRecord[] = [], tenants: string[] = TENANTS, withConfig: CostAllocationConfig = config): AllocationResult {
  return allocateCosts({ config: withConfig, tenants, costs, consumption, granularity: 'DAILY' });
}

/** `[tenant, basis, amountMinor]` of every allocation, for compact expectations. */
const parts = (result: AllocationResult) => result.allocations.map((a) => [a.tenantId, a.basis, a.amountMinor]);

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CostAllocationError);
    return [...(error as CostAllocationError).problems];
  }
  throw new Error('expected a CostAllocationError');
}

describe('allocateCosts: golden cases', () => {
  it('gives siloed lines wholly to the tagged tenant, whatever the service rule says', () => {
    const result = allocate([
      cost('AmazonS3', '0.0456789012', { resourceId: 'meter-exports-initech', ...silo('initech') }),
      cost('AmazonS3', '1.0000000001', { resourceId: 'meter-exports-initech', ...silo('initech') }),
      cost('AWSLambda', '2.50', silo('acme')),
    ]);
    expect(result.allocations).toEqual([
      { tenantId: 'acme', day: '2026-11-01', service: 'AWSLambda', basis: 'silo', amountMinor: 250n },
      // 0.0456789012 + 1.0000000001 = 1.0456789013 → 1.05
      { tenantId: 'initech', day: '2026-11-01', service: 'AmazonS3', basis: 'silo', amountMinor: 105n },
    ]);
    expect(result).toMatchObject({ totalMinor: 355n, allocatedMinor: 355n, unallocatedMinor: 0n, exactTotal: '3.5456789013', roundingDifference: '0.0043210987', unallocated: [] });
    expect(result.byTenant).toEqual([
      { tenantId: 'acme', costMinor: 250n, byService: [{ service: 'AWSLambda', costMinor: 250n }] },
      { tenantId: 'globex', costMinor: 0n, byService: [] },
      { tenantId: 'initech', costMinor: 105n, byService: [{ service: 'AmazonS3', costMinor: 105n }] },
    ]);
  });

  it('splits 10.00 1:1:1 into 3.34/3.33/3.33, the odd cent to the first tenant id', () => {
    const result = allocate([cost('AmazonApiGateway', '10.00')], ['globex', 'initech', 'acme'].map((t) => use(t, 'api_requests', '5')));
    expect(result.allocations).toEqual([
      { tenantId: 'acme', day: '2026-11-01', service: 'AmazonApiGateway', basis: 'proportional', stream: 'api_requests', amountMinor: 334n },
      { tenantId: 'globex', day: '2026-11-01', service: 'AmazonApiGateway', basis: 'proportional', stream: 'api_requests', amountMinor: 333n },
      { tenantId: 'initech', day: '2026-11-01', service: 'AmazonApiGateway', basis: 'proportional', stream: 'api_requests', amountMinor: 333n },
    ]);
    expect(result.totalMinor).toBe(1000n);
  });

  it('splits 10.00 1:2:4 by largest remainder: 1.43/2.86/5.71', () => {
    // exact 142.857…, 285.714…, 571.428…: floors 142 + 285 + 571 = 998; remainders 6/7, 5/7, 3/7 take the 2 cents left
    const result = allocate([cost('AmazonApiGateway', '6.00'), cost('AmazonApiGateway', '4.00')], [use('acme', 'api_requests', '1'), use('globex', 'api_requests', '2'), use('initech', 'api_requests', '4')]);
    expect(parts(result)).toEqual([['acme', 'proportional', 143n], ['globex', 'proportional', 286n], ['initech', 'proportional', 571n]]);
  });

  it('splits evenly between the known tenants (duplicates count once)', () => {
    const result = allocate([cost('AWSGlue', '0.1000000000')], [], ['initech', 'acme', 'globex', 'acme']);
    expect(result.allocations).toEqual([
      { tenantId: 'acme', day: '2026-11-01', service: 'AWSGlue', basis: 'even', amountMinor: 4n },
      { tenantId: 'globex', day: '2026-11-01', service: 'AWSGlue', basis: 'even', amountMinor: 3n },
      { tenantId: 'initech', day: '2026-11-01', service: 'AWSGlue', basis: 'even', amountMinor: 3n },
    ]);
  });

  it('splits a credit like a charge, every part negative', () => {
    const result = allocate([cost('AWSLambda', '-1.00')], TENANTS.map((t) => use(t, 'lambda_duration_ms', '250')));
    expect(parts(result)).toEqual([['acme', 'proportional', -34n], ['globex', 'proportional', -33n], ['initech', 'proportional', -33n]]);
    expect(result).toMatchObject({ totalMinor: -100n, allocatedMinor: -100n, exactTotal: '-1.00', roundingDifference: '0.00' });
  });

  it('sums a group exactly before rounding once, halves away from zero', () => {
    // 10.00 − 0.005 = 9.995 → 10.00 (rounding each line would give 10.00 − 0.01 = 9.99)
    const result = allocate([cost('AWSLambda', '10.00'), cost('AWSLambda', '-0.005')], TENANTS.map((t) => use(t, 'lambda_duration_ms', '1')));
    expect(parts(result)).toEqual([['acme', 'proportional', 334n], ['globex', 'proportional', 333n], ['initech', 'proportional', 333n]]);
    expect(result).toMatchObject({ totalMinor: 1000n, exactTotal: '9.995', roundingDifference: '0.005' });
    // A credit of exactly half a cent rounds to −0.01, as its charge would to 0.01.
    expect(allocate([cost('AWSGlue', '-0.005')]).totalMinor).toBe(-1n);
  });

  it('reports a service without a rule as unallocated, with its line count', () => {
    const result = allocate([cost('AWSSecretsManager', '0.1234'), cost('AWSSecretsManager', '0.0001', { resourceId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:x' })]);
    expect(result.allocations).toEqual([]);
    expect(result.unallocated).toEqual([{ day: '2026-11-01', service: 'AWSSecretsManager', amountMinor: 12n, reason: 'no rule for service AWSSecretsManager', lineCount: 2 }]);
    expect(result).toMatchObject({ totalMinor: 12n, allocatedMinor: 0n, unallocatedMinor: 12n, exactTotal: '0.1235', roundingDifference: '-0.0035' });
  });

  it('leaves a day without consumption unallocated, or splits it evenly, as the rule says', () => {
    const otherDay = [use('acme', 'api_requests', '7', { start: DAY2 }), use('acme', 'lambda_duration_ms', '7', { start: DAY2 }), use('globex', 'api_requests', '0'), use('globex', 'lambda_duration_ms', '0')];
    const result = allocate([cost('AmazonApiGateway', '1.00'), cost('AWSLambda', '1.00')], otherDay);
    expect(result.unallocated).toEqual([{ day: '2026-11-01', service: 'AmazonApiGateway', amountMinor: 100n, reason: 'no api_requests consumption on 2026-11-01', lineCount: 1 }]);
    expect(result.allocations).toEqual([
      { tenantId: 'acme', day: '2026-11-01', service: 'AWSLambda', basis: 'even', amountMinor: 34n },
      { tenantId: 'globex', day: '2026-11-01', service: 'AWSLambda', basis: 'even', amountMinor: 33n },
      { tenantId: 'initech', day: '2026-11-01', service: 'AWSLambda', basis: 'even', amountMinor: 33n },
    ]);
    expect(allocate([cost('AWSLambda', '1.00')], [], []).unallocated).toEqual([
      { day: '2026-11-01', service: 'AWSLambda', amountMinor: 100n, reason: 'no lambda_duration_ms consumption on 2026-11-01 and no known tenants to split evenly between', lineCount: 1 },
    ]);
    expect(allocate([cost('AWSGlue', '1.00')], [], []).unallocated).toEqual([
      { day: '2026-11-01', service: 'AWSGlue', amountMinor: 100n, reason: 'no known tenants to split evenly between', lineCount: 1 },
    ]);
  });

  it('reports a silo tag naming an unknown tenant as unallocated; an empty tag is no tag', () => {
    const result = allocate([cost('AmazonS3', '2.005', silo('hooli')), cost('AmazonS3', '1.00', silo('hooli')), cost('AWSGlue', '0.03', { tags: { user_tenant_id: '' } })]);
    expect(result.unallocated).toEqual([{ day: '2026-11-01', service: 'AmazonS3', amountMinor: 301n, reason: 'tag user_tenant_id names unknown tenant "hooli"', lineCount: 2 }]);
    expect(parts(result)).toEqual([['acme', 'even', 1n], ['globex', 'even', 1n], ['initech', 'even', 1n]]);
  });

  it('weighs half capacity units exactly', () => {
    // 1.00 by 0.5 : 1 → 33.33… and 66.66…: floors 33 + 66, the last cent to the larger remainder
    const result = allocate([cost('AmazonDynamoDB', '1.00')], [use('acme', 'dynamodb_capacity_units', '0.5'), use('globex', 'dynamodb_capacity_units', '1')]);
    expect(parts(result)).toEqual([['acme', 'proportional', 33n], ['globex', 'proportional', 67n]]);
  });

  it('sums HOURLY consumption into its UTC day and takes DAILY as is', () => {
    const consumption = [
      use('acme', 'api_requests', '3', { granularity: 'HOURLY', start: DAY1 }),
      use('acme', 'api_requests', '2', { granularity: 'HOURLY', start: DAY1 + 13 * HOUR }),
      use('acme', 'api_requests', '1000', { granularity: 'HOURLY', start: DAY1 - HOUR }), // the day before
      use('acme', 'api_requests', '1000', { granularity: 'HOURLY', start: DAY2 }), // the day after
      use('globex', 'api_requests', '15'),
    ];
    expect(parts(allocate([cost('AmazonApiGateway', '10.00', { start: DAY1 + 5 * HOUR })], consumption))).toEqual([['acme', 'proportional', 250n], ['globex', 'proportional', 750n]]);
  });

  it('groups lines by UTC day and service and orders the output by day, service and tenant', () => {
    const result = allocate(
      [
        cost('AWSGlue', '0.03', { start: DAY2 }),
        cost('AmazonApiGateway', '0.02', { start: DAY1 + 23 * HOUR + 59 * 60_000 }),
        cost('AmazonApiGateway', '0.02', { start: DAY1 + HOUR }),
        cost('AmazonApiGateway', '0.04', { start: DAY2 }),
        cost('AWSGlue', '0.03', { ...silo('initech') }),
      ],
      [use('globex', 'api_requests', '1'), use('acme', 'api_requests', '1', { start: DAY2 })],
    );
    expect(result.allocations.map((a) => [a.day, a.service, a.tenantId, a.basis, a.amountMinor])).toEqual([
      ['2026-11-01', 'AWSGlue', 'initech', 'silo', 3n],
      ['2026-11-01', 'AmazonApiGateway', 'globex', 'proportional', 4n],
      ['2026-11-02', 'AWSGlue', 'acme', 'even', 1n],
      ['2026-11-02', 'AWSGlue', 'globex', 'even', 1n],
      ['2026-11-02', 'AWSGlue', 'initech', 'even', 1n],
      ['2026-11-02', 'AmazonApiGateway', 'acme', 'proportional', 4n],
    ]);
  });

  it('keeps the part of tenants outside the tenant list unallocated', () => {
    const result = allocate([cost('AmazonApiGateway', '3.00')], [use('acme', 'api_requests', '1'), use('hooli', 'api_requests', '1'), use('zeta', 'api_requests', '1')]);
    expect(parts(result)).toEqual([['acme', 'proportional', 100n]]);
    expect(result.unallocated).toEqual([
      { day: '2026-11-01', service: 'AmazonApiGateway', amountMinor: 200n, reason: 'api_requests consumption by tenants not in the tenant list: "hooli", "zeta"', lineCount: 1 },
    ]);
  });

  it('rounds to the currency minor unit (JPY: none)', () => {
    const yen = parseCostAllocationConfig({ currency: 'JPY', tenantTag: 'user_tenant_id', rules: [{ service: 'AWSGlue', split: 'even' }] });
    const result = allocate([cost('AWSGlue', '100.5', { currency: 'JPY' })], [], ['a', 'b'], yen);
    expect(result).toMatchObject({ currency: 'JPY', minorUnitDigits: 0, totalMinor: 101n, exactTotal: '100.5', roundingDifference: '0.5' });
    expect(parts(result)).toEqual([['a', 'even', 51n], ['b', 'even', 50n]]);
  });
});

describe('allocateCosts: refused input', () => {
  it('refuses lines in another currency, never converting them', () => {
    expect(problemsOf(() => allocate([cost('AWSGlue', '1'), cost('AWSGlue', '1', { currency: 'EUR' })]))).toEqual([
      'costs[1]: currency "EUR" is not the configured USD (cost lines are never converted)',
    ]);
  });

  it('names malformed amounts, starts and tags with the line index', () => {
    expect(problemsOf(() => allocate([cost('AWSGlue', '1,50'), cost('AWSGlue', '0.0000000000001'), cost('AWSGlue', '1', { start: Number.NaN }), cost('', '1'), cost('AWSGlue', '1', { tags: { user_tenant_id: 7 } as any })]))).toEqual([
      'costs[0].amount: must be plain decimal text like "12.34", got "1,50"',
      'costs[1].amount: has more than 12 fraction digits: "0.0000000000001"',
      'costs[2].start: must be a time in epoch milliseconds, got null',
      'costs[3].service: must be a non-empty service code',
      'costs[4].tags.user_tenant_id: must be text, got 7',
    ]);
  });

  it('names malformed consumption with the record index', () => {
    expect(problemsOf(() => allocate([], [
      use('acme', 'api_requests', '-1'),
      use('acme', 'api_requests', '1.0000001'),
      use('acme', 'api_requests', '1', { start: DAY1 + HOUR }),
      use('acme', 'api_requests', '1', { granularity: 'HOURLY', start: DAY1 + 1 }),
      use('acme', 'cpu_seconds' as any, '1'),
      use('', 'api_requests', '1', { granularity: 'MONTHLY' as any }),
    ]))).toEqual([
      'consumption[0].value: must not be negative, got "-1"',
      'consumption[1].value: has more than 6 fraction digits: "1.0000001"',
      'consumption[2].start: must be the start of a UTC day in epoch milliseconds, got 1793494800000 (2026-11-01T01:00:00.000Z)',
      'consumption[3].start: must be the start of a UTC hour in epoch milliseconds, got 1793491200001 (2026-11-01T00:00:00.001Z)',
      'consumption[4].stream: must be one of api_requests, response_bytes, lambda_invocations, lambda_duration_ms, dynamodb_capacity_units, got "cpu_seconds"',
      'consumption[5].tenantId: must be a non-empty tenant id',
      'consumption[5].granularity: must be HOURLY or DAILY, got "MONTHLY"',
    ]);
  });

  it('refuses one tenant, stream and day given both hourly and daily', () => {
    expect(problemsOf(() => allocate([], [use('acme', 'api_requests', '1', { granularity: 'HOURLY' }), use('globex', 'api_requests', '1'), use('acme', 'api_requests', '1')]))).toEqual([
      'consumption[2]: tenant "acme" has both HOURLY and DAILY api_requests on 2026-11-01 (see consumption[0]); give one granularity per tenant, stream and day',
    ]);
  });

  it('refuses another granularity and empty tenant ids', () => {
    expect(problemsOf(() => allocateCosts({ config, tenants: ['acme', ''], costs: [], consumption: [], granularity: 'HOURLY' as any }))).toEqual([
      'granularity: only DAILY is supported, got "HOURLY"',
      'tenants[1]: must be a non-empty tenant id, got ""',
    ]);
  });

  it('lists at most 20 problems in the message and all of them in problems', () => {
    const run = () => allocate(Array.from({ length: 25 }, () => cost('AWSGlue', '1', { currency: 'EUR' })));
    expect(problemsOf(run)).toHaveLength(25);
    expect(run).toThrow(/costs\[19\][^\n]*\n {2}… and 5 more$/);
  });
});

describe('splitByWeights', () => {
  it('splits by largest remainder, ties to the smaller key', () => {
    expect(splitByWeights(1000n, new Map([['b', 1n], ['a', 1n], ['c', 1n]]))).toEqual(new Map([['b', 333n], ['a', 334n], ['c', 333n]]));
    expect(splitByWeights(-2n, new Map([['x', 1n], ['y', 1n], ['z', 1n]]))).toEqual(new Map([['x', -1n], ['y', -1n], ['z', 0n]]));
    expect(splitByWeights(5n, new Map([['a', 0n], ['b', 3n]]))).toEqual(new Map([['a', 0n], ['b', 5n]]));
  });

  it('refuses negative weights and a zero sum', () => {
    expect(() => splitByWeights(1n, new Map([['a', -1n], ['b', 2n]]))).toThrow('the weight of "a" is negative');
    expect(() => splitByWeights(1n, new Map([['a', 0n]]))).toThrow('the weights must have a positive sum');
  });
});
