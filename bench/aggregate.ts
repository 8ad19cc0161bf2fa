/**
 * Cost of aggregating one hour as the lake grows: `npm run bench:aggregate`.
 *
 * Builds two local lakes of synthetic access logs with the same volume per hour — one of 1 day and
 * one of 30 days, ending at the same hour — in the layout DuckDbLake writes
 * (`access_logs/hour=YYYY-MM-DD-HH/part-<uuid>.parquet`, several files per hour as Firehose delivers
 * them, ~1% duplicate deliveries, plus a batch of late arrivals written with
 * `DuckDbLake.appendAccessLogs`). Then times the same one-hour aggregation (the last hour, identical
 * data in both lakes) with `aggregateWindow` over DuckDbUsageEngine and DynamoDbUsageStore on a local
 * DynamoDB-compatible server: the query part and the whole run separately, a fresh table per run,
 * medians after warm-up runs. Target: the 30-day lake costs at most 1.3× the 1-day lake — the cost of
 * an hour must not grow with the lake (only the hour's partition may be read).
 *
 * The bulk of the rows is generated inside DuckDB with the same partitioned COPY that DuckDbLake uses
 * (JSON staging of 14 million rows would take many minutes); the bench checks that those files have
 * exactly the schema of a file written by `appendAccessLogs`, and that the usage written for the hour
 * matches an independent count of its distinct requests.
 *
 * Prints a short summary and ends with one JSON line. Environment: BENCH_REQUESTS_PER_HOUR (default
 * 20000), BENCH_TENANTS (200), BENCH_DAYS (days of the long lake, 30), BENCH_FILES_PER_HOUR (4),
 * BENCH_REPETITIONS (15), BENCH_WARMUP (3), BENCH_KEEP_LAKES=1 keeps the temporary lakes.
 */
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDbLake } from '../adapters/duckdb/duckdb-lake';
import { DuckDbUsageEngine } from '../adapters/duckdb/duckdb-usage-engine';
import { DynamoDbUsageStore } from '../adapters/dynamodb/dynamodb-usage-store';
import { usageTableDefinition } from '../adapters/dynamodb/usage-table-definition';
import { ACCESS_LOG_COLUMNS, ACCESS_LOG_TABLE } from '../core/lake/access-log-table';
import { aggregateWindow, type AggregationReport } from '../core/usage/aggregation-job';
import { HOUR_MS, hourKey, sqlTimestamp } from '../core/usage/hours';
import { parseMeteringConfig, type MeteringConfig } from '../core/usage/metering-config';
import type { UsageQueryEngine } from '../core/usage/usage-query-engine';
import { startLocalDynamoDb, type LocalDynamoDb } from '../local/dynamodb/local-dynamodb';
import { PROJECT_ROOT } from '../modules/project-paths';
import { readSqlFile } from '../sql/sql-files';
import { median, positiveIntegerFromEnv } from './support';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const TARGET_RATIO = 1.3;
const REQUESTS_PER_HOUR = positiveIntegerFromEnv('BENCH_REQUESTS_PER_HOUR', 20_000);
const TENANTS = Math.min(positiveIntegerFromEnv('BENCH_TENANTS', 200), 10_000);
const LONG_DAYS = positiveIntegerFromEnv('BENCH_DAYS', 30);
const FILES_PER_HOUR = Math.min(positiveIntegerFromEnv('BENCH_FILES_PER_HOUR', 4), 60);
const REPETITIONS = positiveIntegerFromEnv('BENCH_REPETITIONS', 15);
const WARMUP = positiveIntegerFromEnv('BENCH_WARMUP', 3);
const KEEP_LAKES = process.env.BENCH_KEEP_LAKES === '1';
/** Duplicate deliveries, per mille of the requests. */
const DUPLICATES_PER_MILLE = 10;
/** Late arrivals of the measured hour (written with appendAccessLogs), per mille of its requests. */
const LATE_PER_MILLE = 10;
/** The hour measured: the last of both lakes (fixed, so every run measures the same data). */
const LAST_HOUR = Date.UTC(2026, 9, 31, 23);
const HOUR_US = 3_600_000_000;
/** Hours written by one COPY statement. */
const CHUNK_HOURS = 240;

