/**
 * Exact money arithmetic. Every amount is an integer number of minor units (cents for USD, yen for
 * JPY) held as a `bigint`; no floating point is ever involved.
 *
 * Prices are rationals: {@link UnitPrice} `amountMinor` minor units per `per` units, e.g. one cent
 * per 1,000 requests is `{ amountMinor: 1n, per: 1000n }`. A charge is computed exactly as a
 * rational and rounded once, half up, to whole minor units ({@link roundHalfUp}).
 */

/** `amountMinor` minor units for every `per` units (`per` ≥ 1). */
export interface UnitPrice {
  readonly amountMinor: bigint;
  readonly per: bigint;
}

/** An exact non-negative rational `numerator / denominator` (`denominator` ≥ 1). */
export interface Fraction {
  readonly numerator: bigint;
  readonly denominator: bigint;
}

/** Greatest common divisor of two non-negative bigints. */
export function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** `numerator / denominator` reduced to lowest terms (0 is `0/1`). */
export function fraction(numerator: bigint, denominator: bigint): Fraction {
  if (denominator <= 0n) throw new RangeError('denominator must be positive');
  if (numerator < 0n) throw new RangeError('numerator must not be negative');
  if (numerator === 0n) return { numerator: 0n, denominator: 1n };
  const divisor = gcd(numerator, denominator);
  return { numerator: numerator / divisor, denominator: denominator / divisor };
}

/** `numerator / denominator` rounded to the nearest integer, halves up (both non-negative). */
export function roundHalfUp(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n || numerator < 0n) throw new RangeError('roundHalfUp takes a non-negative numerator and a positive denominator');
  return (2n * numerator + denominator) / (2n * denominator);
}

/** `⌈numerator / denominator⌉` for a non-negative numerator and a positive denominator. */
export function ceilDiv(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n || numerator < 0n) throw new RangeError('ceilDiv takes a non-negative numerator and a positive denominator');
  return (numerator + denominator - 1n) / denominator;
}

/** The exact cost of `quantity` units at `price`, rounded half up to whole minor units. */
export function priceOf(quantity: bigint, price: UnitPrice): bigint {
  return roundHalfUp(quantity * price.amountMinor, price.per);
}

/** `amount × fraction`, rounded half up to whole minor units. */
export function prorate(amountMinor: bigint, share: Fraction): bigint {
  return roundHalfUp(amountMinor * share.numerator, share.denominator);
}

/** Formats minor units as a decimal amount with its currency, e.g. `12.34 USD`, `1234 JPY`. */
export function formatMinor(amountMinor: bigint, minorUnitDigits: number, currency: string): string {
  const negative = amountMinor < 0n;
  const digits = (negative ? -amountMinor : amountMinor).toString().padStart(minorUnitDigits + 1, '0');
  const whole = minorUnitDigits === 0 ? digits : `${digits.slice(0, -minorUnitDigits)}.${digits.slice(-minorUnitDigits)}`;
  return `${negative ? '-' : ''}${whole} ${currency}`;
}

/** Formats a price as `0.01 USD per 1000 units` (or `per unit`). */
export function formatPrice(price: UnitPrice, minorUnitDigits: number, currency: string): string {
  return `${formatMinor(price.amountMinor, minorUnitDigits, currency)} per ${price.per === 1n ? 'unit' : `${price.per} units`}`;
}
