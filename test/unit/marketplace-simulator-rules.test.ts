/** The pure rules of the Marketplace Metering simulator (local/marketplace/metering-rules.ts). */
import fc from 'fast-check';
import {
  allocationProblem,
  canonicalAllocations,
  HOUR_MS,
  hourStart,
  MeteringServiceError,
  parseBatchMeterUsageRequest,
  parseResolveCustomerRequest,
  sameUsage,
  SlidingWindowLimiter,
  timestampProblem,
  type WireUsageAllocation,
} from '../../local/marketplace/metering-rules';

const NOW = Date.UTC(2026, 10, 23, 14, 20);
const SIX_HOURS = { maxRecordAgeMs: 6 * HOUR_MS, futureSkewMs: 5 * 60_000 };
const DAY_WINDOW = { maxRecordAgeMs: 24 * HOUR_MS, futureSkewMs: 5 * 60_000 };
const LICENSE = 'arn:aws:license-manager::294406891311:license:l-0a1b2c3d4e5f60718293a4b5c6d7e8f9';

function record(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { Timestamp: NOW / 1000, Dimension: 'api_requests', Quantity: 1, CustomerIdentifier: 'cust-1', ...fields };
}

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    if (error instanceof MeteringServiceError) return error.code;
    throw error;
  }
  return undefined;
}

describe('timestamp window', () => {
  it('refuses 6 hours or more in the past and accepts anything younger', () => {
    expect(timestampProblem(NOW - 6 * HOUR_MS, NOW, SIX_HOURS)).toMatch(/6 hours or more/);
    expect(timestampProblem(NOW - 6 * HOUR_MS + 1, NOW, SIX_HOURS)).toBeUndefined();
  });

  it('allows 5 minutes of future skew', () => {
    expect(timestampProblem(NOW + 5 * 60_000, NOW, SIX_HOURS)).toBeUndefined();
    expect(timestampProblem(NOW + 5 * 60_000 + 1, NOW, SIX_HOURS)).toMatch(/future/);
  });

  it('refuses usage before the subscription started, to the millisecond', () => {
    expect(timestampProblem(NOW - HOUR_MS, NOW, SIX_HOURS, NOW - HOUR_MS + 1)).toMatch(/before the customer's subscription/);
    expect(timestampProblem(NOW - HOUR_MS, NOW, SIX_HOURS, NOW - HOUR_MS)).toBeUndefined();
  });

  it('closes the previous month at 06:00 UTC on the 1st (visible with a 24-hour window)', () => {
    const lastOfMonth = Date.UTC(2026, 9, 31, 23);
    expect(timestampProblem(lastOfMonth, Date.UTC(2026, 10, 1, 5, 59), DAY_WINDOW)).toBeUndefined();
    expect(timestampProblem(lastOfMonth, Date.UTC(2026, 10, 1, 6), DAY_WINDOW)).toMatch(/month already closed/);
    expect(timestampProblem(Date.UTC(2026, 10, 1, 1), Date.UTC(2026, 10, 1, 20), DAY_WINDOW)).toBeUndefined();
  });

  it('truncates to the UTC hour', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 4e12 }), (ms) => {
      const hour = hourStart(ms);
      return hour <= ms && ms - hour < HOUR_MS && hour % HOUR_MS === 0;
    }));
  });
});

