/**
 * Tenant consumption in AWS, built from the environment at cold start: the usage lake through Athena
 * (requests and response bytes) and the tenant metrics in the tenant-facing functions' logs through
 * CloudWatch Logs Insights (invocations, duration, DynamoDB capacity), as one source.
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { LogsInsightsConsumptionSource } from '../../adapters/cloudwatch/logs-insights-consumption';
import { CombinedConsumptionSource } from '../../core/cost/combined-consumption';
import type { ConsumptionSource } from '../../core/cost/consumption';
import { LakeConsumptionSource } from '../../core/cost/lake-consumption';
import { stripSqlComments } from '../../core/lake/sql-template';
import tenantConsumptionSql from '../../sql/queries/daily_tenant_consumption.sql';
import { athenaUsageEngine } from './billing-services';
import { requiredEnvironment } from './environment';

/** How long one Athena or Logs Insights query may run before it is stopped. */
const QUERY_TIMEOUT_MS = 300_000;

/** The tenant metrics' namespace: the same variable Powertools reads in the tenant-facing functions. */
const METRICS_NAMESPACE_ENV = 'POWERTOOLS_METRICS_NAMESPACE';

/**
 * `CONSUMPTION_LOG_GROUPS`: the log groups (names or ARNs) of the functions that write tenant
 * metrics, comma-separated; blanks around names are ignored.
 * @throws Error when it names none
 */
export function consumptionLogGroups(value: string | undefined): string[] {
  const groups = (value ?? '').split(',').map((group) => group.trim()).filter((group) => group !== '');
  if (groups.length === 0) throw new Error('CONSUMPTION_LOG_GROUPS must name at least one log group (comma-separated)');
  return groups;
}

/**
 * The consumption source of the cost functions: the lake (`ATHENA_WORKGROUP`, `USAGE_DATABASE`) and
 * the tenant metrics (`CONSUMPTION_LOG_GROUPS`, `POWERTOOLS_METRICS_NAMESPACE` — the namespace the
 * tenant-facing functions write to) combined.
 * @throws Error naming every missing variable, or a bad log group list
 */
export function consumptionSourceFromEnvironment(env: NodeJS.ProcessEnv): ConsumptionSource {
  const vars = requiredEnvironment(env, ['ATHENA_WORKGROUP', 'USAGE_DATABASE', 'CONSUMPTION_LOG_GROUPS', METRICS_NAMESPACE_ENV]);
  const lake = new LakeConsumptionSource(athenaUsageEngine(vars.ATHENA_WORKGROUP, vars.USAGE_DATABASE, QUERY_TIMEOUT_MS), stripSqlComments(tenantConsumptionSql));
  const metrics = new LogsInsightsConsumptionSource(new CloudWatchLogsClient({}), {
    logGroups: consumptionLogGroups(vars.CONSUMPTION_LOG_GROUPS),
    namespace: vars[METRICS_NAMESPACE_ENV],
    timeoutMs: QUERY_TIMEOUT_MS,
  });
  return new CombinedConsumptionSource([lake, metrics]);
}
