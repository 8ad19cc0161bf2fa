import { measureRequestGroups, type Measurement } from './request-dimensions';
import { queryRequestGroups } from './request-usage-query';
import type { MeteringConfig } from './metering-config';
import type { UsageQueryEngine } from './usage-query-engine';

/** The usage SQL files (`sql/queries/`), as text. */
export interface UsageSql {
  /** `hourly_request_groups.sql`: distinct requests per tenant, hour, path, method and status. */
  readonly requestGroups: string;
}

/**
 * The true usage of [start, end) (whole hours): one measurement per tenant, billing dimension and
 * hour, from the lake through the engine (Athena or DuckDB), following the metering configuration.
 */
export async function measureUsage(
  engine: UsageQueryEngine,
  config: MeteringConfig,
  sql: UsageSql,
  range: { readonly start: number; readonly end: number },
): Promise<{ measurements: Measurement[]; bytesScanned?: number }> {
  const requests = await queryRequestGroups(engine, sql.requestGroups, range);
  return { measurements: measureRequestGroups(requests.groups, config.dimensions), bytesScanned: requests.bytesScanned };
}
