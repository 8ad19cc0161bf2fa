import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type AthenaClient,
  type ColumnInfo,
  type Datum,
  type QueryExecutionStatus,
  type StartQueryExecutionCommandInput,
} from '@aws-sdk/client-athena';

/** Settings of an {@link AthenaQueryRunner}. */
export interface AthenaQueryRunnerOptions {
  /** The workgroup every query runs in (it supplies the result location and the scan limits). */
  readonly workGroup: string;
  /** Default database of unqualified table names. @default the workgroup's / Athena's default */
  readonly database?: string;
  /** Data catalog. @default Athena's default (`AwsDataCatalog`) */
  readonly catalog?: string;
  /** First polling interval. @default 200 */
  readonly pollInitialMs?: number;
  /** Polling interval cap: the interval doubles after every poll up to this. @default 2000 */
  readonly pollMaxMs?: number;
  /** How long a query may take before it is stopped and a {@link QueryTimeoutError} thrown. @default 60000 */
  readonly timeoutMs?: number;
  /** Waits `ms` milliseconds (injectable for tests). @default a `setTimeout` promise */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Current time in epoch milliseconds (injectable for tests). @default `Date.now` */
  readonly now?: () => number;
}

/** Per-call settings of {@link AthenaQueryRunner.runQuery}. */
export interface RunQueryOptions {
  /** Overrides the runner's {@link AthenaQueryRunnerOptions.timeoutMs} for this query. */
  readonly timeoutMs?: number;
}

/** What a successful query reports. */
export interface QueryRunResult {
  readonly queryExecutionId: string;
  /** Bytes Athena scanned (what it bills: $5 per TB, 10 MB minimum per DML query; DDL is free). */
  readonly dataScannedBytes: number;
  readonly engineExecutionTimeMs: number;
}

/**
 * One value of a result row, converted by its column's Athena type:
 * - `tinyint`, `smallint`, `integer` → `number` (always exact);
 * - `bigint` → JS `bigint`, so that counts beyond 2^53 stay exact (billing); note that
 *   `JSON.stringify` rejects a `bigint`: convert with `String()` or `Number()` where JSON is needed;
 * - `decimal` → `string` exactly as Athena printed it (never rounded through a float);
 * - `double`, `real`/`float` → `number` (`NaN`/`Infinity` included);
 * - `boolean` → `boolean`;
 * - `timestamp` → ISO-8601 string in UTC (`2024-05-01T10:00:00.123Z`), every fractional digit kept
 *   (Iceberg timestamps carry microseconds a `Date` would lose); `timestamp with time zone` in UTC
 *   likewise, another zone as Athena printed it;
 * - `varchar`, `char`, `date` and every other type (arrays, maps, rows, json, …) → Athena's text;
 * - SQL NULL → `null` (an empty string stays `''`).
 */
export type AthenaValue = string | number | bigint | boolean | null;

/** A result row keyed by column name. */
export type AthenaRow = Record<string, AthenaValue>;

/** A query ended FAILED or CANCELLED. The message starts with Athena's own `StateChangeReason`. */
export class QueryFailedError extends Error {
  override readonly name = 'QueryFailedError';
  constructor(
    readonly queryExecutionId: string,
    readonly state: 'FAILED' | 'CANCELLED',
    /** Athena's `Status.StateChangeReason`, if it gave one. */
    readonly reason: string | undefined,
    /** `AthenaError.ErrorCategory`: 1 system, 2 user, 3 other. */
    readonly errorCategory?: number,
    /** `AthenaError.ErrorType` (see the Athena error type reference). */
    readonly errorType?: number,
    /** `AthenaError.Retryable`: whether resubmitting might succeed. */
    readonly retryable?: boolean,
  ) {
    super(QueryFailedError.describe(queryExecutionId, state, reason, errorCategory, errorType));
  }

  private static describe(
    id: string,
    state: string,
    reason: string | undefined,
    category: number | undefined,
    type: number | undefined,
  ): string {
    const details = [`query execution ${id} ${state}`];
    if (category !== undefined) details.push(`ErrorCategory ${category}`);
    if (type !== undefined) details.push(`ErrorType ${type}`);
    const text = reason ?? (state === 'CANCELLED' ? 'Query was cancelled' : 'Query failed without a reason');
    return `${text} (${details.join(', ')})`;
  }
}

