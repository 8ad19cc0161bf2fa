/**
 * Backfill: aggregates chosen hours from the access-log lake into the usage table.
 *
 *   npm run aggregate -- --from 2026-11-01T00 --to 2026-11-01T23 [--engine duckdb|athena] [--json]
 *
 * Locally (default) it reads the Parquet lake with DuckDB and writes to a DynamoDB-compatible server
 * (an embedded one, persisted in .local/dynamodb, unless --dynamodb-endpoint is given); with
 * --engine athena it runs the same SQL on Athena and writes to the DynamoDB usage table. The report
 * goes to stdout (text, or one JSON line with --json); the start line and errors go to stderr.
 * Exit codes: 0 done, 1 failed while running, 2 invalid options or configuration (see --help).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AggregationReport } from '../core/usage/aggregation-job';
import type { MeteringConfig } from '../core/usage/metering-config';
import { describeError, readMeteringConfigOption, UsageError } from './cli/errors';
import type { UsageQueryEngine } from '../core/usage/usage-query-engine';
import type { UsageStore } from '../core/usage/usage-store';
import { AGGREGATE_DEFAULTS, AGGREGATE_USAGE, parseAggregateOptions, type AggregateOptions, type AggregateTarget } from './aggregate/options';
import { optionsOrExitCode } from './cli/options';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

// The SDK's notice that its releases after January 2027 need Node 22 says nothing about this run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Set once usage hours may have been written: a failure after that may have left hours unfinished. */
let aggregating = false;
/** Set while the embedded DynamoDB-compatible server runs. */
let usingEmbeddedDynamoDb = false;

/** Where the run reads and writes, opened. */
interface OpenTarget {
  readonly engine: UsageQueryEngine;
  readonly store: UsageStore;
  /** For the start line: lake and table. */
  readonly description: string;
  close(): Promise<void>;
}

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseAggregateOptions(argv, { env: process.env, now: Date.now() });
  const outcome = optionsOrExitCode(parsed, { name: 'aggregate', help: 'npm run aggregate -- --help', usage: AGGREGATE_USAGE });
  if ('exitCode' in outcome) return outcome.exitCode;
  const { options } = outcome;
  let config: MeteringConfig;
  try {
    config = readMeteringConfigOption(options.config, 'config');
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`aggregate: ${error.message}\n`);
    return EXIT_USAGE;
  }

  // The engines (DuckDB's native module, the AWS SDK) load only once the options are known to be good.
  const { aggregateWindow } = await import('../core/usage/aggregation-job');
  const { readUsageSql } = await import('../sql/sql-files');
  const started = Date.now();
  const target = await openTarget(options.target);
  let report: AggregationReport;
  try {
    process.stderr.write(`aggregate: ${options.from} to ${options.to} (${plural(options.hours, 'hour')}) from ${target.description}\n`);
    // ingestionDelaySeconds only plans the scheduled run's window; a backfill names its hours.
    aggregating = true;
    report = await aggregateWindow(
      { engine: target.engine, store: target.store, config, sql: readUsageSql(), ingestionDelaySeconds: 0 },
      { firstHour: options.firstHour, lastHour: options.lastHour },
    );
  } finally {
    await target.close();
  }
  const elapsedMs = Date.now() - started;
  process.stdout.write(options.json ? `${JSON.stringify({ ...report, hours: options.hours, elapsedMs })}\n` : formatReport(report, options, elapsedMs));
  return EXIT_OK;
}

