import { batchRecords, recordKey, type MeteringRecord } from '../../../core/marketplace/metering-records';
import { MeteringCallError, sendMeteringRecords, type CallResult, type MeteringService } from '../../../core/marketplace/metering-sender';
import { RateLimiter } from '../../../core/marketplace/rate-limiter';

const HOUR = Date.UTC(2026, 10, 23, 10);
const record = (n: number, fields: Partial<MeteringRecord> = {}): MeteringRecord => ({ productCode: 'prod', customer: { customerIdentifier: `c${n}` }, dimension: 'ApiRequests', timestamp: HOUR, quantity: n, ...fields });

/** A fake clock whose sleep advances time, so rate limits and backoff cost no real time. */
function fakeTime() {
  let now = 0;
  return { now: () => now, sleep: async (ms: number) => { now += ms; } };
}

function service(handler: (records: readonly MeteringRecord[], call: number) => CallResult): MeteringService & { calls: MeteringRecord[][] } {
  const calls: MeteringRecord[][] = [];
  return {
    calls,
    async batchMeterUsage(records) {
      calls.push([...records]);
      return handler(records, calls.length);
    },
  };
}

const ok = (records: readonly MeteringRecord[]): CallResult => ({ results: records.map((r) => ({ record: r, status: 'Success', meteringRecordId: `id-${r.quantity}` })), unprocessed: [] });

describe('batchRecords', () => {
  it('puts at most 25 records in a call, one product and one licence per call', () => {
    const records = [
      ...Array.from({ length: 60 }, (_, i) => record(i)),
      record(100, { productCode: 'other' }),
      record(101, { customer: { customerAWSAccountId: '111122223333', licenseArn: 'arn:aws:license-manager::1:license:l-1' } }),
      record(102, { customer: { customerAWSAccountId: '111122223333', licenseArn: 'arn:aws:license-manager::1:license:l-2' } }),
    ];
    const batches = batchRecords(records);
    expect(batches.map((b) => b.length)).toEqual([25, 25, 10, 1, 1, 1]);
    for (const batch of batches) expect(new Set(batch.map((r) => `${r.productCode}/${'licenseArn' in r.customer ? r.customer.licenseArn : ''}`)).size).toBe(1);
  });
});

describe('sendMeteringRecords', () => {
  it('sends 30,000 records in ceil(30,000 / 25) calls, never more than 10 calls in a second', async () => {
    const time = fakeTime();
    const starts: number[] = [];
    const svc = service((records) => {
      starts.push(time.now());
      return ok(records);
    });
    const records = Array.from({ length: 30_000 }, (_, i) => record(i, { customer: { customerIdentifier: `c${i % 10_000}` }, dimension: `D${Math.floor(i / 10_000)}` }));
    const report = await sendMeteringRecords(svc, records, { limiter: new RateLimiter(10, time.now, time.sleep), sleep: time.sleep });
    expect(report.calls).toBe(1200);
    expect([...report.outcomes.values()].every((o) => o.status === 'Success')).toBe(true);
    for (let i = 10; i < starts.length; i += 1) expect(starts[i] - starts[i - 10]).toBeGreaterThanOrEqual(1000);
  });

  it('isolates the one record that makes the service refuse the whole call', async () => {
    const time = fakeTime();
    const bad = record(7, { timestamp: HOUR - 7 * 3_600_000 });
    const svc = service((records) => {
      if (records.some((r) => r === bad)) throw new MeteringCallError('TimestampOutOfBoundsException', 'reject-call', 'timestamp out of bounds');
      return ok(records);
    });
    const records = [...Array.from({ length: 24 }, (_, i) => record(i + 10)), bad];
    const report = await sendMeteringRecords(svc, records, { limiter: new RateLimiter(10, time.now, time.sleep), sleep: time.sleep });
    expect(report.outcomes.get(recordKey(bad))).toEqual({ status: 'Rejected', reason: 'TimestampOutOfBoundsException: timestamp out of bounds' });
    expect([...report.outcomes.values()].filter((o) => o.status === 'Success')).toHaveLength(24);
    expect(report.calls).toBeLessThanOrEqual(1 + 2 * Math.ceil(Math.log2(25)));
  });

  it('resends unprocessed records, and gives up after the last attempt without calling them sent', async () => {
    const time = fakeTime();
    const svc = service((records, call) => (call <= 2 ? { results: ok(records.slice(1)).results, unprocessed: records.slice(0, 1) } : ok(records)));
    const report = await sendMeteringRecords(svc, [record(1), record(2)], { limiter: new RateLimiter(10, time.now, time.sleep), sleep: time.sleep });
    expect(svc.calls.map((c) => c.length)).toEqual([2, 1, 1]);
    expect([...report.outcomes.values()].map((o) => o.status)).toEqual(['Success', 'Success']);

    const stubborn = service((records) => ({ results: [], unprocessed: records }));
    const given = await sendMeteringRecords(stubborn, [record(1)], { limiter: new RateLimiter(10, time.now, time.sleep), sleep: time.sleep, maxAttempts: 3 });
    expect(stubborn.calls).toHaveLength(3);
    expect(given.outcomes.get(recordKey(record(1)))).toEqual({ status: 'Unsent', reason: 'still unprocessed after every retry' });
  });

  it('retries throttling and server errors with growing waits', async () => {
    const time = fakeTime();
    const waits: number[] = [];
    const sleep = async (ms: number) => { waits.push(ms); await time.sleep(ms); };
    const svc = service((records, call) => {
      if (call <= 2) throw new MeteringCallError('ThrottlingException', 'retry', 'rate exceeded');
      return ok(records);
    });
    const report = await sendMeteringRecords(svc, [record(1)], { limiter: new RateLimiter(10, time.now, time.sleep), sleep });
    expect(report.outcomes.get(recordKey(record(1)))?.status).toBe('Success');
    expect(waits).toEqual([200, 400]);
  });

  it('stops the run on a fatal error', async () => {
    const time = fakeTime();
    const svc = service(() => { throw new MeteringCallError('InvalidProductCodeException', 'fatal', 'unknown product'); });
    await expect(sendMeteringRecords(svc, [record(1)], { limiter: new RateLimiter(10, time.now, time.sleep), sleep: time.sleep })).rejects.toThrow(/InvalidProductCodeException/);
  });

  it('never reports a record as sent when the service answered nothing for it', async () => {
    const time = fakeTime();
    const svc = service((records) => ({ results: ok(records).results.slice(1), unprocessed: [] }));
    const report = await sendMeteringRecords(svc, [record(1), record(2)], { limiter: new RateLimiter(10, time.now, time.sleep), sleep: time.sleep });
    expect(report.outcomes.get(recordKey(record(1)))).toEqual({ status: 'Unsent', reason: 'no result returned for the record' });
  });
});

describe('RateLimiter', () => {
  it('counts a call until a second after its response, so network delays cannot squeeze calls together', async () => {
    const time = fakeTime();
    const limiter = new RateLimiter(2, time.now, time.sleep);
    const first = await limiter.take();
    time.now(); // the first call takes 300 ms to come back
    await time.sleep(300);
    first();
    const second = await limiter.take();
    second();
    const startThird = time.now();
    const third = await limiter.take();
    expect(time.now() - startThird).toBe(1000); // until the first response is a second old
    third();
  });
});