// ---------------------------------------------------------------------------------------------------
// Synthetic access logs, generated in DuckDB: every value a deterministic hash of (hour, request), so
// an hour has the same requests in every lake and every run.

const DUCKDB_TYPE: Record<string, string> = { string: 'VARCHAR', int: 'INTEGER', bigint: 'BIGINT', timestamp: 'TIMESTAMP', double: 'DOUBLE', boolean: 'BOOLEAN' };

/** SQL of each access-log column over the `shaped` relation below. */
const COLUMN_SQL: Record<string, string> = {
  request_id: `substr(m, 1, 8) || '-' || substr(m, 9, 4) || '-4' || substr(m, 14, 3) || '-' || substr(m, 17, 4) || '-' || substr(m, 21, 12)`,
  ip: `CASE WHEN h4 % 5 = 0
          THEN '2001:db8:' || lower(printf('%x', h4 // 5 % 65536)) || '::' || lower(printf('%x', h4 // 327680 % 65536))
          ELSE (h4 % 223 + 1)::VARCHAR || '.' || (h4 // 223 % 256)::VARCHAR || '.' || (h4 // 57088 % 256)::VARCHAR || '.' || (h4 // 14614528 % 254 + 1)::VARCHAR END`,
  user: `CASE WHEN unauthorized THEN NULL ELSE 'user-' || substr(tenant, 8) || '-' || (h5 % 25)::VARCHAR END`,
  request_time: 'make_timestamp(time_us)',
  http_method: 'method',
  resource_path: 'resource',
  status: `CASE WHEN unauthorized THEN 401 WHEN throttled THEN 429
               ELSE CASE h5 // 25 % 20 WHEN 15 THEN 400 WHEN 16 THEN 403 WHEN 17 THEN 404 WHEN 18 THEN 404 WHEN 19 THEN 500
                    ELSE CASE WHEN method = 'POST' THEN 201 ELSE 200 END END END`,
  protocol: `CASE WHEN h5 % 3 = 0 THEN 'HTTP/2.0' ELSE 'HTTP/1.1' END`,
  response_length: `CASE WHEN gateway THEN 20 + h4 // 7 % 41 ELSE 40 + h4 // 7 % 19961 END`,
  tenant_id: 'CASE WHEN unauthorized THEN NULL ELSE tenant END',
  path: `'/prod' || replace(resource, '{tenantId}', tenant)`,
  stage: `'prod'`,
  api_id: `'k3x9q2w8z1'`,
  response_latency: 'CASE WHEN gateway THEN h5 // 500 % 4 ELSE 4 + h5 // 500 % 248 + h5 // 124000 % 15 END',
  integration_latency: 'CASE WHEN gateway THEN NULL ELSE 3 + h5 // 500 % 248 END',
  error_type: `CASE WHEN unauthorized THEN 'UNAUTHORIZED' WHEN throttled THEN 'THROTTLED' ELSE NULL END`,
};

/** The access-log columns, in the table's order and types; fails if the table gained a column the bench does not fill. */
function selectColumns(): string {
  return ACCESS_LOG_COLUMNS.map((column) => {
    const sql = COLUMN_SQL[column.name];
    const type = DUCKDB_TYPE[column.type];
    if (sql === undefined || type === undefined) throw new Error(`the bench does not generate column ${column.name} (${column.type}): update COLUMN_SQL`);
    return `CAST(${sql} AS ${type}) AS "${column.name}"`;
  }).join(',\n    ');
}

