/**
 * Proof that at-least-once delivery never bills a request twice: access logs go through the real
 * transform, land as Parquet in a local lake laid out like the Iceberg table, and the hourly usage SQL
 * of sql/queries runs on embedded DuckDB.
 */
import type { FirehoseTransformationEventRecord } from 'aws-lambda';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDbLake } from '../../adapters/duckdb/duckdb-lake';
import { DuckDbUsageEngine } from '../../adapters/duckdb/duckdb-usage-engine';
import { routingFromEnvironment } from '../../core/ingestion/record-kinds';
import { transformBatch } from '../../core/ingestion/transform-batch';
import { parseMeteringConfig } from '../../core/usage/metering-config';
import { measureRequestGroups } from '../../core/usage/request-dimensions';
import { queryRequestGroups } from '../../core/usage/request-usage-query';
import { readSqlFile } from '../../sql/sql-files';

const HOUR = Date.UTC(2026, 10, 23, 10); // 2026-11-23 10:00:00.000 UTC
const NOW = HOUR + 3 * 3600_000;
const ROUTING = routingFromEnvironment({ ACCESS_LOG_DATABASE: 'usage', ACCESS_LOG_TABLE: 'access_logs', USAGE_EVENT_DATABASE: 'usage', USAGE_EVENT_TABLE: 'usage_events' });
const REQUEST_GROUPS = readSqlFile('queries/hourly_request_groups.sql');
const DIMENSIONS = parseMeteringConfig({
  dimensions: [
    { name: 'requests', measure: 'requests', match: { resourcePaths: ['*'] } },
    { name: 'bytes', measure: 'response_bytes', match: { resourcePaths: ['*'] } },
  ],
  aggregation: { graceSeconds: 0, lookBackHours: 1, maxHoursPerRun: 1 },
}).dimensions;

let sequence = 0;
function accessLogRecord(fields: { id: string; tenant: string; at: number; status?: number; bytes?: number }): FirehoseTransformationEventRecord {
  const line = {
    request_id: fields.id, ip: '198.51.100.7', user: fields.tenant === '-' ? '-' : `user-of-${fields.tenant}`,
    request_time: String(fields.at), http_method: 'GET', resource_path: '/random/strings',
    status: String(fields.status ?? 200), protocol: 'HTTP/1.1', response_length: String(fields.bytes ?? 100),
    tenant_id: fields.tenant, path: '/prod/random/strings', stage: 'prod', api_id: 'abc123',
    response_latency: '20', integration_latency: '18', error_type: '-',
  };
  sequence += 1;
  return { recordId: `r${sequence}`, approximateArrivalTimestamp: NOW, data: Buffer.from(`${JSON.stringify(line)}\n`).toString('base64') };
}

/** Runs a batch through the transform and returns the rows Firehose would write. */
function deliver(records: FirehoseTransformationEventRecord[]): Record<string, unknown>[] {
  const result = transformBatch(records, ROUTING, { nowMillis: NOW });
  expect(result.counts.failed).toBe(0);
  return result.records.map((r) => JSON.parse(Buffer.from(r.data, 'base64').toString('utf8')));
}