describe('request shape', () => {
  it('takes 0 to 25 records and refuses 26 with ValidationException', () => {
    expect(parseBatchMeterUsageRequest({ ProductCode: 'p', UsageRecords: [] }).records).toEqual([]);
    expect(parseBatchMeterUsageRequest({ ProductCode: 'p', UsageRecords: Array.from({ length: 25 }, () => record()) }).records).toHaveLength(25);
    expect(codeOf(() => parseBatchMeterUsageRequest({ ProductCode: 'p', UsageRecords: Array.from({ length: 26 }, () => record()) }))).toBe('ValidationException');
  });

  it('reads epoch seconds with milliseconds, defaults Quantity to 0 and treats "" as absent', () => {
    const [parsed] = parseBatchMeterUsageRequest({ ProductCode: '', UsageRecords: [record({ Timestamp: 1700000000.123, Quantity: undefined, CustomerAWSAccountId: '' })] }).records;
    expect(parsed.timestampMs).toBe(1700000000123);
    expect(parsed.quantity).toBe(0);
    expect(parsed.identity).toEqual({ kind: 'customerIdentifier', customerIdentifier: 'cust-1' });
    expect(parsed.wire).toEqual({ Timestamp: 1700000000.123, Dimension: 'api_requests', CustomerIdentifier: 'cust-1' });
    expect(parseBatchMeterUsageRequest({ ProductCode: '', UsageRecords: [] }).productCode).toBeUndefined();
  });

  it('tells the three identity forms apart and refuses mixtures', () => {
    const identity = (fields: Record<string, unknown>) => parseBatchMeterUsageRequest({ UsageRecords: [record({ CustomerIdentifier: undefined, ...fields })] }).records[0].identity;
    expect(identity({ CustomerAWSAccountId: '123456789012', LicenseArn: LICENSE })).toEqual({ kind: 'license', customerAWSAccountId: '123456789012', licenseArn: LICENSE });
    expect(identity({ CustomerAWSAccountId: '123456789012' })).toEqual({ kind: 'awsAccount', customerAWSAccountId: '123456789012' });
    expect(codeOf(() => identity({ CustomerIdentifier: 'c', CustomerAWSAccountId: '123456789012' }))).toBe('ValidationException');
    expect(codeOf(() => identity({ CustomerIdentifier: 'c', LicenseArn: LICENSE }))).toBe('ValidationException');
    expect(codeOf(() => identity({ LicenseArn: LICENSE }))).toBe('ValidationException');
    expect(codeOf(() => identity({}))).toBe('ValidationException');
    expect(codeOf(() => identity({ CustomerAWSAccountId: '12-34' }))).toBe('ValidationException');
    expect(codeOf(() => identity({ CustomerAWSAccountId: '123456789012', LicenseArn: 'not-an-arn' }))).toBe('ValidationException');
  });

  it('answers SerializationException for wrong types and ValidationException for missing members', () => {
    expect(codeOf(() => parseBatchMeterUsageRequest([]))).toBe('SerializationException');
    expect(codeOf(() => parseBatchMeterUsageRequest({ UsageRecords: 'x' }))).toBe('SerializationException');
    expect(codeOf(() => parseBatchMeterUsageRequest({ UsageRecords: [record({ Timestamp: '2026-11-23T14:00:00Z' })] }))).toBe('SerializationException');
    expect(codeOf(() => parseBatchMeterUsageRequest({}))).toBe('ValidationException');
    expect(codeOf(() => parseBatchMeterUsageRequest({ UsageRecords: [record({ Dimension: undefined })] }))).toBe('ValidationException');
    expect(codeOf(() => parseBatchMeterUsageRequest({ UsageRecords: [record({ Dimension: '' })] }))).toBe('ValidationException');
    expect(codeOf(() => parseBatchMeterUsageRequest({ ProductCode: 'bad code!', UsageRecords: [] }))).toBe('ValidationException');
  });

  it('checks allocation and tag shapes', () => {
    const withAllocations = (UsageAllocations: unknown) => () => parseBatchMeterUsageRequest({ UsageRecords: [record({ UsageAllocations })] });
    expect(codeOf(withAllocations([]))).toBe('InvalidUsageAllocationsException');
    expect(codeOf(withAllocations([{ Tags: [{ Key: 'k', Value: 'v' }] }]))).toBe('ValidationException');
    expect(codeOf(withAllocations([{ AllocatedUsageQuantity: 1, Tags: [] }]))).toBe('InvalidTagException');
    expect(codeOf(withAllocations([{ AllocatedUsageQuantity: 1, Tags: [{ Key: 'k', Value: 'v' }, { Key: 'k', Value: 'w' }] }]))).toBe('InvalidTagException');
    expect(codeOf(withAllocations([{ AllocatedUsageQuantity: 1, Tags: [{ Key: 'k', Value: 'x'.repeat(257) }] }]))).toBe('InvalidTagException');
    expect(codeOf(withAllocations([{ AllocatedUsageQuantity: 1 }, { AllocatedUsageQuantity: 0 }]))).toBe('InvalidUsageAllocationsException');
    expect(codeOf(withAllocations([{ AllocatedUsageQuantity: 1, Tags: [{ Key: 'a b', Value: 'x=y:z/@.' }] }]))).toBeUndefined();
  });

  it('reads a ResolveCustomer request', () => {
    expect(parseResolveCustomerRequest({ RegistrationToken: 't' })).toBe('t');
    expect(codeOf(() => parseResolveCustomerRequest({}))).toBe('ValidationException');
    expect(codeOf(() => parseResolveCustomerRequest({ RegistrationToken: '' }))).toBe('ValidationException');
    expect(codeOf(() => parseResolveCustomerRequest({ RegistrationToken: 7 }))).toBe('SerializationException');
  });
});

