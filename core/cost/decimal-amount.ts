/**
 * Exact decimal amounts for cost allocation. AWS cost lines carry up to about ten fraction digits and
 * consumption figures up to six (half capacity units, byte counts); both arrive as decimal text and are
 * held as `bigint` units of 10^-scale, so sums and splits never pass through floating point.
 *
 * Rounding ({@link roundDiv}, {@link rescale}) is half up on the magnitude — "half away from zero":
 * 0.005 → 0.01 and -0.005 → -0.01 — so a credit rounds exactly like the charge it cancels.
 */

/** Scale of cost amounts (CUR `line_item_unblended_cost` has up to ~10 fraction digits; 12 leaves headroom). */
export const COST_AMOUNT_SCALE = 12;

/** Scale of consumption values (see `ConsumptionRecord.value`: at most 6 fraction digits). */
export const CONSUMPTION_VALUE_SCALE = 6;

/** Decimal text that is not a number this module accepts; the message says what is wrong with it. */
export class DecimalAmountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecimalAmountError';
  }
}

/** Longer text is refused before any parsing: no real amount comes near it. */
const MAX_TEXT_LENGTH = 64;

const DECIMAL = /^(-?)([0-9]+)(?:\.([0-9]+))?$/;

/** Options of {@link parseDecimal}. */
export interface ParseDecimalOptions {
  /** Whether a leading `-` is accepted (default false). */
  readonly allowNegative?: boolean;
}

/**
 * Plain decimal text (`"12"`, `"0.0000166667"`, `"-1.5"`) → integer units of 10^-`scale`. Refuses,
 * with a {@link DecimalAmountError} naming the problem, anything else: exponents, `+`, blanks, a bare
 * `.`, a negative value unless allowed, and more fraction digits than `scale` (never rounded away).
 */
export function parseDecimal(text: unknown, scale: number, options: ParseDecimalOptions = {}): bigint {
  assertScale(scale);
  if (typeof text !== 'string') throw new DecimalAmountError(`must be decimal text (a string), got ${describe(text)}`);
  if (text.length > MAX_TEXT_LENGTH) throw new DecimalAmountError(`is too long (${text.length} characters, at most ${MAX_TEXT_LENGTH})`);
  const match = DECIMAL.exec(text);
  if (match === null) throw new DecimalAmountError(`must be plain decimal text like "12.34", got ${JSON.stringify(text)}`);
  const [, sign, whole, fraction = ''] = match;
  if (fraction.replace(/0+$/, '').length > scale) {
    throw new DecimalAmountError(`has more than ${scale} fraction digits: ${JSON.stringify(text)}`);
  }
  const units = BigInt(whole + fraction.padEnd(scale, '0').slice(0, scale));
  if (sign === '-' && units !== 0n && !options.allowNegative) throw new DecimalAmountError(`must not be negative, got ${JSON.stringify(text)}`);
  return sign === '-' ? -units : units;
}

/**
 * Units of 10^-`scale` → decimal text with at least `minFractionDigits` fraction digits (default
 * `scale`: every digit) and trailing zeros beyond that dropped: `formatDecimal(1234n, 2)` is `"12.34"`,
 * `formatDecimal(1200000n, 6, 2)` is `"1.20"`.
 */
export function formatDecimal(units: bigint, scale: number, minFractionDigits: number = scale): string {
  assertScale(scale);
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  let fraction = digits.slice(digits.length - scale);
  const keep = Math.max(0, Math.min(scale, minFractionDigits));
  while (fraction.length > keep && fraction.endsWith('0')) fraction = fraction.slice(0, -1);
  return `${negative ? '-' : ''}${whole}${fraction === '' ? '' : `.${fraction}`}`;
}

/** `numerator / denominator` rounded to an integer, halves away from zero (`denominator` > 0). */
export function roundDiv(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new RangeError('roundDiv takes a positive denominator');
  const magnitude = (2n * (numerator < 0n ? -numerator : numerator) + denominator) / (2n * denominator);
  return numerator < 0n ? -magnitude : magnitude;
}

/** Units of 10^-`from` → units of 10^-`to`, exact when `to` ≥ `from`, else rounded half away from zero. */
export function rescale(units: bigint, from: number, to: number): bigint {
  assertScale(from);
  assertScale(to);
  return to >= from ? units * 10n ** BigInt(to - from) : roundDiv(units, 10n ** BigInt(from - to));
}

function assertScale(scale: number): void {
  if (!Number.isInteger(scale) || scale < 0 || scale > 100) throw new RangeError(`scale must be an integer from 0 to 100, got ${scale}`);
}

function describe(value: unknown): string {
  if (typeof value === 'number') return `the number ${value} (write it as a string to keep it exact)`;
  if (value === null) return 'null';
  return typeof value;
}
