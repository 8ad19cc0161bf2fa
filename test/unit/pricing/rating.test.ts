import { monthOf } from '../../../core/pricing/periods';
import { parsePlan } from '../../../core/pricing/plan-schema';
import { rateUsage, RatingError } from '../../../core/pricing/rating';

const APRIL = monthOf(Date.parse('2024-04-01T00:00:00Z'));
const utc = (text: string) => Date.parse(text);

function planWith(charge: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return parsePlan({ id: 'p', name: 'P', currency: 'USD', charges: [{ dimension: 'requests', ...charge }], ...extra });
}

function amountsOf(plan: ReturnType<typeof planWith>, quantity: bigint | number) {
  const invoice = rateUsage(plan, { requests: quantity }, APRIL);
  return { total: invoice.totalMinor, lines: invoice.lines.map((l) => [l.kind, l.quantity, l.amountMinor]) };
}

describe('rateUsage: graduated (inclusive upTo)', () => {
  const plan = planWith({
    kind: 'graduated',
    tiers: [
      { upTo: 100, price: 10 },
      { upTo: 1000, price: 5 },
      { upTo: null, price: { amountMinor: 1, per: 10 } },
    ],
  });

  it.each([
    [0, 0n, [['graduated_tier', 0n, 0n]]],
    [99, 990n, [['graduated_tier', 99n, 990n]]],
    [100, 1000n, [['graduated_tier', 100n, 1000n]]],
    [101, 1005n, [['graduated_tier', 100n, 1000n], ['graduated_tier', 1n, 5n]]],
    [999, 5495n, [['graduated_tier', 100n, 1000n], ['graduated_tier', 899n, 4495n]]],
    [1000, 5500n, [['graduated_tier', 100n, 1000n], ['graduated_tier', 900n, 4500n]]],
    [1001, 5500n, [['graduated_tier', 100n, 1000n], ['graduated_tier', 900n, 4500n], ['graduated_tier', 1n, 0n]]],
    [1005, 5501n, [['graduated_tier', 100n, 1000n], ['graduated_tier', 900n, 4500n], ['graduated_tier', 5n, 1n]]],
    [10n ** 15n, 100000000005400n, [['graduated_tier', 100n, 1000n], ['graduated_tier', 900n, 4500n], ['graduated_tier', 10n ** 15n - 1000n, 99999999999900n]]],
  ])('%s units', (quantity, total, lines) => {
    expect(amountsOf(plan, quantity)).toEqual({ total, lines });
  });

  it('describes each tier with its range and price', () => {
    expect(rateUsage(plan, { requests: 1005 }, APRIL).lines.map((l) => l.description)).toEqual([
      'requests: tier 1 (1-100), 100 units at 0.10 USD per unit',
      'requests: tier 2 (101-1000), 900 units at 0.05 USD per unit',
      'requests: tier 3 (1001+), 5 units at 0.01 USD per 10 units',
    ]);
  });
});

describe('rateUsage: volume (the whole quantity at the tier reached)', () => {
  const plan = planWith({ kind: 'volume', tiers: [{ upTo: 100, price: 10 }, { upTo: 1000, price: 8 }, { upTo: null, price: 5 }] });

  it.each([
    [0, 0n],
    [99, 990n],
    [100, 1000n],
    [101, 808n],
    [999, 7992n],
    [1000, 8000n],
    [1001, 5005n],
    [10n ** 15n, 5n * 10n ** 15n],
  ])('%s units', (quantity, total) => {
    const invoice = rateUsage(plan, { requests: quantity }, APRIL);
    expect(invoice.totalMinor).toBe(total);
    expect(invoice.lines).toHaveLength(1);
    expect(invoice.lines[0]).toMatchObject({ dimension: 'requests', kind: 'volume', quantity: BigInt(quantity), amountMinor: total });
  });
});

describe('rateUsage: package (price per started package)', () => {
  const plan = planWith({ kind: 'package', packageSize: 1000, priceMinor: 250 });

  it.each([
    [0, 0n],
    [1, 250n],
    [999, 250n],
    [1000, 250n],
    [1001, 500n],
    [10n ** 15n, 250n * 10n ** 12n],
    [10n ** 15n + 1n, 250n * (10n ** 12n + 1n)],
  ])('%s units', (quantity, total) => {
    expect(rateUsage(plan, { requests: quantity }, APRIL).totalMinor).toBe(total);
  });

  it('describes the packages', () => {
    expect(rateUsage(plan, { requests: 1001 }, APRIL).lines[0].description).toBe('requests: 1001 units in 2 packages of 1000 at 2.50 USD');
  });
});