describe('allocations and resends', () => {
  const allocation = fc.record({
    AllocatedUsageQuantity: fc.integer({ min: 0, max: 1000 }),
    Tags: fc.option(fc.uniqueArray(fc.record({ Key: fc.constantFrom('a', 'b', 'c'), Value: fc.constantFrom('x', 'y') }), { minLength: 1, maxLength: 3, selector: (t) => t.Key }), { nil: undefined }),
  });

  it('accepts allocations exactly when they add up to the quantity', () => {
    fc.assert(fc.property(fc.array(allocation, { minLength: 1, maxLength: 6 }), fc.integer({ min: -3, max: 3 }), (allocations, delta) => {
      const sum = allocations.reduce((total, a) => total + a.AllocatedUsageQuantity, 0);
      const problem = allocationProblem({ quantity: sum + delta, allocations });
      return delta === 0 ? problem === undefined : problem !== undefined;
    }));
  });

  it('compares allocations regardless of the order of allocations and tags', () => {
    fc.assert(fc.property(fc.array(allocation, { maxLength: 6 }), (allocations) => {
      const shuffled: WireUsageAllocation[] = [...allocations].reverse().map((a) => (a.Tags ? { ...a, Tags: [...a.Tags].reverse() } : a));
      return canonicalAllocations(allocations) === canonicalAllocations(shuffled);
    }));
  });

  it('calls a resend identical only with the same quantity and allocations', () => {
    const tagged = [{ AllocatedUsageQuantity: 2, Tags: [{ Key: 'team', Value: 'a' }] }];
    expect(sameUsage({ quantity: 2 }, { quantity: 2 })).toBe(true);
    expect(sameUsage({ quantity: 2 }, { quantity: 3 })).toBe(false);
    expect(sameUsage({ quantity: 2, allocations: tagged }, { quantity: 2 })).toBe(false);
  });
});

describe('call-rate window', () => {
  it('never admits more than the limit in any window of one second', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 200 }), fc.integer({ min: 1, max: 12 }), (gaps, max) => {
      const limiter = new SlidingWindowLimiter(max, 1000);
      const admitted: number[] = [];
      let now = 0;
      for (const gap of gaps) {
        now += gap;
        if (limiter.tryAcquire(now)) admitted.push(now);
      }
      return admitted.every((t) => admitted.filter((u) => u > t - 1000 && u <= t).length <= max);
    }));
  });

  it('admits again once the oldest admitted call leaves the window', () => {
    const limiter = new SlidingWindowLimiter(2, 1000);
    expect([limiter.tryAcquire(0), limiter.tryAcquire(10), limiter.tryAcquire(999), limiter.tryAcquire(1000), limiter.tryAcquire(1009), limiter.tryAcquire(1010)]).toEqual([true, true, false, true, false, true]);
  });
});
