import type { UsageQuery, UsageQueryEngine, UsageQueryResult } from '../../core/usage/usage-query-engine';
import { sqlLiteral, type AthenaQueryRunner } from './athena-query-runner';

/**
 * Runs usage SQL on Athena in the lake's workgroup. Parameters go as execution parameters (Athena
 * substitutes each as a SQL literal, so they are quoted here), never into the SQL text.
 */
export class AthenaUsageEngine implements UsageQueryEngine {
  readonly name = 'athena' as const;

  constructor(private readonly runner: AthenaQueryRunner) {}

  async query(query: UsageQuery): Promise<UsageQueryResult> {
    const execution = await this.runner.runQuery(query.sql, query.parameters.map((value) => sqlLiteral(value)));
    const rows = await this.runner.fetchRows(execution.queryExecutionId);
    return { rows, bytesScanned: execution.dataScannedBytes };
  }
}