/**
 * One delivery (file) of each hour in [firstHour, firstHour + hours): that delivery's time slice of
 * requests, plus the duplicates of a sample of the previous slice's requests (redelivered copies:
 * same request_id and request_time, another file).
 */
function deliverySql(tableDir: string, firstHour: number, hours: number, delivery: number): string {
  const firstEpochHour = firstHour / HOUR_MS;
  const slice = (d: number) => [Math.floor((d * REQUESTS_PER_HOUR) / FILES_PER_HOUR), Math.floor(((d + 1) * REQUESTS_PER_HOUR) / FILES_PER_HOUR)];
  const previous = (delivery + FILES_PER_HOUR - 1) % FILES_PER_HOUR;
  const [lo, hi] = slice(delivery);
  const [previousLo, previousHi] = slice(previous);
  const sliceUs = Math.floor(HOUR_US / FILES_PER_HOUR);
  return `
COPY (
  WITH hours AS (SELECT range AS eh FROM range(${firstEpochHour}, ${firstEpochHour + hours})),
  ids AS (
    SELECT eh, i, ${delivery} AS slot FROM hours, range(${lo}, ${hi}) r(i)
    UNION ALL
    SELECT eh, i, ${previous} AS slot FROM hours, range(${previousLo}, ${previousHi}) r(i) WHERE hash(eh, i, 7) % 1000 < ${DUPLICATES_PER_MILLE}
  ),
  draws AS (
    SELECT eh, i, slot,
      hash(eh, i, 1) % 1000000 / 1e6 AS u_outcome,
      hash(eh, i, 2) % 11 AS route,
      hash(eh, i, 3) % 1000000 / 1e6 AS u_tenant,
      hash(eh, i, 4) AS h4,
      hash(eh, i, 5) AS h5,
      md5(eh::VARCHAR || '/' || i::VARCHAR) AS m,
      ${HOUR_US}::BIGINT * eh + slot::BIGINT * ${sliceUs} + (hash(eh, i, 6) % ${sliceUs})::BIGINT AS time_us
    FROM ids
  ),
  shaped AS (
    SELECT *,
      u_outcome < 0.03 AS unauthorized,
      u_outcome >= 0.03 AND u_outcome < 0.05 AS throttled,
      u_outcome < 0.05 AS gateway,
      CASE WHEN route < 8 THEN 'GET' WHEN route < 10 THEN 'POST' ELSE 'GET' END AS method,
      CASE WHEN route < 8 THEN '/random/strings' WHEN route < 10 THEN '/usage' ELSE '/tenants/{tenantId}/usage' END AS resource,
      -- skewed: a few tenants make most of the calls, as in real SaaS traffic
      'tenant-' || lpad(floor(${TENANTS} * u_tenant * u_tenant)::BIGINT::VARCHAR, 4, '0') AS tenant
    FROM draws
  )
  SELECT
    ${selectColumns()},
    strftime(make_timestamp(time_us), '%Y-%m-%d-%H') AS hour
  FROM shaped
) TO '${tableDir.replace(/'/g, "''")}' (FORMAT parquet, PARTITION_BY (hour), APPEND true, FILENAME_PATTERN 'part-{uuid}')`;
}

/** Late arrivals of an hour, as the ingestion transform emits them (request_time in epoch µs). */
function lateRows(hour: number): Record<string, unknown>[] {
  const count = Math.max(1, Math.round((REQUESTS_PER_HOUR * LATE_PER_MILLE) / 1000));
  return Array.from({ length: count }, (_, k) => {
    const tenant = `tenant-${String(k % TENANTS).padStart(4, '0')}`;
    const resource = k % 5 === 4 ? '/usage' : '/random/strings';
    const status = k % 17 === 0 ? 500 : k % 5 === 4 ? 201 : 200;
    return {
      request_id: `late-${hourKey(hour)}-${k}`,
      ip: `203.0.113.${(k % 254) + 1}`,
      user: `user-${tenant.slice(7)}-${k % 25}`,
      request_time: (hour + 3_540_000 + (k % 60_000)) * 1000,
      http_method: resource === '/usage' ? 'POST' : 'GET',
      resource_path: resource,
      status,
      protocol: 'HTTP/1.1',
      response_length: 40 + ((k * 7919) % 19_961),
      tenant_id: tenant,
      path: `/prod${resource}`,
      stage: 'prod',
      api_id: 'k3x9q2w8z1',
      response_latency: 20 + (k % 200),
      integration_latency: 18 + (k % 200),
      error_type: null,
    };
  });
}

