import { planAggregationWindow, type AggregationWindow } from './aggregation-window';
import { HOUR_MS, hourKey, hoursFrom } from './hours';
import type { MeteringConfig } from './metering-config';
import { measureUsage, type UsageSql } from './measure-usage';
import type { Measurement } from './request-dimensions';
import type { UsageQueryEngine } from './usage-query-engine';
import type { RecordOutcome, UsageStore } from './usage-store';
import { forEachLimited } from '../concurrency';

export interface AggregationDependencies {
  readonly engine: UsageQueryEngine;
  readonly store: UsageStore;
  readonly config: MeteringConfig;
  /** The usage SQL (`sql/queries/`). */
  readonly sql: UsageSql;
  /** Seconds Firehose may still be holding a request after its hour ends (buffering of the stream and of the transform). */
  readonly ingestionDelaySeconds: number;
  readonly now?: () => number;
  /** Usage-hour writes in flight at once. @default 16 */
  readonly writeConcurrency?: number;
  /** Hours read by one query; a longer window is done chunk by chunk, oldest first. @default 24 */
  readonly hoursPerQuery?: number;
}

export interface AggregationReport {
  readonly firstHour: string;
  readonly lastHour: string;
  /** Start of the run: what "as of" its measurements are. */
  readonly asOf: number;
  readonly engine: string;
  readonly bytesScanned?: number;
  readonly measurements: number;
  readonly outcomes: Readonly<Record<RecordOutcome, number>>;
}

/**
 * Aggregates the hours of `window` (both ends included) from the lake into the usage store: one query
 * per chunk of `hoursPerQuery` hours, then, hour by hour, a conditional write per tenant and dimension and, once all
 * of an hour's writes succeeded, the hour's "aggregated" mark. A query failure writes nothing; a write
 * failure leaves that hour unmarked — either way the next run does the hour again, and since every
 * write is conditional, doing an hour twice (or in two concurrent runs) changes nothing.
 */
export async function aggregateWindow(deps: AggregationDependencies, window: AggregationWindow, options: { readonly markAggregatedThrough?: number } = {}): Promise<AggregationReport> {
  // Hours after `markAggregatedThrough` (e.g. the open hour a final-usage run measures) are measured
  // but not marked aggregated: a later scheduled run completes them.
  const markThrough = options.markAggregatedThrough ?? window.lastHour;
  const now = deps.now ?? Date.now;
  const asOf = now();
  const outcomes: Record<RecordOutcome, number> = { created: 0, updated: 0, unchanged: 0, stale: 0 };
  let measurementCount = 0;
  let bytesScanned: number | undefined;
  const chunkHours = deps.hoursPerQuery ?? 24;
  // Chunk by chunk, so memory stays bounded and the hours already done stay done if a later chunk fails.
  for (let chunkStart = window.firstHour; chunkStart <= window.lastHour; chunkStart += chunkHours * HOUR_MS) {
    const chunkEnd = Math.min(window.lastHour, chunkStart + (chunkHours - 1) * HOUR_MS);
    const result = await measureUsage(deps.engine, deps.config, deps.sql, { start: chunkStart, end: chunkEnd + HOUR_MS });
    if (result.bytesScanned !== undefined) bytesScanned = (bytesScanned ?? 0) + result.bytesScanned;
    const { measurements } = result;
    measurementCount += measurements.length;
    const byHour = new Map<number, Measurement[]>();
    for (const m of measurements) {
      const list = byHour.get(m.hour) ?? [];
      list.push(m);
      byHour.set(m.hour, list);
    }
    for (const hour of hoursFrom(chunkStart, chunkEnd)) {
      const hourMeasurements = byHour.get(hour) ?? [];
      await forEachLimited(hourMeasurements, deps.writeConcurrency ?? 16, async (m) => {
        outcomes[await deps.store.recordMeasurement(m, asOf, now())] += 1;
      });
      if (hour <= markThrough) await deps.store.markHourAggregated(hour, asOf, hourMeasurements.length);
    }
  }
  return {
    firstHour: hourKey(window.firstHour),
    lastHour: hourKey(window.lastHour),
    asOf,
    engine: deps.engine.name,
    bytesScanned,
    measurements: measurementCount,
    outcomes,
  };
}

/**
 * The scheduled run: every closed hour past its watermark (hour end + ingestion delay + grace) that
 * no run has completed, plus the look-back window of recent hours for late data. Advances the
 * "last complete hour" cursor once every hour up to it is done. Undefined when no hour is ready.
 */
export async function runScheduledAggregation(deps: AggregationDependencies): Promise<AggregationReport | undefined> {
  const now = deps.now ?? Date.now;
  const lastCompleteHour = await deps.store.lastCompleteHour();
  const { graceSeconds, lookBackHours, maxHoursPerRun } = deps.config.aggregation;
  const window = planAggregationWindow({
    nowMillis: now(),
    watermarkDelaySeconds: deps.ingestionDelaySeconds + graceSeconds,
    lookBackHours,
    maxHoursPerRun,
    lastCompleteHour,
  });
  if (window === undefined) return undefined;
  // The very first run records where aggregation starts, so that hours it fails on are not forgotten.
  if (lastCompleteHour === undefined) await deps.store.initializeLastCompleteHour(window.firstHour - HOUR_MS);
  const report = await aggregateWindow(deps, window);
  await deps.store.advanceLastCompleteHour(window.lastHour);
  return report;
}
