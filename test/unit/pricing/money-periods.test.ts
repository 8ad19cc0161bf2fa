import { ceilDiv, formatMinor, fraction, priceOf, prorate, roundHalfUp } from '../../../core/pricing/money';
import { coveredFraction, monthOf } from '../../../core/pricing/periods';

describe('money', () => {
  it('rounds half up exactly', () => {
    expect(roundHalfUp(4n, 10n)).toBe(0n);
    expect(roundHalfUp(5n, 10n)).toBe(1n);
    expect(roundHalfUp(15n, 10n)).toBe(2n);
    expect(roundHalfUp(24n, 10n)).toBe(2n);
    expect(roundHalfUp(0n, 7n)).toBe(0n);
  });

  it('divides rounding up', () => {
    expect(ceilDiv(0n, 3n)).toBe(0n);
    expect(ceilDiv(3n, 3n)).toBe(1n);
    expect(ceilDiv(4n, 3n)).toBe(2n);
  });

  it('rejects negative or zero-denominator operands', () => {
    expect(() => roundHalfUp(-1n, 2n)).toThrow(RangeError);
    expect(() => roundHalfUp(1n, 0n)).toThrow(RangeError);
    expect(() => ceilDiv(1n, 0n)).toThrow(RangeError);
    expect(() => fraction(1n, 0n)).toThrow(RangeError);
  });

  it('prices rational unit prices exactly, even at 2^63 units', () => {
    expect(priceOf(1500n, { amountMinor: 1n, per: 1000n })).toBe(2n);
    expect(priceOf(2n ** 63n, { amountMinor: 1n, per: 1000n })).toBe(9223372036854776n);
    expect(priceOf(2n ** 63n, { amountMinor: 7n, per: 1n })).toBe(7n * 2n ** 63n);
  });

  it('prorates by an exact fraction', () => {
    expect(prorate(999n, fraction(15n, 30n))).toBe(500n);
    expect(prorate(1000n, fraction(1n, 3n))).toBe(333n);
    expect(prorate(1000n, fraction(0n, 30n))).toBe(0n);
  });

  it('formats minor units with the currency digits', () => {
    expect(formatMinor(1234n, 2, 'USD')).toBe('12.34 USD');
    expect(formatMinor(5n, 2, 'USD')).toBe('0.05 USD');
    expect(formatMinor(1234n, 0, 'JPY')).toBe('1234 JPY');
    expect(formatMinor(1n, 3, 'KWD')).toBe('0.001 KWD');
  });
});

describe('periods', () => {
  const utc = (text: string) => Date.parse(text);

  it('gives the UTC calendar month containing an instant', () => {
    expect(monthOf(utc('2024-02-10T12:00:00Z'))).toEqual({ start: utc('2024-02-01T00:00:00Z'), end: utc('2024-03-01T00:00:00Z') });
    expect(monthOf(utc('2024-12-31T23:59:59.999Z'))).toEqual({ start: utc('2024-12-01T00:00:00Z'), end: utc('2025-01-01T00:00:00Z') });
    expect(monthOf(utc('2024-03-01T00:00:00Z')).start).toBe(utc('2024-03-01T00:00:00Z'));
    expect(() => monthOf(Number.NaN)).toThrow(RangeError);
  });

  it('computes the covered share as a reduced exact fraction', () => {
    const april = monthOf(utc('2024-04-10T00:00:00Z'));
    expect(coveredFraction(april, {})).toEqual({ numerator: 1n, denominator: 1n });
    expect(coveredFraction(april, { start: utc('2024-04-16T00:00:00Z') })).toEqual({ numerator: 1n, denominator: 2n });
    expect(coveredFraction(april, { end: utc('2024-04-11T00:00:00Z') })).toEqual({ numerator: 1n, denominator: 3n });
    expect(coveredFraction(april, { start: utc('2024-01-01T00:00:00Z'), end: utc('2024-06-01T00:00:00Z') })).toEqual({ numerator: 1n, denominator: 1n });
    expect(coveredFraction(april, { end: utc('2024-03-01T00:00:00Z') })).toEqual({ numerator: 0n, denominator: 1n });
    expect(coveredFraction(april, { start: utc('2024-05-01T00:00:00Z') })).toEqual({ numerator: 0n, denominator: 1n });
    const february = monthOf(utc('2024-02-01T00:00:00Z'));
    expect(coveredFraction(february, { start: utc('2024-02-15T00:00:00Z') })).toEqual({ numerator: 15n, denominator: 29n });
  });

  it('rejects an empty period', () => {
    expect(() => coveredFraction({ start: 10, end: 10 }, {})).toThrow(RangeError);
  });
});