interface LakeInfo {
  readonly name: string;
  readonly days: number;
  readonly root: string;
  readonly files: number;
  readonly rows: number;
  readonly bytes: number;
  readonly hourFiles: number;
  readonly hourRows: number;
  readonly hourBytes: number;
  readonly generateSeconds: number;
}

function filesUnder(dir: string): { files: string[]; bytes: number } {
  const files: string[] = [];
  let bytes = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.parquet')) continue;
    const file = path.join(entry.parentPath, entry.name);
    files.push(file);
    bytes += fs.statSync(file).size;
  }
  return { files, bytes };
}

/** The folder of the measured hour's files. */
function hourPartition(root: string): string {
  return path.join(root, ACCESS_LOG_TABLE, `hour=${hourKey(LAST_HOUR).replace('T', '-')}`);
}

async function countRows(connection: DuckDBConnection, glob: string): Promise<number> {
  const reader = await connection.runAndReadAll(`SELECT count(*) AS n FROM read_parquet('${glob.replace(/'/g, "''")}')`);
  return Number(reader.getRowObjects()[0].n);
}

async function parquetSchema(connection: DuckDBConnection, file: string): Promise<string> {
  const reader = await connection.runAndReadAll(
    `SELECT name, type, converted_type, logical_type, repetition_type FROM parquet_schema('${file.replace(/'/g, "''")}') WHERE name <> 'duckdb_schema'`,
  );
  return JSON.stringify(reader.getRowObjects(), (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value));
}

