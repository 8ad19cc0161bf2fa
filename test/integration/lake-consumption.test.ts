/**
 * The lake's tenant consumption on a real local lake: access logs in Parquet partitions queried by
 * DuckDB with the real SQL (the same file Athena runs), hourly and daily.
 */
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDbLake } from '../../adapters/duckdb/duckdb-lake';
import { DuckDbUsageEngine } from '../../adapters/duckdb/duckdb-usage-engine';
import { ConsumptionRangeError, type ConsumptionRecord } from '../../core/cost/consumption';
import { LakeConsumptionSource } from '../../core/cost/lake-consumption';
import { HOUR_MS } from '../../core/usage/hours';
import type { UsageQuery, UsageQueryEngine, UsageQueryResult } from '../../core/usage/usage-query-engine';
import { readTenantConsumptionSql } from '../../sql/sql-files';
import { accessLogRow } from '../support/access-log-rows';

const DAY_MS = 24 * HOUR_MS;
const D23 = Date.UTC(2026, 10, 23);
const D24 = D23 + DAY_MS;
const D25 = D24 + DAY_MS;
const H10 = D23 + 10 * HOUR_MS;
const H11 = H10 + HOUR_MS;

/** The real DuckDB engine, keeping the queries it was given (to check parameters and the scanned range). */
class RecordingEngine implements UsageQueryEngine {
  readonly name = 'duckdb' as const;
  readonly queries: UsageQuery[] = [];
  constructor(private readonly inner: UsageQueryEngine) {}
  query(query: UsageQuery): Promise<UsageQueryResult> {
    this.queries.push(query);
    return this.inner.query(query);
  }
}

let root: string;
let lake: DuckDbLake;
let engine: RecordingEngine;
let source: LakeConsumptionSource;

beforeEach(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-consumption-'));
  lake = await DuckDbLake.open(root);
  engine = new RecordingEngine(new DuckDbUsageEngine(lake));
  source = new LakeConsumptionSource(engine, readTenantConsumptionSql());
});

