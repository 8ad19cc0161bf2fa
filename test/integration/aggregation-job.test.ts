/**
 * The hourly aggregation job end to end on local engines: access logs in a Parquet lake queried by
 * DuckDB with the real SQL, usage hours written with the real AWS SDK to a DynamoDB-compatible server.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDbLake } from '../../adapters/duckdb/duckdb-lake';
import { DuckDbUsageEngine } from '../../adapters/duckdb/duckdb-usage-engine';
import { DynamoDbUsageStore } from '../../adapters/dynamodb/dynamodb-usage-store';
import { usageTableDefinition } from '../../adapters/dynamodb/usage-table-definition';
import { planHourRecord } from '../../core/usage/carry-forward';
import { aggregateWindow, runScheduledAggregation, type AggregationDependencies } from '../../core/usage/aggregation-job';
import { HOUR_MS } from '../../core/usage/hours';
import { parseMeteringConfig } from '../../core/usage/metering-config';
import type { UsageQueryEngine } from '../../core/usage/usage-query-engine';
import { startLocalDynamoDb, type LocalDynamoDb } from '../../local/dynamodb/local-dynamodb';
import { readUsageSql } from '../../sql/sql-files';
import { accessLogRow } from '../support/access-log-rows';

const H10 = Date.UTC(2026, 10, 23, 10);
const H11 = H10 + HOUR_MS;
const H12 = H11 + HOUR_MS;
const CONFIG = parseMeteringConfig({
  dimensions: [
    { name: 'api_requests', measure: 'requests', match: { resourcePaths: ['/random/strings'], methods: ['GET'] } },
    { name: 'response_bytes', measure: 'response_bytes', match: { resourcePaths: ['*'] } },
  ],
  aggregation: { graceSeconds: 300, lookBackHours: 3, maxHoursPerRun: 48 },
});

let dynamo: LocalDynamoDb;
let tableCount = 0;

beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
});
afterAll(async () => {
  await dynamo.close();
});

describe('aggregation job', () => {
  let root: string;
  let lake: DuckDbLake;
  let store: DynamoDbUsageStore;
  let clock: number;
  let deps: AggregationDependencies;

  beforeEach(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-'));
    lake = await DuckDbLake.open(root);
    const table = `usage-${++tableCount}`;
    await dynamo.createTable(usageTableDefinition(table));
    store = new DynamoDbUsageStore(dynamo.client, table);
    clock = H12 + 10 * 60_000; // 12:10, so hours up to 11 are past their watermark
    deps = { engine: new DuckDbUsageEngine(lake), store, config: CONFIG, sql: readUsageSql(), ingestionDelaySeconds: 120, now: () => clock };
  });

  afterEach(() => {
    lake.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  const series = (tenantId: string, dimension = 'api_requests') => ({ tenantId, dimension });
  async function measured(tenantId: string, hour: number, dimension = 'api_requests') {
    return (await store.readSeries(series(tenantId, dimension))).find((h) => h.hour === hour)?.measured;
  }

  it('writes one usage hour per tenant, dimension and closed hour, with exact quantities', async () => {
    await lake.appendAccessLogs([
      accessLogRow({ id: 'a1', tenant: 'acme', at: H10 + 1, bytes: 10 }),
      accessLogRow({ id: 'a1', tenant: 'acme', at: H10 + 1, bytes: 10 }), // duplicate delivery
      accessLogRow({ id: 'a2', tenant: 'acme', at: H10 + 2, bytes: 20 }),
      accessLogRow({ id: 'a3', tenant: 'acme', at: H10 + 3, status: 500 }),
      accessLogRow({ id: 'a4', tenant: 'acme', at: H11 + 5, bytes: 40, path: '/other', method: 'POST' }),
      accessLogRow({ id: 'g1', tenant: 'globex', at: H11 - 1, bytes: 7 }),
      accessLogRow({ id: 'anon', tenant: null, at: H10 + 4, status: 401 }),
    ]);
    const report = await runScheduledAggregation(deps);
    expect(report).toMatchObject({ firstHour: '2026-11-23T09', lastHour: '2026-11-23T11', engine: 'duckdb', outcomes: { created: 5, updated: 0, unchanged: 0, stale: 0 } });
    expect(await measured('acme', H10)).toBe(2);
    expect(await measured('acme', H10, 'response_bytes')).toBe(30);
    expect(await measured('acme', H11)).toBeUndefined(); // POST /other is not an api_request
    expect(await measured('acme', H11, 'response_bytes')).toBe(40);
    expect(await measured('globex', H10)).toBe(1);
    expect(await store.hourAggregatedAsOf(H11)).toBe(clock);
    expect(await store.hourAggregatedAsOf(H12)).toBeUndefined(); // still open
    expect(await store.lastCompleteHour()).toBe(H11);
    expect((await store.unsentHours(H10)).map((h) => `${h.tenantId}/${h.dimension}`).sort()).toEqual(['acme/api_requests', 'acme/response_bytes', 'globex/api_requests', 'globex/response_bytes']);
  });

  it('changes nothing when run again, or by two runs at once', async () => {
    await lake.appendAccessLogs([accessLogRow({ id: 'a1', tenant: 'acme', at: H10 + 1 }), accessLogRow({ id: 'b1', tenant: 'globex', at: H11 + 1 })]);
    await runScheduledAggregation(deps);
    const before = await store.readSeries(series('acme'));
    clock += 60_000;
    const again = await runScheduledAggregation(deps);
    expect(again?.outcomes).toEqual({ created: 0, updated: 0, unchanged: 4, stale: 0 });
    expect(await store.readSeries(series('acme'))).toEqual(before);

    clock += 60_000;
    const [first, second] = await Promise.all([runScheduledAggregation(deps), runScheduledAggregation(deps)]);
    expect(first!.outcomes.created + second!.outcomes.created + first!.outcomes.updated + second!.outcomes.updated).toBe(0);
    expect(await measured('acme', H10)).toBe(1);
    expect(await measured('globex', H11)).toBe(1);
  });

  it('counts late arrivals in their own hour on the next run within the look-back window', async () => {
    await lake.appendAccessLogs([accessLogRow({ id: 'a1', tenant: 'acme', at: H10 + 1 })]);
    await runScheduledAggregation(deps);
    await lake.appendAccessLogs([accessLogRow({ id: 'late', tenant: 'acme', at: H10 + 2 })]);
    clock += HOUR_MS;
    const report = await runScheduledAggregation(deps);
    expect(report?.outcomes.updated).toBe(2); // api_requests and response_bytes of 10:00
    expect(await measured('acme', H10)).toBe(2);
  });

  it('reads a long window chunk by chunk, with the same result', async () => {
    await lake.appendAccessLogs([accessLogRow({ id: 'a', tenant: 'acme', at: H10 + 1 }), accessLogRow({ id: 'b', tenant: 'acme', at: H11 + 1 }), accessLogRow({ id: 'c', tenant: 'acme', at: H11 + 2 })]);
    const ranges: number[] = [];
    const counting: UsageQueryEngine = { name: 'duckdb', query: (q) => { ranges.push((q.timeRange.end - q.timeRange.start) / HOUR_MS); return deps.engine.query(q); } };
    const report = await aggregateWindow({ ...deps, engine: counting, hoursPerQuery: 2 }, { firstHour: H10 - 2 * HOUR_MS, lastHour: H11 });
    expect(ranges).toEqual([2, 2]);
    expect(report.measurements).toBe(4);
    expect(await measured('acme', H10)).toBe(1);
    expect(await measured('acme', H11)).toBe(2);
  });

  it('never lets an older run overwrite a newer one', async () => {
    await lake.appendAccessLogs([accessLogRow({ id: 'a1', tenant: 'acme', at: H10 + 1 })]);
    const early = clock;
    clock += HOUR_MS;
    await aggregateWindow(deps, { firstHour: H10, lastHour: H10 }); // started later, sees 1
    await lake.appendAccessLogs([accessLogRow({ id: 'a2', tenant: 'acme', at: H10 + 2 })]);
    const olderRun = { ...deps, now: () => early };
    const report = await aggregateWindow(olderRun, { firstHour: H10, lastHour: H10 });
    expect(report.outcomes.stale).toBe(2);
    expect(await measured('acme', H10)).toBe(1);
  });

  it('carries a change of an already sent hour into the next unsent hour, so billed equals measured', async () => {
    await lake.appendAccessLogs([
      accessLogRow({ id: 'a1', tenant: 'acme', at: H10 + 1 }),
      accessLogRow({ id: 'a2', tenant: 'acme', at: H10 + 2 }),
      accessLogRow({ id: 'b1', tenant: 'acme', at: H11 + 1 }),
    ]);
    await runScheduledAggregation(deps);
    // Metering sends 10:00 (2 requests).
    let acme = await store.readSeries(series('acme'));
    const plan10 = planHourRecord(acme, H10);
    expect(plan10).toMatchObject({ quantity: 2, carriedIn: [] });
    await store.recordPendingSend(series('acme'), plan10, clock);
    await store.markSent(series('acme'), plan10, clock);

    // Three more requests of 10:00 arrive late; the next run measures them.
    await lake.appendAccessLogs([0, 1, 2].map((i) => accessLogRow({ id: `late-${i}`, tenant: 'acme', at: H10 + 100 + i })));
    clock += 5 * 60_000;
    await runScheduledAggregation(deps);
    expect(await measured('acme', H10)).toBe(5);
    expect((await store.unsentHours(H10)).filter((h) => h.dimension === 'api_requests')).toEqual([]); // sent stays sent

    // 11:00 is sent next and carries the 3 late requests of 10:00.
    acme = await store.readSeries(series('acme'));
    const plan11 = planHourRecord(acme, H11);
    expect(plan11).toMatchObject({ measured: 1, quantity: 4, carriedIn: [{ fromHour: H10, amount: 3 }] });
    await store.recordPendingSend(series('acme'), plan11, clock);
    await store.markSent(series('acme'), plan11, clock);

    acme = await store.readSeries(series('acme'));
    const billed = acme.reduce((sum, h) => sum + (h.sent?.quantity ?? 0), 0);
    const truth = acme.reduce((sum, h) => sum + h.measured, 0);
    expect(billed).toBe(truth);
    expect(acme.find((h) => h.hour === H10)).toMatchObject({ measured: 5, sent: { quantity: 2, measured: 2 } });
    expect(acme.find((h) => h.hour === H11)?.sent?.carriedIn).toEqual([{ fromHour: H10, amount: 3 }]);
  });

  it('sends exactly the pending record after a crash, and carries what changed meanwhile', async () => {
    await lake.appendAccessLogs([accessLogRow({ id: 'a1', tenant: 'acme', at: H10 + 1 }), accessLogRow({ id: 'b1', tenant: 'acme', at: H11 + 1 })]);
    await runScheduledAggregation(deps);
    const plan = planHourRecord(await store.readSeries(series('acme')), H10);
    await store.recordPendingSend(series('acme'), plan, clock);
    // …crash before the result was confirmed. Late data arrives and is measured.
    await lake.appendAccessLogs([accessLogRow({ id: 'a2', tenant: 'acme', at: H10 + 2 })]);
    clock += 60_000;
    await runScheduledAggregation(deps);
    expect(await measured('acme', H10)).toBe(2);

    // The restart plans 10:00 again and gets the very same record back.
    const again = planHourRecord(await store.readSeries(series('acme')), H10);
    expect(again).toEqual(plan);
    expect(await store.recordPendingSend(series('acme'), { ...again, quantity: 99 }, clock)).toEqual(plan);
    await expect(store.markSent(series('acme'), { ...plan, quantity: 99 }, clock)).rejects.toThrow(/conditional request failed/i);
    await store.markSent(series('acme'), again, clock);
    await expect(store.markSent(series('acme'), again, clock)).rejects.toThrow(/conditional request failed/i);

    // The late request of 10:00 rides on 11:00.
    const next = planHourRecord(await store.readSeries(series('acme')), H11);
    expect(next).toMatchObject({ measured: 1, quantity: 2, carriedIn: [{ fromHour: H10, amount: 1 }] });
  });

  it('refuses a pending record planned from an outdated measurement', async () => {
    await lake.appendAccessLogs([accessLogRow({ id: 'a1', tenant: 'acme', at: H10 + 1 })]);
    await runScheduledAggregation(deps);
    const plan = planHourRecord(await store.readSeries(series('acme')), H10);
    await lake.appendAccessLogs([accessLogRow({ id: 'a2', tenant: 'acme', at: H10 + 2 })]);
    clock += 60_000;
    await runScheduledAggregation(deps);
    await expect(store.recordPendingSend(series('acme'), plan, clock)).rejects.toThrow(/re-measured after the record was planned/);
    expect((await store.readSeries(series('acme')))[0].pending).toBeUndefined();
  });

  it('leaves the hours unfinished and writes nothing when the query fails, then catches up', async () => {
    await lake.appendAccessLogs([accessLogRow({ id: 'a1', tenant: 'acme', at: H10 + 1 })]);
    const failing: UsageQueryEngine = { name: 'athena', query: async () => { throw new Error('Query exhausted resources at this scale factor'); } };
    await expect(runScheduledAggregation({ ...deps, engine: failing })).rejects.toThrow(/exhausted resources/);
    expect(await store.lastCompleteHour()).toBe(H10 - 2 * HOUR_MS); // started, nothing completed
    expect(await store.hourAggregatedAsOf(H10)).toBeUndefined();
    expect(await store.readSeries(series('acme'))).toEqual([]);

    clock += 4 * HOUR_MS; // the hour is now older than the look-back window, but was never completed
    const report = await runScheduledAggregation(deps);
    expect(report?.firstHour).toBe('2026-11-23T09');
    expect(await measured('acme', H10)).toBe(1);
  });

  it('does not mark an hour aggregated when one of its writes fails', async () => {
    await lake.appendAccessLogs([accessLogRow({ id: 'a1', tenant: 'acme', at: H10 + 1 }), accessLogRow({ id: 'b1', tenant: 'globex', at: H10 + 1 })]);
    let calls = 0;
    const flaky = Object.create(store) as DynamoDbUsageStore;
    flaky.recordMeasurement = async (...args) => {
      calls += 1;
      if (calls === 3) throw new Error('ProvisionedThroughputExceededException');
      return store.recordMeasurement(...args);
    };
    await expect(runScheduledAggregation({ ...deps, store: flaky, writeConcurrency: 1 })).rejects.toThrow(/Throughput/);
    expect(await store.hourAggregatedAsOf(H10)).toBeUndefined();
    expect(await store.lastCompleteHour()).toBe(H10 - 2 * HOUR_MS);
    const report = await runScheduledAggregation(deps);
    expect(report?.outcomes.created).toBe(2); // the two writes that failed or never ran
    expect(await store.hourAggregatedAsOf(H10)).toBeDefined();
  });
});
