import { scaledUnits } from '../usage-events/decimal-quantity';
import { parseSqlTimestamp, sqlTimestamp } from './hours';
import type { MeterConfig } from './metering-config';
import type { Measurement } from './request-dimensions';
import { integerValue, textValue, type UsageQueryEngine } from './usage-query-engine';

/** Every aggregate of one tenant's meter in one hour, over its distinct events. */
export interface MeterHour {
  readonly tenantId: string;
  readonly meter: string;
  /** Start of the usage hour, epoch ms. */
  readonly hour: number;
  readonly events: number;
  /** Exact decimal text. */
  readonly sum: string;
  readonly max: string;
  readonly latest: string;
  readonly uniqueValues: number;
}

/** Runs the hourly meter-values SQL for [start, end) and returns typed rows. */
export async function queryMeterHours(
  engine: UsageQueryEngine,
  sql: string,
  range: { start: number; end: number },
): Promise<{ hours: MeterHour[]; bytesScanned?: number }> {
  const result = await engine.query({ sql, parameters: [sqlTimestamp(range.start), sqlTimestamp(range.end)], timeRange: range });
  const hours = result.rows.map((row) => ({
    tenantId: textValue(row.tenant_id, 'tenant_id'),
    meter: textValue(row.meter, 'meter'),
    hour: parseSqlTimestamp(textValue(row.usage_hour, 'usage_hour')),
    events: integerValue(row.events, 'events'),
    sum: textValue(row.quantity_sum, 'quantity_sum'),
    max: textValue(row.quantity_max, 'quantity_max'),
    latest: textValue(row.quantity_latest, 'quantity_latest'),
    uniqueValues: integerValue(row.unique_values, 'unique_values'),
  }));
  return { hours, bytesScanned: result.bytesScanned };
}

/** The hourly quantity a meter bills, in its units (10^-decimals of the reported quantity). */
export function meterQuantity(meter: MeterConfig, hour: MeterHour): number {
  let units: bigint;
  switch (meter.aggregation) {
    case 'COUNT':
      return hour.events;
    case 'UNIQUE_COUNT':
      return hour.uniqueValues;
    case 'SUM':
      units = scaledUnits(hour.sum, meter.decimals);
      break;
    case 'MAX':
      units = scaledUnits(hour.max, meter.decimals);
      break;
    case 'LATEST':
      units = scaledUnits(hour.latest, meter.decimals);
      break;
  }
  if (units > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`meter ${meter.name} of ${hour.tenantId}: ${units} units in one hour is beyond exact integers`);
  return Number(units);
}

/**
 * Measurements of the configured meters. Rows of a meter no longer configured are left out and
 * counted in `unconfigured` (their events were accepted when the meter existed).
 */
export function measureMeterHours(hours: readonly MeterHour[], meters: readonly MeterConfig[]): { measurements: Measurement[]; unconfigured: number } {
  const byName = new Map(meters.map((m) => [m.name, m]));
  const measurements: Measurement[] = [];
  let unconfigured = 0;
  for (const hour of hours) {
    const meter = byName.get(hour.meter);
    if (meter === undefined) {
      unconfigured += 1;
      continue;
    }
    measurements.push({ tenantId: hour.tenantId, dimension: meter.name, hour: hour.hour, quantity: meterQuantity(meter, hour) });
  }
  return { measurements, unconfigured };
}
