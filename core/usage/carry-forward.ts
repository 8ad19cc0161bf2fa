/**
 * Late data after an hour was billed. AWS Marketplace keeps the first record of a customer, dimension
 * and hour (a later one with another quantity is a `DuplicateRecord` and not billed), so a change to an
 * hour that was already sent is carried into the next hour that is sent. Over any span the billed total
 * then equals the measured total exactly, and every carried amount names the hour it came from.
 */

/** What was sent for one usage hour. */
export interface SentRecord {
  /** The quantity billed for the hour: its own measurement at the time plus what was carried in. */
  readonly quantity: number;
  /** The hour's own measurement included in that quantity. */
  readonly measured: number;
  /** Amounts carried in from earlier hours. */
  readonly carriedIn: readonly CarriedAmount[];
}

export interface CarriedAmount {
  /** The hour whose late change this is (start, epoch ms). */
  readonly fromHour: number;
  /** Can be negative when a measurement went down. */
  readonly amount: number;
}


/** One hour of a tenant's dimension, as the usage store holds it. */
export interface SeriesHour {
  readonly hour: number;
  /** The latest measured (true) quantity of the hour. */
  readonly measured: number;
  readonly sent?: SentRecord;
  /**
   * The record about to be sent (written before the call, so that a resend after a crash is the very
   * same record, which Marketplace accepts again without billing it twice).
   */
  readonly pending?: SentRecord;
}

/**
 * How much of each hour's late change has been carried into later records already (sent, or about to
 * be): the sum of the `carriedIn` amounts that name it. Derived, never stored, so a record and what it
 * settles are always written in one atomic write.
 */
export function carriedOutByHour(series: readonly SeriesHour[]): Map<number, number> {
  const carriedOut = new Map<number, number>();
  for (const h of series) {
    for (const carry of (h.sent ?? h.pending)?.carriedIn ?? []) carriedOut.set(carry.fromHour, (carriedOut.get(carry.fromHour) ?? 0) + carry.amount);
  }
  return carriedOut;
}

/** Late changes of sent hours not yet carried anywhere, oldest first. */
export function outstandingCarries(series: readonly SeriesHour[], beforeHour = Number.POSITIVE_INFINITY): CarriedAmount[] {
  const carriedOut = carriedOutByHour(series);
  return series
    .filter((h) => h.sent !== undefined && h.hour < beforeHour)
    .map((h) => ({ fromHour: h.hour, amount: h.measured - h.sent!.measured - (carriedOut.get(h.hour) ?? 0) }))
    .filter((c) => c.amount !== 0)
    .sort((a, b) => a.fromHour - b.fromHour);
}

/** The record to send for an unsent hour. */
export interface HourRecordPlan {
  readonly hour: number;
  /** The hour's own measurement. */
  readonly measured: number;
  /** Late changes of earlier sent hours included now. */
  readonly carriedIn: readonly CarriedAmount[];
  /** What to bill: measured + carried, never negative. */
  readonly quantity: number;
}

/** Most carried amounts one record settles (keeps a usage-hour item far below DynamoDB's 400 KB). */
export const MAX_CARRIES_PER_RECORD = 100;

/**
 * Plans the record of `hour`. Records of one series must be planned and sent one at a time, oldest
 * hour first (two records planned at once could both carry the same change). An hour with a pending
 * record gets that record back unchanged.
 *
 * The record holds its measurement plus every outstanding late change of an earlier sent
 * hour. Increases are carried whole. A decrease (possible only if a measurement ever went down) is
 * carried only as far as it keeps the quantity at zero or above — Marketplace charges cannot go down —
 * and the rest stays outstanding for later hours. At most {@link MAX_CARRIES_PER_RECORD} amounts are
 * settled per record; the oldest go first and the rest wait for the next hour.
 */
export function planHourRecord(series: readonly SeriesHour[], hour: number, maxCarries = MAX_CARRIES_PER_RECORD): HourRecordPlan {
  const own = series.find((h) => h.hour === hour);
  if (own === undefined) throw new Error(`no usage hour ${new Date(hour).toISOString()} in the series`);
  if (own.sent !== undefined) throw new Error(`usage hour ${new Date(hour).toISOString()} was already sent`);
  // A record that was about to be sent is sent again exactly as it was planned.
  if (own.pending !== undefined) return { hour, measured: own.pending.measured, carriedIn: own.pending.carriedIn, quantity: own.pending.quantity };
  const outstanding = outstandingCarries(series, hour).slice(0, maxCarries);
  const carriedIn: CarriedAmount[] = [];
  let quantity = own.measured;
  for (const carry of outstanding.filter((c) => c.amount > 0)) {
    carriedIn.push(carry);
    quantity += carry.amount;
  }
  for (const carry of outstanding.filter((c) => c.amount < 0)) {
    const applied = Math.max(carry.amount, -quantity);
    if (applied === 0) continue;
    carriedIn.push({ ...carry, amount: applied });
    quantity += applied;
  }
  carriedIn.sort((a, b) => a.fromHour - b.fromHour);
  return { hour, measured: own.measured, carriedIn, quantity };
}
