import * as fs from 'node:fs';
import * as path from 'node:path';
import { stripSqlComments } from '../core/lake/sql-template';

/** Reads a SQL file of this folder (e.g. `queries/hourly_request_usage.sql`) without its comment lines. */
export function readSqlFile(relativePath: string): string {
  return stripSqlComments(fs.readFileSync(path.join(__dirname, relativePath), 'utf8'));
}

/** The usage queries `measureUsage` runs (core/usage/measure-usage.ts), read from this folder. */
export function readUsageSql(): import('../core/usage/measure-usage').UsageSql {
  return { requestGroups: readSqlFile('queries/hourly_request_groups.sql'), meterValues: readSqlFile('queries/hourly_meter_values.sql') };
}

/**
 * `queries/daily_tenant_consumption.sql`: requests and response bytes per tenant and hour or day, the
 * lake's share of tenant consumption (core/cost/lake-consumption.ts).
 */
export function readTenantConsumptionSql(): string {
  return readSqlFile('queries/daily_tenant_consumption.sql');
}

/**
 * `queries/daily_cost_lines.sql`: AWS cost lines per usage day, service, resource, tenant tag and
 * currency from the CUR 2.0 table, run on Athena by adapters/athena/athena-cost-lines.ts.
 */
export function readCostLinesSql(): string {
  return readSqlFile('queries/daily_cost_lines.sql');
}
