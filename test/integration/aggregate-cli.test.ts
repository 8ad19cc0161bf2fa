/**
 * `npm run aggregate` as a user runs it: the CLI in a child process, on a temporary Parquet lake and a
 * DynamoDB-compatible server started here; the usage hours it wrote are read back with the store.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDbLake } from '../../adapters/duckdb/duckdb-lake';
import { DynamoDbUsageStore } from '../../adapters/dynamodb/dynamodb-usage-store';
import { HOUR_MS } from '../../core/usage/hours';
import { startLocalDynamoDb, type LocalDynamoDb } from '../../local/dynamodb/local-dynamodb';
import { accessLogRow } from '../support/access-log-rows';
import { runScript } from '../support/run-script';

const H10 = Date.UTC(2026, 10, 1, 10);
const H11 = H10 + HOUR_MS;
const H12 = H11 + HOUR_MS;

const runCli = (args: readonly string[]) => runScript('scripts/aggregate.ts', args, { timeoutMs: 20_000 });

let dynamo: LocalDynamoDb;
let root: string;
let store: DynamoDbUsageStore;
const TABLE = 'usage-cli';

beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
  store = new DynamoDbUsageStore(dynamo.client, TABLE);
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'aggregate-cli-'));
  const lake = await DuckDbLake.open(path.join(root, 'lake'));
  try {
    await lake.appendAccessLogs([
      accessLogRow({ id: 'a1', tenant: 'acme', at: H10 + 1, bytes: 10 }),
      accessLogRow({ id: 'a1', tenant: 'acme', at: H10 + 1, bytes: 10 }), // duplicate delivery
      accessLogRow({ id: 'a2', tenant: 'acme', at: H10 + 2, bytes: 20 }),
      accessLogRow({ id: 'a3', tenant: 'acme', at: H10 + 3, status: 500 }),
      accessLogRow({ id: 'g1', tenant: 'globex', at: H11 + 5, bytes: 7 }),
      accessLogRow({ id: 'anon', tenant: null, at: H11 + 6, status: 401 }),
      accessLogRow({ id: 'later', tenant: 'acme', at: H12 + 1 }), // outside the range
    ]);
  } finally {
    lake.close();
  }
});

afterAll(async () => {
  await dynamo.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const local = () => ['--lake', path.join(root, 'lake'), '--dynamodb-endpoint', dynamo.endpoint, '--table', TABLE];

describe('npm run aggregate', () => {
  it('aggregates the hours asked for into the usage table, then changes nothing when run again', async () => {
    const first = await runCli(['--from', '2026-11-01T10', '--to', '2026-11-01T11:00:00Z', ...local(), '--json']);
    expect(first).toMatchObject({ code: 0 });
    const lines = first.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({
      firstHour: '2026-11-01T10',
      lastHour: '2026-11-01T11',
      hours: 2,
      engine: 'duckdb',
      measurements: 4,
      outcomes: { created: 4, updated: 0, unchanged: 0, stale: 0 },
    });

    const acme = await store.readSeries({ tenantId: 'acme', dimension: 'api_requests' });
    expect(acme.map((h) => [h.hour, h.measured])).toEqual([[H10, 2]]); // not 12:00, outside the range
    expect((await store.readSeries({ tenantId: 'acme', dimension: 'response_bytes' })).map((h) => h.measured)).toEqual([30]);
    expect((await store.readSeries({ tenantId: 'globex', dimension: 'api_requests' })).map((h) => [h.hour, h.measured])).toEqual([[H11, 1]]);
    expect(await store.hourAggregatedAsOf(H11)).toBeDefined();
    expect(await store.hourAggregatedAsOf(H12)).toBeUndefined();
    expect(await store.lastCompleteHour()).toBeUndefined(); // a backfill leaves the scheduled run's cursor alone

    const again = await runCli(['--from', '2026-11-01T10', '--to', '2026-11-01T11', ...local()]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/created +0/);
    expect(again.stdout).toMatch(/unchanged +4/);
    expect(again.stdout).toContain('2026-11-01T10 to 2026-11-01T11 (2 hours)');
  });

  it('refuses bad options and a bad configuration with exit code 2 and a message, before touching anything', async () => {
    const badConfig = path.join(root, 'metering.json');
    fs.writeFileSync(badConfig, JSON.stringify({ dimensions: [], aggregation: { graceSeconds: 300, lookBackHours: 6, maxHoursPerRun: 48 } }));
    const [badHour, tooLong, config] = await Promise.all([
      runCli(['--from', '2026-11-01T10:30', '--to', '2026-11-01T11', ...local()]),
      runCli(['--from', '2026-10-01T00', '--to', '2026-11-01T00', ...local()]),
      runCli(['--from', '2026-11-01T10', '--to', '2026-11-01T11', ...local(), '--config', badConfig]),
    ]);
    expect(badHour).toMatchObject({ code: 2, stdout: '' });
    expect(badHour.stderr).toContain("Invalid --from '2026-11-01T10:30': not on an hour boundary");
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toContain('at most 744');
    expect(config.code).toBe(2);
    expect(config.stderr).toContain('Invalid metering configuration');
    expect(config.stderr).toContain('dimensions');
    for (const run of [badHour, tooLong, config]) expect(run.stderr).not.toMatch(/^\s+at /m); // no stack trace
  });

  it('fails with exit code 1 and a message when the lake is missing', async () => {
    const run = await runCli(['--from', '2026-11-01T10', '--to', '2026-11-01T11', '--lake', path.join(root, 'nowhere'), '--dynamodb-endpoint', dynamo.endpoint]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no access-log lake at');
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });
});
