/**
 * Custom usage events end to end on local engines: POST /usage logic with the real Firehose SDK client
 * and adapter, a local Firehose (partial failures injected), the real ingestion transform routing by
 * record kind into the DuckDB lake, and the hourly aggregation job with the real meter SQL writing
 * usage hours through the real DynamoDB SDK to a DynamoDB-compatible server.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDbLake } from '../../adapters/duckdb/duckdb-lake';
import { DuckDbUsageEngine } from '../../adapters/duckdb/duckdb-usage-engine';
import { DynamoDbUsageStore } from '../../adapters/dynamodb/dynamodb-usage-store';
import { usageTableDefinition } from '../../adapters/dynamodb/usage-table-definition';
import { FirehoseDeliveryStream } from '../../adapters/firehose/firehose-delivery-stream';
import { reportUsage, type ReportUsageDependencies } from '../../core/usage-events/report-usage';
import type { UsageCaller } from '../../core/usage-events/usage-event-validation';
import { aggregateWindow } from '../../core/usage/aggregation-job';
import { HOUR_MS } from '../../core/usage/hours';
import { measureUsage } from '../../core/usage/measure-usage';
import { parseMeteringConfig } from '../../core/usage/metering-config';
import { startLocalDynamoDb, type LocalDynamoDb } from '../../local/dynamodb/local-dynamodb';
import { startLocalFirehose, type LocalFirehose } from '../../local/firehose/local-firehose';
import { LocalLakeDelivery } from '../../local/lake/local-delivery';
import { readUsageSql } from '../../sql/sql-files';
import { accessLogRow } from '../support/access-log-rows';

const H10 = Date.UTC(2026, 10, 23, 10);
const H11 = H10 + HOUR_MS;
const H12 = H11 + HOUR_MS;
const CONFIG = parseMeteringConfig({
  dimensions: [{ name: 'api_requests', measure: 'requests', match: { resourcePaths: ['/random/strings'], methods: ['GET'] } }],
  meters: [
    { name: 'tokens', aggregation: 'SUM' },
    { name: 'active_users', aggregation: 'UNIQUE_COUNT', property: 'user_id' },
    { name: 'exports', aggregation: 'COUNT' },
    { name: 'peak_connections', aggregation: 'MAX' },
    { name: 'storage_gb', aggregation: 'LATEST', decimals: 3 },
  ],
  usageEvents: { maxAgeHours: 3, maxFutureSeconds: 300, maxEventsPerRequest: 500, maxPropertiesBytes: 4096 },
  aggregation: { graceSeconds: 300, lookBackHours: 6, maxHoursPerRun: 48 },
});
const STREAM = 'amazon-apigateway-test';
const ACME: UsageCaller = { kind: 'tenant', tenantId: 'acme' };
const GLOBEX: UsageCaller = { kind: 'tenant', tenantId: 'globex' };
const iso = (ms: number) => new Date(ms).toISOString();

let dynamo: LocalDynamoDb;
let tableCount = 0;
beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
});
afterAll(async () => {
  await dynamo.close();
});

describe('usage events from POST /usage to usage hours', () => {
  let root: string;
  let lake: DuckDbLake;
  let firehose: LocalFirehose;
  let delivery: LocalLakeDelivery;
  let clock: number;
  let report: ReportUsageDependencies;

  beforeEach(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'usage-events-'));
    lake = await DuckDbLake.open(root);
    clock = H11 + 30 * 60_000; // 11:30
    delivery = new LocalLakeDelivery(lake, () => clock);
    firehose = await startLocalFirehose({ processor: (records) => delivery.deliver(records), deliveryStreams: [STREAM], now: () => clock });
    const stream = new FirehoseDeliveryStream(firehose.client(), { deliveryStreamName: STREAM, sleep: async () => undefined });
    report = { stream, config: CONFIG, now: () => clock };
  });

  afterEach(async () => {
    await firehose.close();
    lake.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  async function measuredHour(hour: number) {
    const { measurements } = await measureUsage(new DuckDbUsageEngine(lake), CONFIG, readUsageSql(), { start: hour, end: hour + HOUR_MS });
    return Object.fromEntries(measurements.map((m) => [`${m.tenantId}/${m.dimension}`, m.quantity]));
  }

  it('measures every meter kind per tenant and hour, each event id counted once, tenants kept apart', async () => {
    const at = (minute: number) => iso(H11 + minute * 60_000);
    const acme = await reportUsage(report, ACME, {
      events: [
        { id: 't1', meter: 'tokens', quantity: 1200, timestamp: at(1) },
        { id: 't2', meter: 'tokens', quantity: 800, timestamp: at(2) },
        { id: 'u1', meter: 'active_users', timestamp: at(3), properties: { user_id: 'ann' } },
        { id: 'u2', meter: 'active_users', timestamp: at(4), properties: { user_id: 'bob' } },
        { id: 'u3', meter: 'active_users', timestamp: at(5), properties: { user_id: 'ann' } },
        { id: 'x1', meter: 'exports', timestamp: at(6) },
        { id: 'p1', meter: 'peak_connections', quantity: 40, timestamp: at(7) },
        { id: 'p2', meter: 'peak_connections', quantity: 95, timestamp: at(8) },
        { id: 'p3', meter: 'peak_connections', quantity: 60, timestamp: at(9) },
        { id: 's1', meter: 'storage_gb', quantity: 12.5, timestamp: at(10) },
        { id: 's2', meter: 'storage_gb', quantity: 10.25, timestamp: at(20) },
      ],
    });
    expect(acme.statusCode).toBe(200);
    // The client retries the whole batch (same ids): nothing counts twice.
    expect((await reportUsage(report, ACME, { events: [{ id: 't1', meter: 'tokens', quantity: 1200, timestamp: at(1) }, { id: 'x1', meter: 'exports', timestamp: at(6) }] })).statusCode).toBe(200);
    // Another tenant with the same event ids: its own usage.
    expect((await reportUsage(report, GLOBEX, { events: [{ id: 't1', meter: 'tokens', quantity: 5, timestamp: at(1) }] })).statusCode).toBe(200);
    await firehose.flush();

    expect(delivery.failed).toEqual([]);
    expect(await measuredHour(H11)).toEqual({
      'acme/tokens': 2000,
      'acme/active_users': 2,
      'acme/exports': 1,
      'acme/peak_connections': 95,
      'acme/storage_gb': 10250,
      'globex/tokens': 5,
    });
  });

  it('accepts only what Firehose acknowledged: injected per-record failures are resent, and a persistent outage is reported, not lost', async () => {
    firehose.faults.set({ failRecords: 3 });
    const events = Array.from({ length: 10 }, (_, i) => ({ id: `e${i}`, meter: 'tokens', quantity: i + 1, timestamp: iso(H11 + i * 60_000) }));
    const first = await reportUsage(report, ACME, { events });
    expect(first.statusCode).toBe(200);
    expect(first.body.accepted).toHaveLength(10);
    await firehose.flush();
    expect((await measuredHour(H11))['acme/tokens']).toBe(55);
    expect(firehose.stats().recordsFailed).toBe(3);

    // Firehose refuses every call: the events are listed as failed (resend them), none as accepted.
    firehose.faults.set({ failNext: 100, failWith: 'InternalFailure' });
    const outage = await reportUsage(report, ACME, { events: [{ id: 'late-1', meter: 'tokens', quantity: 7, timestamp: iso(H11) }] });
    expect(outage.statusCode).toBe(503);
    expect(outage.body.accepted).toEqual([]);
    expect(outage.body.failed).toEqual([{ index: 0, id: 'late-1', reason: expect.stringMatching(/^not delivered: InternalFailure/) }]);
    // Once it recovers, the resend is counted once.
    firehose.faults.set({});
    expect((await reportUsage(report, ACME, { events: [{ id: 'late-1', meter: 'tokens', quantity: 7, timestamp: iso(H11) }] })).statusCode).toBe(200);
    await firehose.flush();
    expect((await measuredHour(H11))['acme/tokens']).toBe(62);
  });

  it('counts late events in the hour they belong to when the job re-aggregates it', async () => {
    await dynamo.createTable(usageTableDefinition(`usage-events-${++tableCount}`));
    const store = new DynamoDbUsageStore(dynamo.client, `usage-events-${tableCount}`);
    const deps = { engine: new DuckDbUsageEngine(lake), store, config: CONFIG, sql: readUsageSql(), ingestionDelaySeconds: 120, now: () => clock };

    await lake.appendAccessLogs([accessLogRow({ id: 'req-1', tenant: 'acme', at: H10 + 5 * 60_000 })]);
    await reportUsage(report, ACME, { events: [{ id: 'a', meter: 'tokens', quantity: 100, timestamp: iso(H10 + 10 * 60_000) }] });
    await firehose.flush();
    await aggregateWindow(deps, { firstHour: H10, lastHour: H10 });
    const series = { tenantId: 'acme', dimension: 'tokens' };
    expect((await store.readUsageHour(series, H10))?.measured).toBe(100);
    expect((await store.readUsageHour({ tenantId: 'acme', dimension: 'api_requests' }, H10))?.measured).toBe(1);

    // At 12:20 an event of 10:40 arrives (within the 3-hour window), and the next run counts it.
    clock = H12 + 20 * 60_000;
    expect((await reportUsage(report, ACME, { events: [{ id: 'b', meter: 'tokens', quantity: 23, timestamp: iso(H10 + 40 * 60_000) }] })).statusCode).toBe(200);
    await firehose.flush();
    await aggregateWindow(deps, { firstHour: H10, lastHour: H11 });
    expect((await store.readUsageHour(series, H10))?.measured).toBe(123);
  });
});

describe('the hourly meter SQL on DuckDB', () => {
  let root: string;
  let lake: DuckDbLake;
  beforeEach(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'meter-sql-'));
    lake = await DuckDbLake.open(root);
  });
  afterEach(() => {
    lake.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  const row = (id: string, minute: number, quantity: string, extra: Record<string, unknown> = {}) => ({
    tenant_id: 'acme', event_id: id, meter: 'storage_gb', quantity, event_time: (H11 + minute * 60_000) * 1000, received_at: (H11 + minute * 60_000) * 1000,
    unique_value: null, properties: null, source: 'tenant', ...extra,
  });

  it('keeps the first received copy of an event id, breaks LATEST ties by event id, and keeps decimals exact', async () => {
    await lake.appendUsageEvents([
      row('a', 10, '1.000001'),
      // A copy of "a" received later with another quantity: the first received copy wins.
      row('a', 10, '999', { received_at: (H11 + 50 * 60_000) * 1000 }),
      // Two events at the same last instant: the larger event id is the latest.
      row('b', 30, '2.5'),
      row('c', 30, '3.25'),
      // Outside the hour: not part of it.
      row('d', 61, '100'),
    ]);
    const { measurements } = await measureUsage(new DuckDbUsageEngine(lake), CONFIG, readUsageSql(), { start: H11, end: H11 + HOUR_MS });
    expect(measurements).toEqual([{ tenantId: 'acme', dimension: 'storage_gb', hour: H11, quantity: 3250 }]);
    const sumConfig = parseMeteringConfig({ ...CONFIG, meters: [{ name: 'storage_gb', aggregation: 'SUM', decimals: 6 }] });
    const sums = await measureUsage(new DuckDbUsageEngine(lake), sumConfig, readUsageSql(), { start: H11, end: H11 + HOUR_MS });
    expect(sums.measurements[0].quantity).toBe(6_750_001);
  });
});