/** A query outlived its timeout; it was asked to stop. */
export class QueryTimeoutError extends Error {
  override readonly name = 'QueryTimeoutError';
  constructor(
    readonly queryExecutionId: string,
    readonly elapsedMs: number,
    /** Why StopQueryExecution failed, if it did (the query may still be running). */
    readonly stopError?: string,
  ) {
    super(
      `Athena query execution ${queryExecutionId} did not finish within ${elapsedMs} ms and was stopped` +
        (stopError === undefined ? '' : ` (StopQueryExecution failed: ${stopError})`),
    );
  }
}

const DEFAULTS = { pollInitialMs: 200, pollMaxMs: 2000, timeoutMs: 60_000 } as const;

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs Athena queries to completion: starts the query (values always as `?` execution parameters,
 * never spliced into the SQL), polls its state with exponential backoff, stops it on timeout and
 * surfaces Athena's own failure reason. Reads results page by page with typed values.
 */
export class AthenaQueryRunner {
  private readonly pollInitialMs: number;
  private readonly pollMaxMs: number;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(
    private readonly athena: AthenaClient,
    private readonly options: AthenaQueryRunnerOptions,
  ) {
    this.pollInitialMs = positive('pollInitialMs', options.pollInitialMs ?? DEFAULTS.pollInitialMs);
    this.pollMaxMs = Math.max(this.pollInitialMs, positive('pollMaxMs', options.pollMaxMs ?? DEFAULTS.pollMaxMs));
    this.timeoutMs = positive('timeoutMs', options.timeoutMs ?? DEFAULTS.timeoutMs);
    this.sleep = options.sleep ?? defaultSleep;
    this.now = options.now ?? Date.now;
  }

  /**
   * Runs one statement and waits for it. `parameters` fill the `?` placeholders of a DML statement in
   * order; each is an Athena SQL literal (a string must be quoted: use {@link sqlLiteral}).
   * @throws QueryFailedError when Athena reports FAILED or CANCELLED
   * @throws QueryTimeoutError when the query outlives the timeout (it is stopped first)
   */
  async runQuery(sql: string, parameters?: readonly string[], run: RunQueryOptions = {}): Promise<QueryRunResult> {
    const timeoutMs = positive('timeoutMs', run.timeoutMs ?? this.timeoutMs);
    const started = this.now();
    const queryExecutionId = await this.start(sql, parameters);

    let interval = this.pollInitialMs;
    for (;;) {
      const remaining = timeoutMs - (this.now() - started);
      if (remaining <= 0) throw await this.stop(queryExecutionId, this.now() - started);
      await this.sleep(Math.min(interval, remaining));
      interval = Math.min(interval * 2, this.pollMaxMs);

      const execution = (await this.athena.send(new GetQueryExecutionCommand({ QueryExecutionId: queryExecutionId })))
        .QueryExecution;
      const status = execution?.Status;
      switch (status?.State) {
        case 'SUCCEEDED':
          return {
            queryExecutionId,
            dataScannedBytes: execution?.Statistics?.DataScannedInBytes ?? 0,
            engineExecutionTimeMs: execution?.Statistics?.EngineExecutionTimeInMillis ?? 0,
          };
        case 'FAILED':
        case 'CANCELLED':
          throw failure(queryExecutionId, status.State, status);
        default:
        // QUEUED or RUNNING (a transient error can send a query back from RUNNING to QUEUED).
      }
    }
  }

  /**
   * All result rows of a finished query, following `NextToken` through every page. The header row
   * Athena puts first on the first page of a SELECT (the column names) is skipped — only there.
   */
  async fetchRows(queryExecutionId: string): Promise<AthenaRow[]> {
    const rows: AthenaRow[] = [];
    let columns: readonly ColumnInfo[] | undefined;
    let nextToken: string | undefined;
    let firstPage = true;
    do {
      const page = await this.athena.send(
        new GetQueryResultsCommand({ QueryExecutionId: queryExecutionId, NextToken: nextToken, MaxResults: 1000 }),
      );
      columns ??= page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
      const pageRows = page.ResultSet?.Rows ?? [];
      const start = firstPage && pageRows.length > 0 && isHeaderRow(pageRows[0]?.Data ?? [], columns) ? 1 : 0;
      for (const row of pageRows.slice(start)) rows.push(toRow(row.Data ?? [], columns));
      nextToken = page.NextToken;
      firstPage = false;
    } while (nextToken);
    return rows;
  }

