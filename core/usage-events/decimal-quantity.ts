/**
 * Exact decimal quantities. A reported quantity is a JSON number; its shortest round-trip text (what
 * the reporter wrote, up to double precision) is kept as plain decimal text and turned into integer
 * units of 10^-decimals — never multiplied in floating point.
 */

const PLAIN_DECIMAL = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/;

/** The plain decimal text of a finite number ≥ 0 (`1e-7` → `0.0000001`, `1e21` → `1000000000000000000000`). */
export function decimalText(value: number): string {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`not a finite number ≥ 0: ${value}`);
  const text = String(value === 0 ? 0 : value); // -0 → "0"
  const match = /^([0-9])(?:\.([0-9]+))?e([+-][0-9]+)$/.exec(text);
  if (!match) return text;
  const digits = match[1] + (match[2] ?? '');
  const exponent = Number(match[3]);
  const point = 1 + exponent; // position of the decimal point within `digits`
  if (point <= 0) return `0.${'0'.repeat(-point)}${digits}`.replace(/0+$/, '');
  if (point >= digits.length) return digits + '0'.repeat(point - digits.length);
  return `${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** Fraction digits of plain decimal text, trailing zeros ignored. */
export function fractionDigits(text: string): number {
  const point = text.indexOf('.');
  return point === -1 ? 0 : text.slice(point + 1).replace(/0+$/, '').length;
}

/**
 * Plain decimal text (as written, or as an engine prints a DECIMAL) → integer units of 10^-decimals.
 * Digits beyond `decimals` are rounded half up (they only occur if a meter's decimals were lowered
 * after events were stored with more).
 */
export function scaledUnits(text: string, decimals: number): bigint {
  const trimmed = text.trim();
  if (!PLAIN_DECIMAL.test(trimmed)) throw new RangeError(`not a plain decimal number ≥ 0: ${JSON.stringify(text)}`);
  const [whole, fraction = ''] = trimmed.split('.');
  const kept = (fraction + '0'.repeat(decimals)).slice(0, decimals);
  const units = BigInt(whole + kept);
  const next = fraction.length > decimals ? Number(fraction[decimals]) : 0;
  return next >= 5 ? units + 1n : units;
}
