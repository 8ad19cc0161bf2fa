import type { HourRecordPlan, SeriesHour } from './carry-forward';
import type { Measurement } from './request-dimensions';

/** What recording a measurement did. */
export type RecordOutcome =
  /** First measurement of that tenant, dimension and hour. */
  | 'created'
  /** The quantity changed (late data). */
  | 'updated'
  /** Same quantity as stored: nothing written. */
  | 'unchanged'
  /** A run that started later already recorded this hour: nothing written. */
  | 'stale';

/**
 * The record could not be written pending because the hour changed since it was planned: it was sent
 * meanwhile, or re-measured (plan it again). Expected under concurrency; any other error is a failure.
 */
export class PlanOutdatedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanOutdatedError';
  }
}

/** One tenant's dimension. */
export interface SeriesKey {
  readonly tenantId: string;
  readonly dimension: string;
}

/** A usage hour as stored, with its series. */
export interface StoredUsageHour extends SeriesHour, SeriesKey {}

/**
 * Where usage hours live (DynamoDB in AWS, a DynamoDB-compatible local server otherwise). Every write
 * is conditional, so re-running or concurrent runs cannot double-count or go backwards.
 */
export interface UsageStore {
  /**
   * Records the true quantity of a tenant, dimension and hour as measured by a run that started at
   * `asOf`. Writes only when the quantity differs and no later-started run has written the hour.
   */
  recordMeasurement(measurement: Measurement, asOf: number, computedAt: number): Promise<RecordOutcome>;
  /** Marks an hour as completely aggregated by the run that started at `asOf` (monotonic). */
  markHourAggregated(hour: number, asOf: number, series: number): Promise<void>;
  /** When the hour was last completely aggregated (the run's start), if ever. */
  hourAggregatedAsOf(hour: number): Promise<number | undefined>;
  /** The last hour such that it and every earlier hour have been aggregated, if any. */
  lastCompleteHour(): Promise<number | undefined>;
  /** Sets {@link lastCompleteHour} if it was never set (the first run starts the record). */
  initializeLastCompleteHour(hour: number): Promise<void>;
  /** Moves {@link lastCompleteHour} forward (never back). */
  advanceLastCompleteHour(hour: number): Promise<void>;
  /** One stored hour of a series (a consistent read), if it exists. */
  readUsageHour(series: SeriesKey, hour: number): Promise<StoredUsageHour | undefined>;
  /** Every stored hour of a series, oldest first. */
  readSeries(series: SeriesKey): Promise<StoredUsageHour[]>;
  /**
   * The series' carry marker: a counter of late changes to already-sent hours, present while some may
   * be unsettled. Without it, an hour's record is its own measurement and the history need not be read.
   */
  carryMarker(series: SeriesKey): Promise<number | undefined>;
  /** Removes the carry marker if no change was recorded since it read `counter`. */
  clearCarryMarker(series: SeriesKey, counter: number): Promise<void>;
  /** Usage hours of one hour not yet sent, of every series. */
  unsentHours(hour: number): Promise<StoredUsageHour[]>;
  /**
   * Records the plan of an hour's record before it is sent (one conditional write: the hour is not
   * sent, has no pending record, and still has the measurement the plan was made from). Returns the
   * pending record in force: the one just written, or the one an earlier, interrupted send left.
   * @throws PlanOutdatedError when the hour was sent or re-measured since the plan was made
   */
  recordPendingSend(series: SeriesKey, plan: HourRecordPlan, at: number): Promise<HourRecordPlan>;
  /**
   * Marks an hour as sent with its pending record (one atomic conditional write; fails without writing
   * unless exactly that record is pending). Later changes of the hour become carries.
   */
  markSent(series: SeriesKey, plan: HourRecordPlan, sentAt: number): Promise<void>;
  /** Drops a pending record Marketplace certainly did not bill (the call was refused), so it can be planned again. */
  clearPending(series: SeriesKey, plan: HourRecordPlan): Promise<void>;
  /**
   * Closes an hour that can no longer be sent (Marketplace refuses records older than a few hours): it
   * is recorded as sent with nothing of its own, so its whole measurement is carried into the next
   * record. A pending record is taken as sent — it may have been billed, and nothing is billed twice.
   */
  closeUnsendable(series: SeriesKey, hour: number, at: number): Promise<void>;
}
