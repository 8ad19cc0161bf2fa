/** A row of a query result, keyed by column name. */
export type QueryRow = Readonly<Record<string, unknown>>;

export interface UsageQuery {
  /** SQL from `sql/queries/`, with positional `?` parameters. */
  readonly sql: string;
  /** Parameter values, as text (each engine binds them its own way; never spliced into the SQL). */
  readonly parameters: readonly string[];
  /**
   * The request-time range the query's own bounds select, [start, end) in epoch ms. Engines without
   * Iceberg hidden partitioning (DuckDB over Parquet) use it to open only those hours' files.
   */
  readonly timeRange: { readonly start: number; readonly end: number };
}

export interface UsageQueryResult {
  readonly rows: readonly QueryRow[];
  /** Bytes the engine read, where it reports them (Athena bills by them). */
  readonly bytesScanned?: number;
}

/** Where usage SQL runs: Athena in AWS, embedded DuckDB locally. The same SQL goes to both. */
export interface UsageQueryEngine {
  readonly name: 'athena' | 'duckdb';
  query(query: UsageQuery): Promise<UsageQueryResult>;
}

/** Reads an integer column value (number, bigint or decimal text) exactly; throws otherwise. */
export function integerValue(value: unknown, column: string): number {
  const number = typeof value === 'bigint' ? Number(value) : typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number)) {
    throw new Error(`column ${column}: expected an exact integer, got ${typeof value === 'bigint' ? `${value}n` : JSON.stringify(value)}`);
  }
  return number;
}

/** Reads a text column value; throws when it is missing. */
export function textValue(value: unknown, column: string): string {
  if (typeof value !== 'string') throw new Error(`column ${column}: expected text, got ${JSON.stringify(value)}`);
  return value;
}
