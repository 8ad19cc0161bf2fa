import type { UsageQuery, UsageQueryEngine, UsageQueryResult } from '../../core/usage/usage-query-engine';
import type { DuckDbLake } from './duckdb-lake';

/** Runs usage SQL on the local Parquet lake with embedded DuckDB, opening only the hours asked for. */
export class DuckDbUsageEngine implements UsageQueryEngine {
  readonly name = 'duckdb' as const;

  constructor(private readonly lake: DuckDbLake) {}

  async query(query: UsageQuery): Promise<UsageQueryResult> {
    return { rows: await this.lake.query(query.sql, query.parameters, query.timeRange) };
  }
}