describe('duplicated deliveries are billed once', () => {
  let root: string;
  let lake: DuckDbLake;

  beforeEach(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-'));
    lake = await DuckDbLake.open(root);
  });

  afterEach(() => {
    lake.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  /** Billable requests and bytes per tenant in one hour (2xx by default), as the aggregation job computes them. */
  async function usage(hourStart: number) {
    const { groups } = await queryRequestGroups(new DuckDbUsageEngine(lake), REQUEST_GROUPS, { start: hourStart, end: hourStart + 3600_000 });
    const result: Record<string, { requests: number; bytes: number }> = {};
    for (const m of measureRequestGroups(groups, DIMENSIONS)) {
      result[m.tenantId] ??= { requests: 0, bytes: 0 };
      result[m.tenantId][m.dimension as 'requests' | 'bytes'] = m.quantity;
    }
    return result;
  }

  it('counts a request delivered in two batches once, with its bytes once', async () => {
    const original = accessLogRecord({ id: 'req-1', tenant: 'acme', at: HOUR + 5_000, bytes: 250 });
    await lake.appendAccessLogs(deliver([original, accessLogRecord({ id: 'req-2', tenant: 'acme', at: HOUR + 6_000, bytes: 50 })]));
    // Firehose retries the first record in a later batch (same content, new record id).
    await lake.appendAccessLogs(deliver([{ ...original, recordId: 'retry-of-r1' }]));

    const stored = await lake.query('SELECT count(*) AS n FROM access_logs');
    expect(Number(stored[0].n)).toBe(3);
    expect(await usage(HOUR)).toEqual({ acme: { requests: 2, bytes: 300 } });
  });

  it('counts only 2xx requests that carry a tenant, each in the hour of its request time to the millisecond', async () => {
    await lake.appendAccessLogs(deliver([
      accessLogRecord({ id: 'a-first-ms', tenant: 'acme', at: HOUR }),
      accessLogRecord({ id: 'a-last-ms', tenant: 'acme', at: HOUR + 3600_000 - 1 }),
      accessLogRecord({ id: 'a-next-hour', tenant: 'acme', at: HOUR + 3600_000 }),
      accessLogRecord({ id: 'a-prev-hour', tenant: 'acme', at: HOUR - 1 }),
      accessLogRecord({ id: 'a-error', tenant: 'acme', at: HOUR + 10, status: 500 }),
      accessLogRecord({ id: 'a-bad-request', tenant: 'acme', at: HOUR + 10, status: 400 }),
      accessLogRecord({ id: 'anonymous', tenant: '-', at: HOUR + 10, status: 401 }),
      accessLogRecord({ id: 'b-1', tenant: 'globex', at: HOUR + 1000, status: 204, bytes: 0 }),
    ]));
    expect(await usage(HOUR)).toEqual({ acme: { requests: 2, bytes: 200 }, globex: { requests: 1, bytes: 0 } });
    expect(await usage(HOUR + 3600_000)).toEqual({ acme: { requests: 1, bytes: 100 } });
    expect(await usage(HOUR - 3600_000)).toEqual({ acme: { requests: 1, bytes: 100 } });
  });

  it('returns no rows for an empty hour and for an empty lake', async () => {
    expect(await usage(HOUR)).toEqual({});
    await lake.appendAccessLogs(deliver([accessLogRecord({ id: 'x', tenant: 'acme', at: HOUR })]));
    expect(await usage(HOUR + 5 * 3600_000)).toEqual({});
  });

  it('lays the lake out by hour, like the table\'s hidden partitions', async () => {
    await lake.appendAccessLogs(deliver([
      accessLogRecord({ id: 'p1', tenant: 'acme', at: HOUR + 1 }),
      accessLogRecord({ id: 'p2', tenant: 'acme', at: HOUR + 3600_000 + 1 }),
    ]));
    expect(fs.readdirSync(path.join(root, 'access_logs')).sort()).toEqual(['hour=2026-11-23-10', 'hour=2026-11-23-11']);
  });
});

describe('the local lake under concurrent queries', () => {
  it('answers each query for its own hours when queries overlap', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-'));
    const lake = await DuckDbLake.open(root);
    try {
      await lake.appendAccessLogs(deliver([accessLogRecord({ id: 'h10', tenant: 'acme', at: HOUR + 1 }), accessLogRecord({ id: 'h11', tenant: 'acme', at: HOUR + 3600_000 + 1 }), accessLogRecord({ id: 'h11b', tenant: 'acme', at: HOUR + 3600_000 + 2 })]));
      const engine = new DuckDbUsageEngine(lake);
      const [ten, eleven] = await Promise.all([
        queryRequestGroups(engine, REQUEST_GROUPS, { start: HOUR, end: HOUR + 3600_000 }),
        queryRequestGroups(engine, REQUEST_GROUPS, { start: HOUR + 3600_000, end: HOUR + 7200_000 }),
      ]);
      expect(ten.groups.map((g) => g.requests)).toEqual([1]);
      expect(eleven.groups.map((g) => g.requests)).toEqual([2]);
    } finally {
      lake.close();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