async function buildLake(connection: DuckDBConnection, parent: string, days: number): Promise<LakeInfo> {
  const name = `${days}d`;
  const root = path.join(parent, `lake-${name}`);
  const tableDir = path.join(root, ACCESS_LOG_TABLE);
  const started = performance.now();
  const lake = await DuckDbLake.open(root); // creates the layout
  const hours = days * 24;
  const firstHour = LAST_HOUR - (hours - 1) * HOUR_MS;
  for (let delivery = 0; delivery < FILES_PER_HOUR; delivery += 1) {
    for (let offset = 0; offset < hours; offset += CHUNK_HOURS) {
      await connection.run(deliverySql(tableDir, firstHour + offset * HOUR_MS, Math.min(CHUNK_HOURS, hours - offset), delivery));
    }
    process.stderr.write(`  ${name} lake: delivery ${delivery + 1}/${FILES_PER_HOUR} of ${hours} hours written (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  }
  // Late arrivals of the measured hour come through the lake's own writer, as another file.
  await lake.appendAccessLogs(lateRows(LAST_HOUR));
  lake.close();
  const generateSeconds = (performance.now() - started) / 1000;

  const all = filesUnder(tableDir);
  const hourDir = hourPartition(root);
  const hour = filesUnder(hourDir);
  // One file per hour and delivery, plus the late arrivals: the layout Firehose would leave.
  if (hour.files.length !== FILES_PER_HOUR + 1) throw new Error(`expected ${FILES_PER_HOUR + 1} files in ${hourDir}, found ${hour.files.length}`);
  if (all.files.length !== hours * FILES_PER_HOUR + 1) throw new Error(`expected ${hours * FILES_PER_HOUR + 1} files in ${tableDir}, found ${all.files.length}`);
  if (fs.readdirSync(tableDir).length !== hours) throw new Error(`expected ${hours} hour partitions in ${tableDir}, found ${fs.readdirSync(tableDir).length}`);
  return {
    name,
    days,
    root,
    files: all.files.length,
    rows: await countRows(connection, path.join(tableDir, '*', '*.parquet')),
    bytes: all.bytes,
    hourFiles: hour.files.length,
    hourRows: await countRows(connection, path.join(hourDir, '*.parquet')),
    hourBytes: hour.bytes,
    generateSeconds,
  };
}

/** The generated files must be indistinguishable from the lake writer's: same columns, types, order. */
async function checkSchema(connection: DuckDBConnection, lake: LakeInfo): Promise<void> {
  const hourDir = hourPartition(lake.root);
  const schemas = new Set<string>();
  for (const file of filesUnder(hourDir).files) schemas.add(await parquetSchema(connection, file));
  if (schemas.size !== 1) throw new Error(`generated Parquet files differ in schema from the ones DuckDbLake.appendAccessLogs writes:\n${[...schemas].join('\n')}`);
}

// ---------------------------------------------------------------------------------------------------
// Measurement.

/** The true quantity of each dimension in the hour, counted here without the aggregation code. */
async function expectedTotals(connection: DuckDBConnection, lake: LakeInfo, config: MeteringConfig): Promise<Record<string, number>> {
  const hourDir = hourPartition(lake.root);
  const reader = await connection.runAndReadAll(
    `SELECT DISTINCT ON (tenant_id, request_id) http_method, resource_path, status, response_length
     FROM read_parquet('${path.join(hourDir, '*.parquet').replace(/'/g, "''")}') WHERE tenant_id IS NOT NULL`,
  );
  const totals: Record<string, number> = {};
  for (const dimension of config.dimensions) totals[dimension.name] = 0;
  for (const row of reader.getRowObjects()) {
    for (const d of config.dimensions) {
      const match = d.match;
      const matches = (match.resourcePaths.includes('*') || match.resourcePaths.includes(String(row.resource_path))) &&
        ((match.methods as readonly string[]).includes('*') || (match.methods as readonly string[]).includes(String(row.http_method))) &&
        match.statuses.some((range) => Number(row.status) >= range.from && Number(row.status) <= range.to);
      if (matches) totals[d.name] += d.measure === 'requests' ? 1 : Number(row.response_length ?? 0);
    }
  }
  return totals;
}

interface RunTiming {
  readonly queryMs: number;
  readonly runMs: number;
  readonly report: AggregationReport;
}

/**
 * One aggregation of the measured hour into a fresh usage table, which is checked with `check` (not
 * timed) and dropped, so that every run writes into a table of the same size.
 */
async function measureOnce(
  dynamo: LocalDynamoDb,
  lake: DuckDbLake,
  config: MeteringConfig,
  sql: string,
  table: string,
  check?: (store: DynamoDbUsageStore, report: AggregationReport) => Promise<void>,
): Promise<RunTiming> {
  await dynamo.createTable(usageTableDefinition(table));
  const store = new DynamoDbUsageStore(dynamo.client, table);
  const inner = new DuckDbUsageEngine(lake);
  let queryMs = 0;
  const engine: UsageQueryEngine = {
    name: inner.name,
    async query(query) {
      const started = performance.now();
      const result = await inner.query(query);
      queryMs += performance.now() - started;
      return result;
    },
  };
  const started = performance.now();
  const report = await aggregateWindow({ engine, store, config, sql: { requestGroups: sql, meterValues: readSqlFile('queries/hourly_meter_values.sql') }, ingestionDelaySeconds: 0 }, { firstHour: LAST_HOUR, lastHour: LAST_HOUR });
  const runMs = performance.now() - started;
  if (report.outcomes.created !== report.measurements) throw new Error(`a run on a fresh table created ${report.outcomes.created} of ${report.measurements} usage hours`);
  await check?.(store, report);
  await dynamo.client.send(new DeleteTableCommand({ TableName: table }));
  return { queryMs, runMs, report };
}

