import { measureMeterHours, queryMeterHours } from './meter-values';
import type { MeteringConfig } from './metering-config';
import { measureRequestGroups, type Measurement } from './request-dimensions';
import { queryRequestGroups } from './request-usage-query';
import type { UsageQueryEngine } from './usage-query-engine';

/** The usage SQL files (`sql/queries/`), as text. */
export interface UsageSql {
  /** `hourly_request_groups.sql`: distinct requests per tenant, hour, path, method and status. */
  readonly requestGroups: string;
  /** `hourly_meter_values.sql`: every meter aggregate per tenant, meter and hour, over distinct events. */
  readonly meterValues: string;
}

/** What one measurement of a range found. */
export interface UsageMeasurement {
  readonly measurements: Measurement[];
  /** Bytes the engine read, where it reports them. */
  readonly bytesScanned?: number;
  /** Tenant-meter-hours of meters no longer configured: left out. */
  readonly unconfiguredMeterHours: number;
}

/**
 * The true usage of [start, end) (whole hours): one measurement per tenant, billing dimension and
 * hour, from the lake through the engine (Athena or DuckDB), following the metering configuration —
 * request dimensions from the access logs, meters from the usage events (not queried when no meter is
 * configured).
 */
export async function measureUsage(
  engine: UsageQueryEngine,
  config: MeteringConfig,
  sql: UsageSql,
  range: { readonly start: number; readonly end: number },
): Promise<UsageMeasurement> {
  const requests = await queryRequestGroups(engine, sql.requestGroups, range);
  const measurements = measureRequestGroups(requests.groups, config.dimensions);
  let bytesScanned = requests.bytesScanned;
  let unconfiguredMeterHours = 0;
  if (config.meters.length > 0) {
    const meters = await queryMeterHours(engine, sql.meterValues, range);
    const measured = measureMeterHours(meters.hours, config.meters);
    measurements.push(...measured.measurements);
    unconfiguredMeterHours = measured.unconfigured;
    if (meters.bytesScanned !== undefined) bytesScanned = (bytesScanned ?? 0) + meters.bytesScanned;
  }
  return { measurements, bytesScanned, unconfiguredMeterHours };
}