  private async start(sql: string, parameters: readonly string[] | undefined): Promise<string> {
    const input: StartQueryExecutionCommandInput = {
      QueryString: sql,
      WorkGroup: this.options.workGroup,
    };
    if (this.options.database !== undefined || this.options.catalog !== undefined) {
      input.QueryExecutionContext = { Database: this.options.database, Catalog: this.options.catalog };
    }
    if (parameters !== undefined && parameters.length > 0) input.ExecutionParameters = [...parameters];
    const { QueryExecutionId } = await this.athena.send(new StartQueryExecutionCommand(input));
    if (!QueryExecutionId) throw new Error('Athena StartQueryExecution returned no QueryExecutionId');
    return QueryExecutionId;
  }

  private async stop(queryExecutionId: string, elapsedMs: number): Promise<QueryTimeoutError> {
    try {
      await this.athena.send(new StopQueryExecutionCommand({ QueryExecutionId: queryExecutionId }));
      return new QueryTimeoutError(queryExecutionId, elapsedMs);
    } catch (error) {
      return new QueryTimeoutError(queryExecutionId, elapsedMs, error instanceof Error ? error.message : String(error));
    }
  }
}

/**
 * An Athena SQL literal for an execution parameter: strings single-quoted with embedded quotes
 * doubled, numbers and booleans as written, `null` as NULL.
 */
export function sqlLiteral(value: string | number | bigint | boolean | null): string {
  if (value === null) return 'NULL';
  if (typeof value === 'string') return `'${value.replaceAll("'", "''")}'`;
  if (typeof value === 'number' && !Number.isFinite(value)) throw new RangeError(`Not a finite number: ${value}`);
  return String(value);
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}

function failure(id: string, state: 'FAILED' | 'CANCELLED', status: QueryExecutionStatus): QueryFailedError {
  const error = status.AthenaError;
  return new QueryFailedError(
    id,
    state,
    status.StateChangeReason ?? error?.ErrorMessage,
    error?.ErrorCategory,
    error?.ErrorType,
    error?.Retryable,
  );
}

function columnName(column: ColumnInfo, index: number): string {
  return column.Name ?? column.Label ?? `_col${index}`;
}

function isHeaderRow(data: readonly Datum[], columns: readonly ColumnInfo[]): boolean {
  return (
    columns.length > 0 &&
    data.length === columns.length &&
    columns.every((column, i) => {
      const value = data[i]?.VarCharValue;
      return value === column.Name || (column.Label !== undefined && value === column.Label);
    })
  );
}

function toRow(data: readonly Datum[], columns: readonly ColumnInfo[]): AthenaRow {
  const row: AthenaRow = {};
  columns.forEach((column, i) => {
    row[columnName(column, i)] = convertValue(data[i]?.VarCharValue, column.Type);
  });
  return row;
}

const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'integer', 'int']);
const FLOAT_TYPES = new Set(['double', 'real', 'float']);
const TIMESTAMP = /^(\d{4,}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)$/;
const TIMESTAMP_UTC = /^(\d{4,}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?) (?:UTC|Z)$/;

/**
 * Converts one value of Athena's text result by its column type (see {@link AthenaValue}). A value that
 * does not parse as its type is an error, not a silent `NaN`.
 */
export function convertValue(text: string | undefined, athenaType: string | undefined): AthenaValue {
  if (text === undefined) return null;
  const type = (athenaType ?? 'varchar').toLowerCase();
  if (INTEGER_TYPES.has(type)) {
    if (!/^-?\d+$/.test(text)) throw new TypeError(`Not an ${type}: ${JSON.stringify(text)}`);
    return Number(text);
  }
  if (type === 'bigint') {
    if (!/^-?\d+$/.test(text)) throw new TypeError(`Not a bigint: ${JSON.stringify(text)}`);
    return BigInt(text);
  }
  if (FLOAT_TYPES.has(type)) {
    const value = Number(text);
    if (Number.isNaN(value) && text !== 'NaN') throw new TypeError(`Not a ${type}: ${JSON.stringify(text)}`);
    return value;
  }
  if (type === 'boolean') {
    if (text !== 'true' && text !== 'false') throw new TypeError(`Not a boolean: ${JSON.stringify(text)}`);
    return text === 'true';
  }
  if (type === 'timestamp') {
    const match = TIMESTAMP.exec(text);
    return match ? `${match[1]}T${match[2]}Z` : text;
  }
  if (type === 'timestamp with time zone') {
    const match = TIMESTAMP_UTC.exec(text);
    return match ? `${match[1]}T${match[2]}Z` : text;
  }
  return text;
}