afterEach(() => {
  lake.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const record = (tenantId: string, stream: ConsumptionRecord['stream'], granularity: ConsumptionRecord['granularity'], start: number, value: string): ConsumptionRecord => ({
  tenantId,
  stream,
  granularity,
  start,
  value,
});

describe('lake consumption', () => {
  beforeEach(async () => {
    await lake.appendAccessLogs([
      accessLogRow({ id: 'a1', tenant: 'acme', at: H10 + 1, bytes: 10 }),
      accessLogRow({ id: 'a1', tenant: 'acme', at: H10 + 1, bytes: 10 }), // delivered twice
      accessLogRow({ id: 'a1', tenant: 'acme', at: H10 + 1, bytes: 10 }), // and a third time
      accessLogRow({ id: 'a2', tenant: 'acme', at: H10 + 2, bytes: 20, status: 500 }), // errors consume too
      accessLogRow({ id: 'a3', tenant: 'acme', at: H11 + 5, bytes: 40, path: '/usage', method: 'POST' }),
      accessLogRow({ id: 'g1', tenant: 'globex', at: H11 - 1, bytes: 7 }),
      accessLogRow({ id: 'g1', tenant: 'globex', at: H11 - 1, bytes: 7 }), // duplicate
      accessLogRow({ id: 'g2', tenant: 'globex', at: H11, bytes: 0 }),
      accessLogRow({ id: 'anon', tenant: null, at: H10 + 4, status: 401, bytes: 999 }), // no tenant: nobody's
      accessLogRow({ id: 'late', tenant: 'acme', at: D24 + 5, bytes: 1_000 }), // next day
      accessLogRow({ id: 'before', tenant: 'acme', at: D23 - 1, bytes: 5_000 }), // before the range
      accessLogRow({ id: 'after', tenant: 'globex', at: D25, bytes: 5_000 }), // at the range end: outside
    ]);
  });

  it('counts each request id once per tenant and hour, with its bytes, leaving out requests without a tenant', async () => {
    const records = await source.read({ start: D23, end: D24 }, 'HOURLY');
    expect(records).toEqual([
      record('acme', 'api_requests', 'HOURLY', H10, '2'),
      record('acme', 'response_bytes', 'HOURLY', H10, '30'),
      record('globex', 'api_requests', 'HOURLY', H10, '1'),
      record('globex', 'response_bytes', 'HOURLY', H10, '7'),
      record('acme', 'api_requests', 'HOURLY', H11, '1'),
      record('acme', 'response_bytes', 'HOURLY', H11, '40'),
      record('globex', 'api_requests', 'HOURLY', H11, '1'), // zero bytes: no response_bytes record
    ]);
    expect(engine.queries[0]).toMatchObject({
      parameters: ['2026-11-23 00:00:00.000', '2026-11-24 00:00:00.000', 'hour'],
      timeRange: { start: D23, end: D24 },
    });
  });

  it('sums whole UTC days over the range and nothing outside it', async () => {
    const records = await source.read({ start: D23, end: D25 }, 'DAILY');
    expect(records).toEqual([
      record('acme', 'api_requests', 'DAILY', D23, '3'),
      record('acme', 'response_bytes', 'DAILY', D23, '70'),
      record('globex', 'api_requests', 'DAILY', D23, '2'),
      record('globex', 'response_bytes', 'DAILY', D23, '7'),
      record('acme', 'api_requests', 'DAILY', D24, '1'),
      record('acme', 'response_bytes', 'DAILY', D24, '1000'),
    ]);
    expect(engine.queries[0]?.parameters).toEqual(['2026-11-23 00:00:00.000', '2026-11-25 00:00:00.000', 'day']);
  });

  it('opens only the partitions of the range: an unreadable file in another hour does not matter', async () => {
    const other = path.join(root, 'access_logs', 'hour=2026-11-22-23');
    expect(fs.existsSync(other)).toBe(true);
    for (const file of fs.readdirSync(other)) fs.writeFileSync(path.join(other, file), 'not parquet');
    await expect(source.read({ start: D23, end: D24 }, 'DAILY')).resolves.toHaveLength(4);
    // The same file inside the range is read, and fails: the check above is not vacuous.
    await expect(source.read({ start: D23 - DAY_MS, end: D24 }, 'DAILY')).rejects.toThrow();
  });

  it('refuses ranges that are not whole periods', async () => {
    await expect(source.read({ start: D23 + HOUR_MS, end: D24 }, 'DAILY')).rejects.toThrow(ConsumptionRangeError);
    await expect(source.read({ start: H10 + 1, end: H11 }, 'HOURLY')).rejects.toThrow(/not the start of a UTC hour/);
    await expect(source.read({ start: D24, end: D23 }, 'DAILY')).rejects.toThrow(/before its end/);
    expect(engine.queries).toHaveLength(0);
  });
});

describe('lake consumption against a model', () => {
  // Requests over three days; ids repeat (re-deliveries share request_time and bytes, as Firehose's do).
  const request = fc.record({
    id: fc.integer({ min: 1, max: 40 }),
    tenant: fc.constantFrom('acme', 'globex', 'initech', null),
    minute: fc.integer({ min: 0, max: 3 * 24 * 60 - 1 }),
    bytes: fc.integer({ min: 0, max: 2_000_000_000 }),
  });

  it('equals the count of distinct requests and the sum of their bytes per tenant and period (numRuns 100)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 60 }), fc.constantFrom<'HOURLY' | 'DAILY'>('HOURLY', 'DAILY'), async (drawn, granularity) => {
        // One request per id: a repeated id is a re-delivery of the first draw.
        const byId = new Map<number, (typeof drawn)[number]>();
        for (const r of drawn) if (!byId.has(r.id)) byId.set(r.id, r);
        const rows = drawn.map((r) => byId.get(r.id)!).map((r) => accessLogRow({ id: `r${r.id}`, tenant: r.tenant, at: D23 - DAY_MS + r.minute * 60_000, bytes: r.bytes }));
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-model-'));
        const modelLake = await DuckDbLake.open(dir);
        try {
          await modelLake.appendAccessLogs(rows);
          const range = granularity === 'DAILY' ? { start: D23, end: D24 } : { start: D23 - 2 * HOUR_MS, end: D23 + 30 * HOUR_MS };
          const period = granularity === 'DAILY' ? DAY_MS : HOUR_MS;
          const expected = new Map<string, { requests: bigint; bytes: bigint }>();
          for (const r of byId.values()) {
            const at = D23 - DAY_MS + r.minute * 60_000;
            if (r.tenant === null || at < range.start || at >= range.end) continue;
            const key = `${Math.floor(at / period) * period}|${r.tenant}`;
            const sum = expected.get(key) ?? { requests: 0n, bytes: 0n };
            expected.set(key, { requests: sum.requests + 1n, bytes: sum.bytes + BigInt(r.bytes) });
          }
          const records = await new LakeConsumptionSource(new DuckDbUsageEngine(modelLake), readTenantConsumptionSql()).read(range, granularity);
          const actual = new Map<string, { requests: bigint; bytes: bigint }>();
          for (const rec of records) {
            const key = `${rec.start}|${rec.tenantId}`;
            const sum = actual.get(key) ?? { requests: 0n, bytes: 0n };
            actual.set(key, rec.stream === 'api_requests' ? { ...sum, requests: BigInt(rec.value) } : { ...sum, bytes: BigInt(rec.value) });
            expect(rec.granularity).toBe(granularity);
          }
          expect(actual).toEqual(expected);
        } finally {
          modelLake.close();
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 100 },
    );
  }, 120_000);
});