async function openTarget(target: AggregateTarget): Promise<OpenTarget> {
  const { DynamoDbUsageStore } = await import('../adapters/dynamodb/dynamodb-usage-store');
  if (target.engine === 'athena') {
    const { AthenaClient } = await import('@aws-sdk/client-athena');
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
    const { AthenaQueryRunner } = await import('../adapters/athena/athena-query-runner');
    const { AthenaUsageEngine } = await import('../adapters/athena/athena-usage-engine');
    const athena = new AthenaClient({ region: target.region });
    const dynamo = new DynamoDBClient({ region: target.region });
    const close = async () => {
      athena.destroy();
      dynamo.destroy();
    };
    try {
      // Before Athena scans (and bills) anything: the usage table must be there.
      await checkTableExists(dynamo, target.table, target.region);
    } catch (error) {
      await close();
      throw error;
    }
    return {
      engine: new AthenaUsageEngine(new AthenaQueryRunner(athena, { workGroup: target.workgroup, database: target.database, timeoutMs: 900_000 })),
      store: new DynamoDbUsageStore(dynamo, target.table),
      description: `Athena (workgroup ${target.workgroup}, database ${target.database}, ${target.region}) into DynamoDB table ${target.table}`,
      close,
    };
  }

  const tableDir = path.join(target.lake, 'access_logs');
  if (!fs.existsSync(tableDir)) throw new Error(`no access-log lake at ${target.lake} (${tableDir} does not exist); pass --lake <dir>`);
  const { DuckDbLake } = await import('../adapters/duckdb/duckdb-lake');
  const { DuckDbUsageEngine } = await import('../adapters/duckdb/duckdb-usage-engine');
  const closers: (() => Promise<void> | void)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
  };
  try {
    const lake = await DuckDbLake.open(target.lake);
    closers.push(() => lake.close());
    let client: DynamoDBClient;
    let where: string;
    if (target.dynamoDbEndpoint !== undefined) {
      const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
      client = new DynamoDBClient({
        endpoint: target.dynamoDbEndpoint,
        region: process.env.AWS_REGION || 'local',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        maxAttempts: 3,
      });
      closers.push(() => client.destroy());
      where = target.dynamoDbEndpoint;
    } else {
      const { startLocalDynamoDb } = await import('../local/dynamodb/local-dynamodb');
      fs.mkdirSync(path.dirname(AGGREGATE_DEFAULTS.dynamoDbPath), { recursive: true });
      usingEmbeddedDynamoDb = true;
      const local = await startLocalDynamoDb({ path: AGGREGATE_DEFAULTS.dynamoDbPath });
      closers.push(() => local.close());
      client = local.client;
      where = `embedded DynamoDB (${AGGREGATE_DEFAULTS.dynamoDbPath})`;
    }
    await ensureLocalTable(client, target.table, where);
    return {
      engine: new DuckDbUsageEngine(lake),
      store: new DynamoDbUsageStore(client, target.table),
      description: `the DuckDB lake ${target.lake} into table ${target.table} on ${where}`,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Creates the usage table on a local server unless it exists, and waits until it is active. */
async function ensureLocalTable(client: DynamoDBClient, table: string, where: string): Promise<void> {
  const { CreateTableCommand, DescribeTableCommand } = await import('@aws-sdk/client-dynamodb');
  const { usageTableDefinition } = await import('../adapters/dynamodb/usage-table-definition');
  try {
    await client.send(new CreateTableCommand(usageTableDefinition(table)));
  } catch (error) {
    if ((error as { name?: string }).name !== 'ResourceInUseException') throw new Error(`cannot create table ${table} on ${where}: ${describeError(error)}`, { cause: error });
  }
  for (let attempt = 0; ; attempt += 1) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
    if (Table?.TableStatus === 'ACTIVE') return;
    if (attempt >= 300) throw new Error(`table ${table} on ${where} is still ${Table?.TableStatus ?? 'not described'} after 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function checkTableExists(client: DynamoDBClient, table: string, region: string): Promise<void> {
  const { DescribeTableCommand } = await import('@aws-sdk/client-dynamodb');
  try {
    await client.send(new DescribeTableCommand({ TableName: table }));
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'ResourceNotFoundException') throw new Error(`DynamoDB table ${table} not found in ${region} (--table, --region)`, { cause: error });
    // Allowed to write but not to describe: the writes will tell.
    if (name !== 'AccessDeniedException') throw error;
  }
}

function formatReport(report: AggregationReport, options: AggregateOptions, elapsedMs: number): string {
  const { created, updated, unchanged, stale } = report.outcomes;
  const bytes = report.bytesScanned === undefined
    ? `not reported by ${report.engine}`
    : `${(report.bytesScanned / 1e6).toFixed(1)} MB (${report.bytesScanned.toLocaleString('en')} bytes)`;
  return [
    `Aggregated ${report.firstHour} to ${report.lastHour} (${plural(options.hours, 'hour')}) with ${report.engine}, as of ${new Date(report.asOf).toISOString()}:`,
    `  tenant-hours (tenant × dimension × hour): ${report.measurements} measured`,
    `    created   ${created}`,
    `    updated   ${updated}`,
    `    unchanged ${unchanged}`,
    `    stale     ${stale}   (a run that started later had already written them)`,
    `  bytes scanned: ${bytes}`,
    `  took ${(elapsedMs / 1000).toFixed(1)} s`,
    '',
  ].join('\n');
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** Prints a runtime failure as a message (never a stack trace), with what to do about it. */
function reportFailure(error: unknown): void {
  let message = describeError(error);
  // dynalite cannot open its LevelDB folder while another process holds it, and says only this.
  if (usingEmbeddedDynamoDb && message === 'Database is closed') {
    message = `the embedded DynamoDB could not open ${AGGREGATE_DEFAULTS.dynamoDbPath}: another process is probably using it (another aggregate run, a local server); wait for it, or pass --dynamodb-endpoint of a running server`;
  }
  const hint = aggregating ? 'Hours that did not finish are not marked aggregated: run the same command again (re-running is safe).\n' : '';
  process.stderr.write(`aggregate: failed: ${message}\n${hint}`);
}

// A local server's failure can surface outside any promise of ours (dynalite throws in its handler).
process.on('uncaughtException', (error) => {
  reportFailure(error);
  process.exit(EXIT_FAILED);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    reportFailure(error);
    process.exitCode = EXIT_FAILED;
  },
);