/** The usage written for the hour must be the distinct requests counted directly. */
function checkAgainst(expected: Record<string, number>, lakeName: string, config: MeteringConfig) {
  return async (store: DynamoDbUsageStore, report: AggregationReport): Promise<void> => {
    const stored = await store.unsentHours(LAST_HOUR);
    const totals: Record<string, number> = Object.fromEntries(config.dimensions.map((d) => [d.name, 0]));
    for (const hour of stored) totals[hour.dimension] += hour.measured;
    if (JSON.stringify(totals) !== JSON.stringify(expected)) {
      throw new Error(`${lakeName} lake: usage written ${JSON.stringify(totals)} differs from the hour's distinct requests ${JSON.stringify(expected)}`);
    }
    if (stored.length !== report.measurements) throw new Error(`${lakeName} lake: ${stored.length} usage hours stored, ${report.measurements} measured`);
  };
}

/** For contrast: the same query if the engine opened every partition of the lake (no pruning). */
async function unprunedQueryMs(lake: DuckDbLake, sql: string, runs: number): Promise<number> {
  const parameters = [sqlTimestamp(LAST_HOUR), sqlTimestamp(LAST_HOUR + HOUR_MS)];
  const samples: number[] = [];
  for (let i = 0; i <= runs; i += 1) {
    const started = performance.now();
    await lake.query(sql, parameters);
    if (i > 0) samples.push(performance.now() - started); // the first is a warm-up
  }
  return median(samples);
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));
const mb = (bytes: number) => round(bytes / 1e6, 1);

