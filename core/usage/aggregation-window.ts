import { HOUR_MS, hourStart } from './hours';

export interface AggregationWindowInput {
  readonly nowMillis: number;
  /** Seconds after an hour ends before its data is complete: Firehose buffering plus a grace period. */
  readonly watermarkDelaySeconds: number;
  /** Recent hours re-aggregated on every run, for late arrivals. */
  readonly lookBackHours: number;
  /** Most hours read by one run. */
  readonly maxHoursPerRun: number;
  /** The last hour every earlier hour of which has been aggregated, if any run completed before. */
  readonly lastCompleteHour?: number;
}

export interface AggregationWindow {
  /** First hour to aggregate (start, epoch ms). */
  readonly firstHour: number;
  /** Last hour to aggregate (start, epoch ms), included. */
  readonly lastHour: number;
}

/**
 * The hours a scheduled run aggregates: every closed hour whose watermark (hour end + delay) has
 * passed and that no run completed yet, plus the look-back window of recent hours for late data —
 * oldest first, at most `maxHoursPerRun`. (With a look-back of at least one hour there is always a
 * window; undefined only guards a look-back of zero.)
 */
export function planAggregationWindow(input: AggregationWindowInput): AggregationWindow | undefined {
  const lastReady = hourStart(input.nowMillis - input.watermarkDelaySeconds * 1000 - HOUR_MS);
  const lookBackStart = lastReady - (input.lookBackHours - 1) * HOUR_MS;
  const afterCursor = input.lastCompleteHour === undefined ? lookBackStart : input.lastCompleteHour + HOUR_MS;
  const firstHour = Math.min(afterCursor, lookBackStart);
  if (firstHour > lastReady) return undefined;
  const lastHour = Math.min(lastReady, firstHour + (input.maxHoursPerRun - 1) * HOUR_MS);
  return { firstHour, lastHour };
}