describe('rateUsage: per unit with rational prices', () => {
  const plan = planWith({ kind: 'per_unit', price: { amountMinor: 1, per: 1000 } });

  it.each([
    [0, 0n],
    [499, 0n],
    [500, 1n],
    [1499, 1n],
    [1500, 2n],
    [10n ** 15n, 10n ** 12n],
    [2n ** 63n, 9223372036854776n],
  ])('%s units round half up', (quantity, total) => {
    expect(rateUsage(plan, { requests: quantity }, APRIL).totalMinor).toBe(total);
  });
});

describe('rateUsage: free allowance before pricing', () => {
  it('prices only the units above the allowance', () => {
    const plan = planWith({ kind: 'per_unit', price: 2, freeAllowance: 100 });
    expect(amountsOf(plan, 50)).toEqual({ total: 0n, lines: [['free_allowance', 50n, 0n], ['per_unit', 0n, 0n]] });
    expect(amountsOf(plan, 100)).toEqual({ total: 0n, lines: [['free_allowance', 100n, 0n], ['per_unit', 0n, 0n]] });
    expect(amountsOf(plan, 150)).toEqual({ total: 100n, lines: [['free_allowance', 100n, 0n], ['per_unit', 50n, 100n]] });
  });

  it('starts the tiers after the allowance', () => {
    const plan = planWith({ kind: 'graduated', freeAllowance: 100, tiers: [{ upTo: 100, price: 10 }, { upTo: null, price: 1 }] });
    expect(amountsOf(plan, 200)).toEqual({ total: 1000n, lines: [['free_allowance', 100n, 0n], ['graduated_tier', 100n, 1000n]] });
    expect(amountsOf(plan, 201)).toEqual({ total: 1001n, lines: [['free_allowance', 100n, 0n], ['graduated_tier', 100n, 1000n], ['graduated_tier', 1n, 1n]] });
  });
});

describe('rateUsage: flat fee, proration and minimum commitment', () => {
  const plan = planWith({ kind: 'per_unit', price: 1 }, { flatFeeMinor: 999, minimumCommitmentMinor: 5000 });

  it('charges the whole flat fee for a whole period and tops up to the minimum', () => {
    const invoice = rateUsage(plan, { requests: 100 }, APRIL, { start: utc('2023-01-01T00:00:00Z') });
    expect(invoice.lines[0]).toEqual({ kind: 'flat_fee', description: 'Flat fee 9.99 USD', quantity: 1n, amountMinor: 999n });
    expect(invoice).toMatchObject({ subtotalMinor: 1099n, minimumTopUpMinor: 3901n, totalMinor: 5000n, currency: 'USD' });
  });

  it('prorates the flat fee and the minimum by the covered share, rounding half up', () => {
    const invoice = rateUsage(plan, { requests: 100 }, APRIL, { start: utc('2024-04-16T00:00:00Z') });
    expect(invoice.lines[0]).toMatchObject({ description: 'Flat fee 9.99 USD (prorated 1/2)', amountMinor: 500n });
    expect(invoice).toMatchObject({ subtotalMinor: 600n, minimumTopUpMinor: 1900n, totalMinor: 2500n });
  });

  it('needs no top-up when usage exceeds the prorated minimum', () => {
    const invoice = rateUsage(plan, { requests: 3000 }, APRIL, { end: utc('2024-04-16T00:00:00Z') });
    expect(invoice).toMatchObject({ subtotalMinor: 3500n, minimumTopUpMinor: 0n, totalMinor: 3500n });
  });

  it('charges nothing fixed when the subscription did not overlap the period', () => {
    const invoice = rateUsage(plan, {}, APRIL, { end: utc('2024-03-20T00:00:00Z') });
    expect(invoice).toMatchObject({ subtotalMinor: 0n, minimumTopUpMinor: 0n, totalMinor: 0n });
  });

  it('prorates over a 29-day February exactly', () => {
    const february = monthOf(utc('2024-02-10T00:00:00Z'));
    const invoice = rateUsage(plan, {}, february, { start: utc('2024-02-15T00:00:00Z') });
    // 999 × 15/29 = 516.7 → 517; 5000 × 15/29 = 2586.2 → 2586.
    expect(invoice).toMatchObject({ subtotalMinor: 517n, minimumTopUpMinor: 2069n, totalMinor: 2586n });
  });
});