async function main(): Promise<void> {
  const benchStarted = performance.now();
  const config = parseMeteringConfig(JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'config', 'metering.json'), 'utf8')));
  const sql = readSqlFile('queries/hourly_request_groups.sql');
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-aggregate-'));
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run('SET preserve_insertion_order = false');
  // One file per hour and delivery: DuckDB starts another file of a partition once it has more open than this.
  await connection.run(`SET partitioned_write_max_open_files = ${CHUNK_HOURS * 2}`);
  let dynamo: LocalDynamoDb | undefined;
  const lakes: DuckDbLake[] = [];
  try {
    process.stderr.write(`building lakes under ${parent}: ${REQUESTS_PER_HOUR.toLocaleString('en')} requests per hour, ${TENANTS} tenants, ${FILES_PER_HOUR} files per hour\n`);
    const short = await buildLake(connection, parent, 1);
    const long = await buildLake(connection, parent, LONG_DAYS);
    for (const info of [short, long]) await checkSchema(connection, info);
    const infos = [short, long] as const;

    dynamo = await startLocalDynamoDb();
    const opened = [await DuckDbLake.open(short.root), await DuckDbLake.open(long.root)];
    lakes.push(...opened);
    // Both lakes hold the same requests for the hour: each must write the usage counted here.
    const expected = await expectedTotals(connection, long, config);
    const queryMs: number[][] = [[], []];
    const runMs: number[][] = [[], []];
    let measurements = 0;
    for (let repetition = 0; repetition < WARMUP + REPETITIONS; repetition += 1) {
      // Alternate which lake goes first, so neither always follows the other.
      const order = repetition % 2 === 0 ? [0, 1] : [1, 0];
      const runs: RunTiming[] = [];
      for (const index of order) {
        const check = repetition === 0 ? checkAgainst(expected, infos[index].name, config) : undefined;
        const run = await measureOnce(dynamo, opened[index], config, sql, `usage-${infos[index].name}-${repetition}`, check);
        runs[index] = run;
        measurements = run.report.measurements;
        if (repetition >= WARMUP) {
          queryMs[index].push(run.queryMs);
          runMs[index].push(run.runMs);
        }
      }
      const describe = (index: number) => `${infos[index].name} query ${runs[index].queryMs.toFixed(0)} ms, run ${runs[index].runMs.toFixed(0)} ms`;
      process.stderr.write(`  ${repetition < WARMUP ? 'warm-up' : 'run'} ${repetition + 1}/${WARMUP + REPETITIONS}: ${describe(0)}; ${describe(1)}\n`);
    }
    const unprunedMs = await unprunedQueryMs(opened[1], sql, 3);

    const [shortQuery, longQuery] = queryMs.map(median);
    const [shortRun, longRun] = runMs.map(median);
    const ratio30To1 = round(longRun / shortRun, 3);
    const queryRatio30To1 = round(longQuery / shortQuery, 3);
    const rowsPerSecond = Math.round(long.hourRows / (longQuery / 1000));
    const meetsTarget = ratio30To1 <= TARGET_RATIO && queryRatio30To1 <= TARGET_RATIO;

    console.log(`aggregate benchmark: one hour (${hourKey(LAST_HOUR)}) aggregated from a 1-day and a ${LONG_DAYS}-day lake, node ${process.version}, ${os.cpus().length} cores`);
    for (const info of infos) {
      console.log(`  ${info.name.padStart(3)} lake: ${info.files.toLocaleString('en')} files, ${info.rows.toLocaleString('en')} rows, ${mb(info.bytes)} MB (built in ${info.generateSeconds.toFixed(1)} s)`);
    }
    console.log(`  the hour: ${long.hourFiles} files, ${long.hourRows.toLocaleString('en')} rows (${REQUESTS_PER_HOUR.toLocaleString('en')} requests + duplicates + late arrivals), ${mb(long.hourBytes)} MB → ${measurements} usage hours (${TENANTS} tenants × ${config.dimensions.length} dimensions at most), checked against a direct count`);
    console.log(`  median of ${REPETITIONS} runs after ${WARMUP} warm-up runs, fresh usage table each run:`);
    console.log(`     1d lake: query ${shortQuery.toFixed(1)} ms, whole run ${shortRun.toFixed(1)} ms`);
    console.log(`    ${long.name.padStart(3)} lake: query ${longQuery.toFixed(1)} ms, whole run ${longRun.toFixed(1)} ms`);
    console.log(`  ratio ${long.name}/1d: whole run ${ratio30To1}, query ${queryRatio30To1}; target ≤ ${TARGET_RATIO} ${meetsTarget ? 'met' : 'MISSED'}`);
    console.log(`  query reads ${rowsPerSecond.toLocaleString('en')} rows/s of the hour (${long.name} lake); for contrast, the same query opening every partition of the ${long.name} lake: ${unprunedMs.toFixed(0)} ms`);
    console.log(`  bench took ${((performance.now() - benchStarted) / 1000).toFixed(0)} s`);
    console.log(
      JSON.stringify({
        bench: 'aggregate',
        requestsPerHour: REQUESTS_PER_HOUR,
        tenants: TENANTS,
        filesPerHour: FILES_PER_HOUR,
        repetitions: REPETITIONS,
        lakes: Object.fromEntries(infos.map((info) => [info.name, { files: info.files, rows: info.rows, mb: mb(info.bytes) }])),
        hourRows: long.hourRows,
        usageHours: measurements,
        queryMs1d: round(shortQuery, 1),
        queryMs30d: round(longQuery, 1),
        runMs1d: round(shortRun, 1),
        runMs30d: round(longRun, 1),
        ratio30To1,
        queryRatio30To1,
        rowsPerSecond,
        unprunedQueryMs30d: round(unprunedMs, 1),
        target: TARGET_RATIO,
        meetsTarget,
      }),
    );
  } finally {
    for (const lake of lakes) lake.close();
    connection.closeSync();
    await dynamo?.close();
    if (KEEP_LAKES) process.stderr.write(`lakes kept under ${parent}\n`);
    else fs.rmSync(parent, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
