/**
 * The CloudZero export end to end on loopback: the real job, the real fetch-based client and the
 * local telemetry API with injected failures. What the server stored must be the consumption, each
 * tenant and stream once, or the report says which requests failed. The property counts are in the
 * test names (numRuns).
 */
import fc from 'fast-check';
import { CloudZeroTelemetryClient, type CloudZeroTelemetryClientOptions } from '../../adapters/cloudzero/cloudzero-telemetry-client';
import type { TelemetryLimits, TelemetryMapping, TelemetryOperation } from '../../core/cost/cloudzero-telemetry';
import { CONSUMPTION_STREAMS, type ConsumptionRecord, type ConsumptionSource, type Granularity } from '../../core/cost/consumption';
import { exportTelemetryForDay, type TelemetryExportReport } from '../../core/cost/export-telemetry';
import { startLocalCloudZeroTelemetry, type LocalCloudZeroTelemetry, type StoredTelemetryRecord } from '../../local/cloudzero/telemetry-server';

const API_KEY = 'local-cloudzero-key-0123456789';
const DAY = Date.UTC(2026, 10, 20);
const DAY_MS = 86_400_000;
const AFTER = DAY + 2 * DAY_MS;
const MAPPING: TelemetryMapping = { streamPrefix: 'saas-metering', filter: { 'custom:Service': ['metered-api'] } };

/** Consumption held in memory, read by range and granularity like a real source. */
class InMemoryConsumption implements ConsumptionSource {
  reads = 0;
  constructor(private readonly records: readonly ConsumptionRecord[]) {}

  async read(range: { readonly start: number; readonly end: number }, granularity: Granularity): Promise<ConsumptionRecord[]> {
    this.reads += 1;
    return this.records.filter((r) => r.granularity === granularity && r.start >= range.start && r.start < range.end);
  }
}

/** `tenants` tenants × every stream for the day; value 0 for some, decimals for others. */
function dayOfConsumption(tenants: number, start = DAY): ConsumptionRecord[] {
  return Array.from({ length: tenants }, (_, t) => CONSUMPTION_STREAMS.map((stream, s): ConsumptionRecord => ({
    tenantId: `tenant-${String(t).padStart(3, '0')}`,
    stream,
    granularity: 'DAILY',
    start,
    value: (t + s) % 7 === 0 ? '0' : stream === 'dynamodb_capacity_units' ? `${t * 3 + s}.5` : String((t + 1) * 1000 + s),
  }))).flat();
}

/** What the server should hold for the consumption: non-zero records, keyed by stream and tenant. */
function expected(consumption: readonly ConsumptionRecord[], prefix = 'saas-metering'): Record<string, string> {
  return Object.fromEntries(consumption.filter((r) => !/^0+(\.0+)?$/.test(r.value)).map((r) => [`${prefix}.${r.stream}/${r.tenantId}`, r.value]));
}

function stored(server: LocalCloudZeroTelemetry): Record<string, string> {
  const records = server.records();
  const keys = records.map((r) => `${r.stream}/${r.elementName}`);
  expect(new Set(keys).size).toBe(keys.length);
  return Object.fromEntries(records.map((r) => [`${r.stream}/${r.elementName}`, r.value]));
}

