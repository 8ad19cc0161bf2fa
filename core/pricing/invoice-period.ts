import type { Period } from './periods';

/**
 * The billing period an invoice is asked for, written `YYYY-MM`: one calendar month in UTC.
 */

/** A calendar month in UTC as a half-open interval `[start, end)` of epoch ms, with its `YYYY-MM` name. */
export interface BillingMonth extends Period {
  /** `2026-11`. */
  readonly month: string;
}

/** A period text that is not a `YYYY-MM` month; the message says what is wrong and what to write. */
export class InvalidPeriodError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPeriodError';
  }
}

/** Earliest and latest years accepted: epoch ms start in 1970, and four-digit years. */
const FIRST_YEAR = 1970;
const LAST_YEAR = 9999;

const MONTH_TEXT = /^(\d{4})-(\d{2})$/;

/**
 * The UTC calendar month named `YYYY-MM` (`2026-11` → [2026-11-01T00:00Z, 2026-12-01T00:00Z)).
 * Throws {@link InvalidPeriodError} for any other text: another shape (`2026-1`, `2026/11`,
 * `2026-11-05`), month 00 or 13+, or a year outside 1970-9999.
 */
export function parseBillingMonth(text: string): BillingMonth {
  const trimmed = text.trim();
  const shown = JSON.stringify(text);
  const match = MONTH_TEXT.exec(trimmed);
  if (match === null) throw new InvalidPeriodError(`${shown} is not a month: write YYYY-MM, a calendar month in UTC such as 2026-11`);
  const year = Number(match[1]);
  const month = Number(match[2]);
  if (month < 1 || month > 12) throw new InvalidPeriodError(`${shown} is not a month: the month must be 01 to 12`);
  if (year < FIRST_YEAR || year > LAST_YEAR) throw new InvalidPeriodError(`${shown} is out of range: the year must be ${FIRST_YEAR} to ${LAST_YEAR}`);
  return { month: trimmed, start: Date.UTC(year, month - 1, 1), end: Date.UTC(year, month, 1) };
}

/** The `YYYY-MM` name of the UTC month `ms` falls in. */
export function monthNameOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}
