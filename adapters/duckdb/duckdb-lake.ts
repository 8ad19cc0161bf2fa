import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ACCESS_LOG_COLUMNS, ACCESS_LOG_TABLE, type TableColumn } from '../../core/lake/access-log-table';
import { USAGE_EVENT_COLUMNS, USAGE_EVENT_TABLE } from '../../core/lake/usage-event-table';

/** A table of the local lake: its columns and the timestamp column its hour partitions come from. */
interface LakeTable {
  readonly name: string;
  readonly columns: readonly TableColumn[];
  readonly partitionColumn: string;
}

/** The lake's tables, partitioned like their Iceberg counterparts (`hour(<column>)`). */
const LAKE_TABLES: readonly LakeTable[] = [
  { name: ACCESS_LOG_TABLE, columns: ACCESS_LOG_COLUMNS, partitionColumn: 'request_time' },
  { name: USAGE_EVENT_TABLE, columns: USAGE_EVENT_COLUMNS, partitionColumn: 'event_time' },
];

function lakeTable(name: string): LakeTable {
  const table = LAKE_TABLES.find((t) => t.name === name);
  if (!table) throw new Error(`no lake table ${name}`);
  return table;
}

/** DuckDB type of each Athena DDL type the lake tables use. */
const DUCKDB_TYPE: Record<string, string> = { string: 'VARCHAR', int: 'INTEGER', bigint: 'BIGINT', timestamp: 'TIMESTAMP', double: 'DOUBLE', boolean: 'BOOLEAN' };

function duckDbType(column: TableColumn): string {
  const type = DUCKDB_TYPE[column.type];
  if (!type) throw new Error(`no DuckDB type for column ${column.name} of type ${column.type}`);
  return type;
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

const PARTITION = /^hour=(\d{4})-(\d{2})-(\d{2})-(\d{2})$/;

/** Whether an `hour=YYYY-MM-DD-HH` partition overlaps [start, end). */
export function partitionOverlaps(partition: string, range: { start: number; end: number }): boolean {
  const match = PARTITION.exec(partition);
  if (!match) return false;
  const hourStart = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]), Number(match[4]));
  return hourStart < range.end && hourStart + 3_600_000 > range.start;
}

/** A query result row, keyed by column name. */
export type LakeRow = Record<string, DuckDBValue>;

/**
 * The local usage lake: Parquet files laid out like the Iceberg tables' hidden partitions
 * (`<root>/access_logs/hour=YYYY-MM-DD-HH/*.parquet`, `<root>/usage_events/hour=…`), written and
 * queried with embedded DuckDB, so the same SQL files that run on Athena run here.
 */
export class DuckDbLake {
  /** Queries run one at a time: each scopes the shared views to its own hours first. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly root: string,
    private readonly connection: DuckDBConnection,
  ) {}

  /** Opens (creating if needed) the lake under `root`, with an in-memory DuckDB. */
  static async open(root: string): Promise<DuckDbLake> {
    for (const table of LAKE_TABLES) fs.mkdirSync(path.join(root, table.name), { recursive: true });
    const instance = await DuckDBInstance.create(':memory:');
    const lake = new DuckDbLake(root, await instance.connect());
    await lake.refreshViews();
    return lake;
  }

  private tableDir(table: string): string {
    return path.join(this.root, table);
  }

  /**
   * (Re)defines each table's view over its Parquet files (an empty table when none). With `hours`,
   * only the partitions of those hours are opened: the stand-in for Iceberg's hidden partitioning,
   * which lets Athena skip every other hour of a range on the partition column by itself.
   */
  async refreshViews(hours?: { start: number; end: number }): Promise<void> {
    for (const table of LAKE_TABLES) {
      const dir = this.tableDir(table.name);
      const partitions = fs.readdirSync(dir).filter((entry) => entry.startsWith('hour=') && (hours === undefined || partitionOverlaps(entry, hours)));
      const columns = table.columns.map((c) => `${quoteIdentifier(c.name)}`).join(', ');
      const files = partitions.map((partition) => quoteString(path.join(dir, partition, '*.parquet'))).join(', ');
      const source = partitions.length > 0
        ? `SELECT ${columns} FROM read_parquet([${files}], union_by_name = true)`
        : `SELECT ${table.columns.map((c) => `CAST(NULL AS ${duckDbType(c)}) AS ${quoteIdentifier(c.name)}`).join(', ')} WHERE false`;
      await this.connection.run(`CREATE OR REPLACE VIEW ${quoteIdentifier(table.name)} AS ${source}`);
    }
  }

  /**
   * Appends access-log rows as the transform emits them (request_time in epoch microseconds) to a new
   * Parquet file in each hour partition they touch.
   */
  async appendAccessLogs(rows: readonly Readonly<Record<string, unknown>>[]): Promise<void> {
    await this.appendRows(ACCESS_LOG_TABLE, rows);
  }

  /** Appends usage-event rows as the transform emits them (timestamps in epoch microseconds). */
  async appendUsageEvents(rows: readonly Readonly<Record<string, unknown>>[]): Promise<void> {
    await this.appendRows(USAGE_EVENT_TABLE, rows);
  }

  /**
   * Appends rows of a lake table, as the transform emits them (timestamps in epoch microseconds), to
   * a new Parquet file in each hour partition they touch. Runs in the query queue, so a query never
   * sees half an append.
   */
  async appendRows(tableName: string, rows: readonly Readonly<Record<string, unknown>>[]): Promise<void> {
    if (rows.length === 0) return;
    const table = lakeTable(tableName);
    const run = this.queue.then(() => this.writeRows(table, rows));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async writeRows(table: LakeTable, rows: readonly Readonly<Record<string, unknown>>[]): Promise<void> {
    const staging = path.join(this.root, `.staging-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.ndjson`);
    fs.writeFileSync(staging, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
    try {
      const jsonColumns = table.columns.map((c) => `${quoteString(c.name)}: ${quoteString(c.type === 'timestamp' ? 'BIGINT' : duckDbType(c))}`).join(', ');
      const select = table.columns.map((c) => (c.type === 'timestamp' ? `make_timestamp(${quoteIdentifier(c.name)}) AS ${quoteIdentifier(c.name)}` : quoteIdentifier(c.name))).join(', ');
      await this.connection.run(
        `COPY (SELECT ${select}, strftime(make_timestamp(${quoteIdentifier(table.partitionColumn)}), '%Y-%m-%d-%H') AS hour
               FROM read_json(${quoteString(staging)}, format = 'newline_delimited', columns = {${jsonColumns}}))
         TO ${quoteString(this.tableDir(table.name))} (FORMAT parquet, PARTITION_BY (hour), APPEND true, FILENAME_PATTERN 'part-{uuid}')`,
      );
    } finally {
      fs.rmSync(staging, { force: true });
    }
  }

  /**
   * Runs one SQL statement with positional `?` parameters (bound as strings) and returns its rows.
   * With `hours`, the tables show only the partitions of that request-time range.
   */
  async query(sql: string, parameters: readonly string[] = [], hours?: { start: number; end: number }): Promise<LakeRow[]> {
    const run = this.queue.then(async () => {
      await this.refreshViews(hours);
      const reader = await this.connection.runAndReadAll(sql, [...parameters]);
      return reader.getRowObjects() as LakeRow[];
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Closes the connection. */
  close(): void {
    this.connection.closeSync();
  }
}