const servers: LocalCloudZeroTelemetry[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function server(now = () => AFTER): Promise<LocalCloudZeroTelemetry> {
  const started = await startLocalCloudZeroTelemetry({ apiKeys: [API_KEY], now });
  servers.push(started);
  return started;
}

interface Run {
  readonly report: TelemetryExportReport;
  readonly sleeps: number[];
}

async function run(
  cloudzero: LocalCloudZeroTelemetry,
  consumption: readonly ConsumptionRecord[],
  options: { client?: Partial<CloudZeroTelemetryClientOptions>; operation?: TelemetryOperation; limits?: Partial<TelemetryLimits>; mapping?: TelemetryMapping } = {},
): Promise<Run> {
  const sleeps: number[] = [];
  const sender = new CloudZeroTelemetryClient({
    apiKey: API_KEY,
    baseUrl: cloudzero.endpoint,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...options.client,
  });
  const report = await exportTelemetryForDay(
    { source: new InMemoryConsumption(consumption), sender, mapping: options.mapping ?? MAPPING, now: () => AFTER, ...(options.operation ? { operation: options.operation } : {}), ...(options.limits ? { limits: options.limits } : {}) },
    '2026-11-20',
  );
  return { report, sleeps };
}

describe('CloudZero export against the local telemetry API', () => {
  it('stores the day\'s consumption exactly once, each stream with its filter and granularity', async () => {
    const cloudzero = await server();
    const consumption = [...dayOfConsumption(12), ...dayOfConsumption(3, DAY + DAY_MS)];
    const { report, sleeps } = await run(cloudzero, consumption, { limits: { maxRecordsPerRequest: 5 } });
    const today = consumption.filter((r) => r.start === DAY);
    expect(stored(cloudzero)).toEqual(expected(today));
    expect(report).toMatchObject({ ok: true, consumptionRecords: today.length, retries: 0, failed: [] });
    expect(report.recordsSent).toBe(Object.keys(expected(today)).length);
    expect(report.skippedZero).toBe(today.length - report.recordsSent);
    expect(report.batchesSent).toBe(report.batches);
    expect(report.batches).toBeGreaterThan(CONSUMPTION_STREAMS.length);
    expect(cloudzero.requestLog().every((r) => r.status === 200 && r.operation === 'replace')).toBe(true);
    expect(cloudzero.requestLog()).toHaveLength(report.batches);
    expect(cloudzero.streams()).toEqual(CONSUMPTION_STREAMS.map((s) => `saas-metering.${s}`).sort().map((name) => ({ name, granularity: 'DAILY', filterKeys: ['custom:Service'] })));
    const sample = cloudzero.records('saas-metering.api_requests')[0];
    expect(sample).toEqual<StoredTelemetryRecord>({ stream: 'saas-metering.api_requests', timestamp: '2026-11-20T00:00:00.000Z', granularity: 'DAILY', elementName: 'tenant-001', filter: { 'custom:Service': ['metered-api'] }, value: '2000' });
    expect(sleeps).toEqual([]);
  });

  it('retries a 500 and a 503, then succeeds; the records are stored once', async () => {
    const cloudzero = await server();
    const consumption = dayOfConsumption(4);
    cloudzero.faults.set({ failNext: 1, failStatus: 500 });
    const first = await run(cloudzero, consumption);
    expect(first.report).toMatchObject({ ok: true, retries: 1 });
    expect(first.sleeps).toEqual([250]);
    cloudzero.reset();
    cloudzero.faults.set({ failNext: 2, failStatus: 503 });
    const second = await run(cloudzero, consumption);
    expect(second.report).toMatchObject({ ok: true, retries: 2, httpRequests: second.report.batches + 2 });
    expect(second.sleeps).toEqual([250, 500]);
    expect(stored(cloudzero)).toEqual(expected(consumption));
  });

  it('waits as long as Retry-After says on a 429 (seconds or an HTTP-date)', async () => {
    const cloudzero = await server();
    const consumption = dayOfConsumption(3);
    cloudzero.faults.set({ throttleNext: 1, retryAfter: 7 });
    const seconds = await run(cloudzero, consumption);
    expect(seconds.report).toMatchObject({ ok: true, retries: 1 });
    expect(seconds.sleeps).toEqual([7000]);
    expect(cloudzero.requestLog()[0]).toMatchObject({ status: 429, fault: 'throttle', message: 'Rate limit exceeded' });

    cloudzero.reset();
    cloudzero.faults.set({ throttleNext: 1, retryAfter: new Date(AFTER + 12_000).toUTCString() });
    const date = await run(cloudzero, consumption, { client: { now: () => AFTER } });
    expect(date.sleeps).toEqual([12_000]);
    expect(stored(cloudzero)).toEqual(expected(consumption));

    cloudzero.reset();
    cloudzero.faults.set({ throttleNext: 1, retryAfter: 3600 });
    const tooLong = await run(cloudzero, consumption, { client: { maxRetryAfterMs: 60_000 } });
    expect(tooLong.report.ok).toBe(false);
    expect(tooLong.report.failed[0]).toMatchObject({ attempts: 1, status: 429, reason: expect.stringMatching(/Rate limit exceeded \(CloudZero asked to retry after 3600 s, more than the 60 s/) });
    expect(tooLong.sleeps).toEqual([]);
  });

  it('retries a reset connection and an answer that does not come in time', async () => {
    const cloudzero = await server();
    const consumption = dayOfConsumption(2);
    cloudzero.faults.set({ resetNext: 1 });
    const reset = await run(cloudzero, consumption);
    expect(reset.report).toMatchObject({ ok: true, retries: 1 });
    expect(cloudzero.requestLog()[0]).toMatchObject({ status: 'reset' });
    expect(stored(cloudzero)).toEqual(expected(consumption));

    cloudzero.reset();
    cloudzero.faults.set({ latencyMs: 300 });
    const slow = await run(cloudzero, consumption, { client: { timeoutMs: 50, maxAttempts: 2 } });
    expect(slow.report.ok).toBe(false);
    expect(slow.report.failed[0]).toMatchObject({ attempts: 2, reason: 'no answer within 50 ms (gave up after 2 attempts)' });
    expect(slow.report.failed[0].status).toBeUndefined();
  });

  it('reports a persistent failure with the server\'s message after the last attempt', async () => {
    const cloudzero = await server();
    const consumption = dayOfConsumption(3);
    cloudzero.faults.set({ failNext: 1_000, failStatus: 503 });
    const { report, sleeps } = await run(cloudzero, consumption, { client: { maxAttempts: 3 } });
    expect(report.ok).toBe(false);
    expect(report.batchesSent).toBe(0);
    expect(report.recordsSent).toBe(0);
    expect(report.failed).toHaveLength(report.batches);
    for (const failure of report.failed) expect(failure).toMatchObject({ attempts: 3, status: 503, reason: 'HTTP 503: Slow down (gave up after 3 attempts)' });
    expect(report.httpRequests).toBe(report.batches * 3);
    expect(sleeps).toHaveLength(report.batches * 2);
    expect(cloudzero.records()).toEqual([]);
  });

  it('does not retry a 400 and reports its message; the other streams are still sent', async () => {
    const cloudzero = await server();
    const consumption = dayOfConsumption(3);
    await run(cloudzero, consumption);
    // The same streams with other filter keys: CloudZero keeps one set of filter keys per stream.
    const changed = await run(cloudzero, consumption, { mapping: { streamPrefix: 'saas-metering', filter: { 'custom:Service': ['metered-api'] }, filters: { api_requests: { 'tag:env': ['prod'] } } } });
    expect(changed.report.ok).toBe(false);
    expect(changed.report.failed).toEqual([{
      stream: 'saas-metering.api_requests', path: '/unit-cost/v1/telemetry/allocation/saas-metering.api_requests/replace', records: 2, attempts: 1, status: 400,
      reason: 'HTTP 400: All records in a stream must contain the same filter keys (stream saas-metering.api_requests)',
    }]);
    expect(changed.report.batchesSent).toBe(changed.report.batches - 1);
    expect(changed.sleeps).toEqual([]);
  });

  it('reports "Timestamp too far into the future" from a server whose clock is behind, without retrying', async () => {
    const cloudzero = await server(() => DAY - 1);
    const { report } = await run(cloudzero, dayOfConsumption(1));
    expect(report.failed.length).toBe(report.batches);
    expect(report.failed[0]).toMatchObject({ attempts: 1, status: 400, reason: expect.stringContaining('HTTP 400: Timestamp too far into the future') });
  });

  it('stops at a 403: the key is refused, the other requests are not attempted', async () => {
    const cloudzero = await server();
    const consumption = dayOfConsumption(3);
    const { report } = await run(cloudzero, consumption, { client: { apiKey: 'revoked-key' } });
    expect(report.ok).toBe(false);
    expect(report.httpRequests).toBe(1);
    expect(report.failed[0]).toMatchObject({ attempts: 1, status: 403, reason: "HTTP 403: Not authorized, make sure you're using a valid API key in the header Authorization" });
    for (const failure of report.failed.slice(1)) expect(failure).toMatchObject({ attempts: 0, reason: expect.stringMatching(/^not sent: an earlier request was refused with HTTP 403/) });
    expect(report.failed).toHaveLength(report.batches);
    expect(cloudzero.records()).toEqual([]);
  });

  it('with replace, a lost answer and a second export of the day leave each value once; with sum they add up', async () => {
    const consumption = dayOfConsumption(3);
    const replace = await server();
    replace.faults.set({ applyThenFailNext: 1 });
    const first = await run(replace, consumption);
    expect(first.report).toMatchObject({ ok: true, retries: 1 });
    await run(replace, consumption);
    expect(stored(replace)).toEqual(expected(consumption));

    const sum = await server();
    sum.faults.set({ applyThenFailNext: 1 });
    await run(sum, consumption, { operation: 'sum' });
    const summed = stored(sum);
    const firstStream = `saas-metering.${consumption.find((r) => r.value !== '0')!.stream}`;
    for (const [key, value] of Object.entries(expected(consumption))) {
      expect(summed[key]).toBe(key.startsWith(`${firstStream}/`) ? String(Number(value) * 2) : value);
    }
  });

  it('sends through the deprecated single endpoint as well (records naming their stream)', async () => {
    const cloudzero = await server();
    const consumption = dayOfConsumption(4);
    const { report } = await run(cloudzero, consumption, { operation: 'legacy' });
    expect(report.ok).toBe(true);
    expect(cloudzero.requestLog().every((r) => r.path === '/unit-cost/v1/telemetry' && r.operation === 'legacy')).toBe(true);
    expect(stored(cloudzero)).toEqual(expected(consumption));
  });

  it('every record is stored with its value or its request is reported failed, whatever the faults (numRuns 50)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 25 }),
        fc.record({ failNext: fc.nat(4), throttleNext: fc.nat(3), resetNext: fc.nat(2), applyThenFailNext: fc.nat(2) }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 40 }),
        async (tenants, faults, maxAttempts, maxRecordsPerRequest) => {
          const cloudzero = await startLocalCloudZeroTelemetry({ apiKeys: [API_KEY], now: () => AFTER, faults: { ...faults, retryAfter: 0 } });
          try {
            const consumption = dayOfConsumption(tenants);
            const { report } = await run(cloudzero, consumption, { client: { maxAttempts }, limits: { maxRecordsPerRequest } });
            const want = expected(consumption);
            const have = stored(cloudzero);
            const failedStreams = new Set(report.failed.map((f) => f.stream));
            // Never a wrong value, never a record that was not consumption.
            for (const [key, value] of Object.entries(have)) expect(want[key]).toBe(value);
            // Everything of a stream without failures is there.
            for (const [key, value] of Object.entries(want)) if (!failedStreams.has(key.split('/')[0])) expect(have[key]).toBe(value);
            expect(report.batchesSent + report.failed.length).toBe(report.batches);
            expect(report.recordsSent + report.failed.reduce((sum, f) => sum + f.records, 0)).toBe(Object.keys(want).length);
            expect(report.httpRequests).toBe(cloudzero.requestLog().length);
            expect(report.ok).toBe(report.failed.length === 0);
          } finally {
            await cloudzero.close();
          }
        },
      ),
      { numRuns: 50 },
    );
  });
});
