import { fraction, type Fraction } from './money';

/**
 * Billing periods: calendar months in UTC, as half-open intervals `[start, end)` in epoch ms.
 */

/** A half-open interval `[start, end)` of epoch milliseconds. */
export interface Period {
  readonly start: number;
  readonly end: number;
}

/** When a subscription ran: `start` inclusive, `end` exclusive; a missing bound is unbounded. */
export interface SubscriptionSpan {
  readonly start?: number;
  readonly end?: number;
}

/** The UTC calendar month containing `ms`: from its first instant to the first instant of the next. */
export function monthOf(ms: number): Period {
  if (!Number.isFinite(ms)) throw new RangeError(`not a time: ${ms}`);
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  return { start: Date.UTC(year, month, 1), end: Date.UTC(year, month + 1, 1) };
}

/** Throws unless `period` is a non-empty interval of integer epoch ms. */
export function assertPeriod(period: Period): void {
  if (!Number.isSafeInteger(period.start) || !Number.isSafeInteger(period.end) || period.start >= period.end) {
    throw new RangeError(`invalid period [${period.start}, ${period.end})`);
  }
}

/**
 * The exact share of `period` the subscription covered, in lowest terms: covered ms over period
 * ms, from 0/1 (no overlap) to 1/1 (the whole period).
 */
export function coveredFraction(period: Period, subscription: SubscriptionSpan): Fraction {
  assertPeriod(period);
  const start = Math.max(period.start, subscription.start ?? period.start);
  const end = Math.min(period.end, subscription.end ?? period.end);
  const covered = Math.max(0, end - start);
  return fraction(BigInt(covered), BigInt(period.end - period.start));
}
