import fc from 'fast-check';
import { decimalText, fractionDigits, scaledUnits } from '../../../core/usage-events/decimal-quantity';

describe('decimal quantities', () => {
  it.each([
    [0, '0'], [-0, '0'], [12, '12'], [1.5, '1.5'], [0.1, '0.1'], [1e-7, '0.0000001'], [1.5e-7, '0.00000015'],
    [1e21, '1000000000000000000000'], [1.2345e21, '1234500000000000000000'], [123456.789, '123456.789'],
  ])('writes %p as %s', (value, text) => {
    expect(decimalText(value)).toBe(text);
  });

  it('refuses what is not a finite number ≥ 0', () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => decimalText(bad)).toThrow(RangeError);
  });

  it.each([['1', 0], ['1.50', 1], ['0.000100', 4], ['12.345678', 6]])('counts the fraction digits of %s: %d', (text, digits) => {
    expect(fractionDigits(text)).toBe(digits);
  });

  it.each([
    ['1.5', 3, 1500n], ['1.500000', 3, 1500n], ['0', 6, 0n], ['12', 0, 12n], ['9007199254.740991', 6, 9007199254740991n],
    ['1.2345', 3, 1235n], ['1.2344', 3, 1234n], ['0.0005', 3, 1n],
  ])('scales %s to units of 10^-%d: %p', (text, decimals, units) => {
    expect(scaledUnits(text, decimals)).toBe(units);
  });

  it('refuses text that is not a plain decimal number', () => {
    for (const bad of ['-1', '1e3', '', '.5', '01', 'NaN']) expect(() => scaledUnits(bad, 2)).toThrow(RangeError);
  });

  const NUM_RUNS = 5000;
  it(`round-trips every finite number ≥ 0 exactly through its text (${NUM_RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }), (value) => {
        const text = decimalText(value);
        expect(text).toMatch(/^(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$/);
        expect(Number(text)).toBe(value === 0 ? 0 : value);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it(`scales integers of units exactly: (n / 10^d) as text → n (${NUM_RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.integer({ min: 0, max: 6 }), (units, decimals) => {
        const digits = units.toString().padStart(decimals + 1, '0');
        const text = decimals === 0 ? digits : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
        expect(scaledUnits(text, decimals)).toBe(units);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
