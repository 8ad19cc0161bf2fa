import { Logger } from '@aws-lambda-powertools/logger';
import { AthenaClient } from '@aws-sdk/client-athena';
import type { Context } from 'aws-lambda';
import { AthenaQueryRunner } from '../../adapters/athena/athena-query-runner';
import { DEFAULT_TERRAFORM_KEY, parseDdlRequest, planDdl, type DdlAction } from '../../core/lake/ddl-plan';

/** What the function returns (Terraform keeps it as the invocation's `result`). */
export interface DdlRunnerResult {
  readonly action: DdlAction;
  /** How many statements ran. */
  readonly statements: number;
  readonly queryExecutionIds: readonly string[];
  readonly warnings: readonly string[];
}

/** What the handler needs; injectable for tests. */
export interface DdlRunnerDependencies {
  readonly athena: AthenaClient;
  readonly logger: Logger;
  /** @default the runner's (setTimeout) */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Date.now */
  readonly now?: () => number;
  /** Longest a single statement may run. @default 60000 */
  readonly statementTimeoutMs?: number;
}

/** Time kept back from the Lambda timeout so that a slow statement is stopped and reported, not cut off. */
export const TIMEOUT_MARGIN_MS = 5000;
const DEFAULT_STATEMENT_TIMEOUT_MS = 60_000;
const MIN_STATEMENT_TIMEOUT_MS = 1000;

/**
 * Builds the handler: validates the input, plans the DDL (see `core/lake/ddl-plan`) and runs each
 * statement in order in the input's workgroup. Any failure is thrown with Athena's own message, so
 * that `terraform apply` fails with it.
 */
export function createHandler(deps: DdlRunnerDependencies) {
  const { logger } = deps;
  return async function handler(event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<DdlRunnerResult> {
    const request = parseDdlRequest(event, DEFAULT_TERRAFORM_KEY);
    const plan = planDdl(request);
    const table = `${request.spec.database}.${request.spec.table}`;
    logger.info('DDL plan', { action: plan.action, table, statements: plan.statements.length });
    for (const warning of plan.warnings) logger.warn(warning, { table });

    const runner = new AthenaQueryRunner(deps.athena, {
      workGroup: request.spec.workGroup,
      database: request.spec.database,
      sleep: deps.sleep,
      now: deps.now,
    });
    const queryExecutionIds: string[] = [];
    for (const [index, sql] of plan.statements.entries()) {
      const step = `${index + 1}/${plan.statements.length}`;
      try {
        const result = await runner.runQuery(sql, undefined, { timeoutMs: statementTimeout(deps, context) });
        queryExecutionIds.push(result.queryExecutionId);
        logger.info('DDL statement succeeded', {
          table,
          step,
          queryExecutionId: result.queryExecutionId,
          engineExecutionTimeMs: result.engineExecutionTimeMs,
        });
      } catch (error) {
        logger.error('DDL statement failed', { table, step, sql, error: error as Error });
        throw error;
      }
    }
    return { action: plan.action, statements: plan.statements.length, queryExecutionIds, warnings: plan.warnings };
  };
}

function statementTimeout(
  deps: DdlRunnerDependencies,
  context: Pick<Context, 'getRemainingTimeInMillis'> | undefined,
): number {
  const limit = deps.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  if (typeof context?.getRemainingTimeInMillis !== 'function') return limit;
  return Math.max(MIN_STATEMENT_TIMEOUT_MS, Math.min(limit, context.getRemainingTimeInMillis() - TIMEOUT_MARGIN_MS));
}

const athena = new AthenaClient({});
const logger = new Logger({ serviceName: 'ddl-runner' });

/**
 * Runs the Athena DDL of one Iceberg table for Terraform's `aws_lambda_invocation` with
 * `lifecycle_scope = "CRUD"`: creates the table, appends declared columns, and on destroy drops it
 * only when `dropOnDestroy` is true. Input: `{ database, workGroup, table, create, columns,
 * dropOnDestroy }` plus the provider's `tf` key (`action`, `prev_input`); the resource must keep the
 * default `terraform_key`. A thrown error becomes the function error that fails `terraform apply`.
 * https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/lambda_invocation
 */
export const handler = createHandler({ athena, logger });
