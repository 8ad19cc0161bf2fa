/**
 * Consumption comes from several places — the usage lake (requests, bytes) and the tenant metrics the
 * functions write as EMF (invocations, duration, DynamoDB capacity) — but whoever allocates cost or
 * exports telemetry wants one source. This module composes sources into one, and holds the rules
 * every source applies to the range it is asked for: whole hours for HOURLY, whole UTC days for
 * DAILY, each record starting at the hour or day it covers.
 */
import type { ConsumptionRecord, ConsumptionSource, Granularity } from './consumption';

/** Length of the period each granularity covers, in milliseconds. */
export const GRANULARITY_MS: Readonly<Record<Granularity, number>> = { HOURLY: 3_600_000, DAILY: 86_400_000 };

/** A source was asked for a range it cannot read (not whole periods, empty, not epoch milliseconds). */
export class ConsumptionRangeError extends RangeError {
  override readonly name = 'ConsumptionRangeError';
}

/** Two sources reported the same tenant, stream and period: they measure the same thing twice. */
export class ConsumptionOverlapError extends Error {
  override readonly name = 'ConsumptionOverlapError';
}

/** The range a consumption source reads, [start, end) in epoch milliseconds. */
export interface ConsumptionRange {
  readonly start: number;
  readonly end: number;
}

/**
 * Checks a range before a source reads it: integer epoch milliseconds, `start < end`, both on period
 * boundaries of the granularity (UTC hours or UTC days).
 * @throws ConsumptionRangeError naming what is wrong
 */
export function checkConsumptionRange(range: ConsumptionRange, granularity: Granularity): void {
  const period = GRANULARITY_MS[granularity];
  if (period === undefined) throw new ConsumptionRangeError(`unknown granularity ${JSON.stringify(granularity)} (expected HOURLY or DAILY)`);
  for (const bound of ['start', 'end'] as const) {
    const value = range[bound];
    if (!Number.isSafeInteger(value) || value < 0) throw new ConsumptionRangeError(`range ${bound} must be epoch milliseconds, got ${String(value)}`);
    if (value % period !== 0) {
      throw new ConsumptionRangeError(`range ${bound} ${new Date(value).toISOString()} is not the start of a UTC ${granularity === 'HOURLY' ? 'hour' : 'day'}`);
    }
  }
  if (range.start >= range.end) throw new ConsumptionRangeError(`range start ${new Date(range.start).toISOString()} must be before its end ${new Date(range.end).toISOString()}`);
}

/** Start of the UTC hour or day (by granularity) that contains `millis`. */
export function periodStart(millis: number, granularity: Granularity): number {
  const period = GRANULARITY_MS[granularity];
  return Math.floor(millis / period) * period;
}

/** Orders records by period start, then tenant, then stream (every source returns them this way). */
export function compareConsumptionRecords(a: ConsumptionRecord, b: ConsumptionRecord): number {
  if (a.start !== b.start) return a.start - b.start;
  if (a.tenantId !== b.tenantId) return a.tenantId < b.tenantId ? -1 : 1;
  if (a.stream !== b.stream) return a.stream < b.stream ? -1 : 1;
  return 0;
}

const recordKey = (r: ConsumptionRecord) => JSON.stringify([r.tenantId, r.stream, r.granularity, r.start]);

/**
 * One source over several: reads every source for the same range (concurrently) and returns their
 * records together, ordered. Each stream has exactly one source (the lake measures requests and
 * bytes, the tenant metrics invocations, duration and capacity), so a tenant, stream and period
 * reported by two sources is a configuration error, not something to add up silently.
 */
export class CombinedConsumptionSource implements ConsumptionSource {
  constructor(private readonly sources: readonly ConsumptionSource[]) {}

  /**
   * @throws ConsumptionRangeError for a range no source can read
   * @throws ConsumptionOverlapError when two sources report the same tenant, stream and period
   */
  async read(range: ConsumptionRange, granularity: Granularity): Promise<ConsumptionRecord[]> {
    checkConsumptionRange(range, granularity);
    const parts = await Promise.all(this.sources.map((source) => source.read(range, granularity)));
    const seen = new Map<string, number>();
    parts.forEach((records, index) => {
      for (const record of records) {
        const key = recordKey(record);
        const other = seen.get(key);
        if (other !== undefined && other !== index) {
          throw new ConsumptionOverlapError(
            `sources ${other} and ${index} both report ${record.stream} of tenant ${JSON.stringify(record.tenantId)} for ${new Date(record.start).toISOString()}`,
          );
        }
        seen.set(key, index);
      }
    });
    return parts.flat().sort(compareConsumptionRecords);
  }
}