describe('rateUsage: JPY has no minor digits', () => {
  const plan = parsePlan({
    id: 'jp',
    name: 'Japan',
    currency: 'JPY',
    flatFeeMinor: 1000,
    charges: [{ dimension: 'requests', kind: 'per_unit', price: { amountMinor: 3, per: 2 } }],
  });

  it('rates in whole yen', () => {
    const invoice = rateUsage(plan, { requests: 3 }, APRIL, { end: utc('2024-04-11T00:00:00Z') });
    expect(invoice.lines.map((l) => [l.description, l.amountMinor])).toEqual([
      ['Flat fee 1000 JPY (prorated 1/3)', 333n],
      ['requests: 3 units at 3 JPY per 2 units', 5n],
    ]);
    expect(invoice).toMatchObject({ totalMinor: 338n, currency: 'JPY' });
  });
});

describe('rateUsage: input checks', () => {
  const plan = planWith({ kind: 'per_unit', price: 1 });

  it('rates a priced dimension without usage as zero', () => {
    expect(rateUsage(plan, {}, APRIL).lines).toEqual([{ dimension: 'requests', kind: 'per_unit', description: 'requests: 0 units at 0.01 USD per unit', quantity: 0n, amountMinor: 0n }]);
  });

  it.each([
    [{ requests: -1 }, /requests is not a non-negative safe integer/],
    [{ requests: 1.5 }, /requests is not a non-negative safe integer/],
    [{ requests: 2 ** 60 }, /requests is not a non-negative safe integer/],
    [{ requests: -1n }, /requests is negative/],
    [{ storage: 1 }, /does not price dimension "storage"/],
  ])('rejects %p', (usage, message) => {
    expect(() => rateUsage(plan, usage, APRIL)).toThrow(RatingError);
    expect(() => rateUsage(plan, usage, APRIL)).toThrow(message);
  });

  it('rejects an empty period', () => {
    expect(() => rateUsage(plan, {}, { start: 5, end: 5 })).toThrow(RangeError);
  });
});

describe('rateUsage: usage of a dimension the plan does not price', () => {
  const plan = planWith({ kind: 'per_unit', price: 1 }, { flatFeeMinor: 100, minimumCommitmentMinor: 1000 });

  it('throws by default and with unpriced: "error"', () => {
    expect(() => rateUsage(plan, { requests: 1, tokens: 5 }, APRIL)).toThrow('plan p does not price dimension "tokens"');
    expect(() => rateUsage(plan, { requests: 1, tokens: 5 }, APRIL, {}, { unpriced: 'error' })).toThrow(RatingError);
  });

  it('with unpriced: "report", lists it by name with its quantity and amount 0, and leaves the totals alone', () => {
    const strict = rateUsage(plan, { requests: 7 }, APRIL);
    const reported = rateUsage(plan, { tokens: 2n ** 70n, requests: 7, active_users: 0 }, APRIL, {}, { unpriced: 'report' });
    expect(reported.unpriced).toEqual([
      { dimension: 'active_users', quantity: 0n, amountMinor: 0n },
      { dimension: 'tokens', quantity: 2n ** 70n, amountMinor: 0n },
    ]);
    expect(reported.lines).toEqual(strict.lines);
    expect(reported).toMatchObject({ subtotalMinor: 107n, minimumMinor: 1000n, minimumTopUpMinor: 893n, totalMinor: 1000n });
    expect(strict.unpriced).toEqual([]);
  });

  it('still rejects an invalid quantity of an unpriced dimension', () => {
    expect(() => rateUsage(plan, { tokens: -1 }, APRIL, {}, { unpriced: 'report' })).toThrow('quantity of tokens is not a non-negative safe integer');
  });
});
