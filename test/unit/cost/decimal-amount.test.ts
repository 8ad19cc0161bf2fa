import fc from 'fast-check';
import { COST_AMOUNT_SCALE, DecimalAmountError, formatDecimal, parseDecimal, rescale, roundDiv } from '../../../core/cost/decimal-amount';

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DecimalAmountError);
    return (error as Error).message;
  }
  throw new Error('expected a DecimalAmountError');
}

describe('parseDecimal', () => {
  it('turns decimal text into units of the scale, exactly', () => {
    expect(parseDecimal('0.0000166667', COST_AMOUNT_SCALE)).toBe(16_666_700n);
    expect(parseDecimal('12', 2)).toBe(1200n);
    expect(parseDecimal('0.5', 6)).toBe(500_000n);
    expect(parseDecimal('1.2300', 2)).toBe(123n); // trailing zeros beyond the scale are no digits
    expect(parseDecimal('-1.25', 2, { allowNegative: true })).toBe(-125n);
    expect(parseDecimal('-0', 2)).toBe(0n);
    expect(parseDecimal('123456789012345678901234567890.5', 1)).toBe(1234567890123456789012345678905n);
  });

  it('refuses anything but plain decimal text, naming the problem', () => {
    expect(messageOf(() => parseDecimal('1.2.3', 2))).toBe('must be plain decimal text like "12.34", got "1.2.3"');
    for (const text of ['', ' 1', '1 ', '+1', '.5', '5.', '1e5', '1,5', 'NaN', 'Infinity', '0x10', '١']) {
      expect(messageOf(() => parseDecimal(text, 2))).toMatch(/^must be plain decimal text/);
    }
    expect(messageOf(() => parseDecimal('-1', 2))).toBe('must not be negative, got "-1"');
    expect(messageOf(() => parseDecimal('0.001', 2))).toBe('has more than 2 fraction digits: "0.001"');
    expect(messageOf(() => parseDecimal(1.5, 2))).toBe('must be decimal text (a string), got the number 1.5 (write it as a string to keep it exact)');
    expect(messageOf(() => parseDecimal(null, 2))).toBe('must be decimal text (a string), got null');
    expect(messageOf(() => parseDecimal('1'.repeat(65), 2))).toBe('is too long (65 characters, at most 64)');
  });
});

describe('formatDecimal', () => {
  it('writes units back as decimal text', () => {
    expect(formatDecimal(1234n, 2)).toBe('12.34');
    expect(formatDecimal(-5n, 2)).toBe('-0.05');
    expect(formatDecimal(0n, 2)).toBe('0.00');
    expect(formatDecimal(7n, 0)).toBe('7');
    expect(formatDecimal(1_200_000n, 6, 2)).toBe('1.20');
    expect(formatDecimal(1_234_567n, 6, 0)).toBe('1.234567');
    expect(formatDecimal(-3_000_000_000_000n, COST_AMOUNT_SCALE, 2)).toBe('-3.00');
  });

  it('round-trips with parseDecimal (numRuns 1000)', () => {
    fc.assert(
      fc.property(fc.bigInt(-(10n ** 30n), 10n ** 30n), fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 12 }), (units, scale, minDigits) => {
        expect(parseDecimal(formatDecimal(units, scale, minDigits), scale, { allowNegative: true })).toBe(units);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('rounding', () => {
  it('rounds halves away from zero, so a credit rounds like its charge', () => {
    expect(roundDiv(5n, 10n)).toBe(1n);
    expect(roundDiv(-5n, 10n)).toBe(-1n);
    expect(roundDiv(4n, 10n)).toBe(0n);
    expect(roundDiv(-4n, 10n)).toBe(0n);
    expect(roundDiv(15n, 10n)).toBe(2n);
    expect(() => roundDiv(1n, 0n)).toThrow(RangeError);
    expect(rescale(parseDecimal('0.005', 12), 12, 2)).toBe(1n);
    expect(rescale(parseDecimal('-0.005', 12, { allowNegative: true }), 12, 2)).toBe(-1n);
    expect(rescale(parseDecimal('0.0049999999', 12), 12, 2)).toBe(0n);
    expect(rescale(123n, 2, 4)).toBe(12300n);
  });

  it('roundDiv is the nearest integer and odd (numRuns 1000)', () => {
    fc.assert(
      fc.property(fc.bigInt(-(10n ** 20n), 10n ** 20n), fc.bigInt(1n, 10n ** 12n), (n, d) => {
        const q = roundDiv(n, d);
        expect(roundDiv(-n, d)).toBe(-q);
        const error = q * d - n; // |error| ≤ d/2, and exactly d/2 only away from zero
        expect(2n * (error < 0n ? -error : error) <= d).toBe(true);
        if (2n * error === d || 2n * error === -d) expect(error > 0n).toBe(n > 0n); // a half went away from zero
      }),
      { numRuns: 1000 },
    );
  });
});
