/**
 * Golden cases for every charge model: each expected figure is worked out by hand in the comment next
 * to it (amounts in cents), so a change of rounding, tier boundaries or proration shows up here.
 * Tier `upTo` is inclusive; every line is rounded once, half up.
 */
import { parsePlan, type Plan } from '../../../core/pricing/plan-schema';
import { rateUsage, type RatedInvoice } from '../../../core/pricing/rating';

const NOVEMBER = { start: Date.UTC(2026, 10, 1), end: Date.UTC(2026, 11, 1) }; // 30 days
const utc = (text: string) => Date.parse(text);
const TWO_53 = 2n ** 53n;

function plan(charge: Record<string, unknown>, extra: Record<string, unknown> = {}): Plan {
  return parsePlan({ id: 'golden', name: 'Golden', currency: 'USD', charges: [{ dimension: 'd', ...charge }], ...extra });
}

function rate(p: Plan, quantity: bigint | number, subscription = {}): RatedInvoice {
  return rateUsage(p, { d: quantity }, NOVEMBER, subscription);
}

/** `[kind, quantity, amount]` of each line. */
const linesOf = (invoice: RatedInvoice) => invoice.lines.map((l) => [l.kind, l.quantity, l.amountMinor]);

describe('per unit', () => {
  const third = plan({ kind: 'per_unit', price: { amountMinor: 1, per: 3 } }); // 1/3 cent a unit
  const half = plan({ kind: 'per_unit', price: { amountMinor: 1, per: 2 } }); // 1/2 cent a unit

  it.each([
    [third, 0, 0n], // nothing used, nothing charged
    [third, 1, 0n], // 0.333… → 0
    [third, 2, 1n], // 0.666… → 1
    [third, 3, 1n], // exactly 1
    [third, 4, 1n], // 1.333… → 1
    [half, 1, 1n], // 0.5 → 1: halves round up, not to even
    [half, 3, 2n], // 1.5 → 2
    [half, 5, 3n], // 2.5 → 3 (banker's rounding would give 2)
    [half, 4, 2n], // exactly 2
  ])('%#: rounds a sub-minor price half up once per line', (p, quantity, amount) => {
    expect(linesOf(rate(p, quantity))).toEqual([['per_unit', BigInt(quantity), amount]]);
  });

  it('is exact beyond 2^53 units, where a double would already be off by one', () => {
    const cent = plan({ kind: 'per_unit', price: 1 });
    // 2^53 + 1 = 9007199254740993; as a double it would be 9007199254740992.
    expect(rate(cent, TWO_53 + 1n).totalMinor).toBe(9007199254740993n);
    // 2^64 × 3/2 = 3 × 2^63 = 27670116110564327424.
    expect(rate(plan({ kind: 'per_unit', price: { amountMinor: 3, per: 2 } }), 2n ** 64n).totalMinor).toBe(27670116110564327424n);
    // (2^53 + 1) / 2 = 4503599627370496.5 → 4503599627370497.
    expect(rate(half, TWO_53 + 1n).totalMinor).toBe(4503599627370497n);
  });

  it('describes a rational price with its units', () => {
    expect(rate(third, 4).lines[0].description).toBe('d: 4 units at 0.01 USD per 3 units');
  });
});

describe('graduated', () => {
  // 1-1000 at 5¢, 1001-10000 at 3¢, beyond at ½¢.
  const graduated = plan({
    kind: 'graduated',
    tiers: [
      { upTo: 1000, price: 5 },
      { upTo: 10000, price: 3 },
      { upTo: null, price: { amountMinor: 1, per: 2 } },
    ],
  });

  it.each([
    [0, [['graduated_tier', 0n, 0n]], 0n], // zero usage: the first tier's line, at 0
    [1, [['graduated_tier', 1n, 5n]], 5n],
    [999, [['graduated_tier', 999n, 4995n]], 4995n],
    [1000, [['graduated_tier', 1000n, 5000n]], 5000n], // exactly at upTo: all in tier 1
    [1001, [['graduated_tier', 1000n, 5000n], ['graduated_tier', 1n, 3n]], 5003n], // upTo + 1: one unit in tier 2
    [10000, [['graduated_tier', 1000n, 5000n], ['graduated_tier', 9000n, 27000n]], 32000n], // 5000 + 9000 × 3
    [10001, [['graduated_tier', 1000n, 5000n], ['graduated_tier', 9000n, 27000n], ['graduated_tier', 1n, 1n]], 32001n], // ½ → 1
    [10003, [['graduated_tier', 1000n, 5000n], ['graduated_tier', 9000n, 27000n], ['graduated_tier', 3n, 2n]], 32002n], // 1.5 → 2
  ])('%s units', (quantity, lines, total) => {
    const invoice = rate(graduated, quantity);
    expect(linesOf(invoice)).toEqual(lines);
    expect(invoice.totalMinor).toBe(total);
  });

  it('prices 2^53 + 1 units exactly', () => {
    // Tier 3 holds 9007199254740993 − 10000 = 9007199254730993 units → 4503599627365496.5 → 4503599627365497.
    const invoice = rate(graduated, TWO_53 + 1n);
    expect(linesOf(invoice)).toEqual([
      ['graduated_tier', 1000n, 5000n],
      ['graduated_tier', 9000n, 27000n],
      ['graduated_tier', 9007199254730993n, 4503599627365497n],
    ]);
    expect(invoice.totalMinor).toBe(4503599627397497n); // + 32000
  });

  it('rounds each tier line on its own, not the sum', () => {
    // Two tiers at ½¢: 1 unit in each gives 1 + 1 = 2 (the unrounded sum would round to 1).
    const halves = plan({ kind: 'graduated', tiers: [{ upTo: 1, price: { amountMinor: 1, per: 2 } }, { upTo: null, price: { amountMinor: 1, per: 2 } }] });
    expect(linesOf(rate(halves, 2))).toEqual([['graduated_tier', 1n, 1n], ['graduated_tier', 1n, 1n]]);
  });

  it('starts the tiers after the free allowance', () => {
    const withFree = plan({ kind: 'graduated', freeAllowance: 500, tiers: [{ upTo: 1000, price: 5 }, { upTo: null, price: 3 }] });
    // Allowance larger than usage: 400 free, nothing billable.
    expect(linesOf(rate(withFree, 400))).toEqual([['free_allowance', 400n, 0n], ['graduated_tier', 0n, 0n]]);
    // 1500 used: 500 free, 1000 billable, all in tier 1 (its upTo counts billable units).
    expect(linesOf(rate(withFree, 1500))).toEqual([['free_allowance', 500n, 0n], ['graduated_tier', 1000n, 5000n]]);
    // 1501 used: one billable unit in tier 2.
    expect(linesOf(rate(withFree, 1501))).toEqual([['free_allowance', 500n, 0n], ['graduated_tier', 1000n, 5000n], ['graduated_tier', 1n, 3n]]);
  });
});

describe('volume', () => {
  // The whole quantity at the price of the tier it reaches: ≤100 at 10¢, ≤1000 at 7¢, beyond at ¼¢.
  const volume = plan({
    kind: 'volume',
    tiers: [
      { upTo: 100, price: 10 },
      { upTo: 1000, price: 7 },
      { upTo: null, price: { amountMinor: 1, per: 4 } },
    ],
  });

  it.each([
    [0, 0n, 1], // zero usage, tier 1
    [100, 1000n, 1], // exactly at upTo: still tier 1, 100 × 10
    [101, 707n, 2], // upTo + 1: every unit at 7¢, so the total drops
    [1000, 7000n, 2],
    [1001, 250n, 3], // 1001 / 4 = 250.25 → 250
    [1002, 251n, 3], // 250.5 → 251 (half up)
  ])('%s units', (quantity, total, tier) => {
    const invoice = rate(volume, quantity);
    expect(linesOf(invoice)).toEqual([['volume', BigInt(quantity), total]]);
    expect(invoice.lines[0].description).toContain(`all at tier ${tier} `);
  });

  it('prices 2^64 units exactly', () => {
    expect(rate(volume, 2n ** 64n).totalMinor).toBe(2n ** 62n); // 2^64 / 4 = 4611686018427387904
  });

  it('chooses the tier after the free allowance', () => {
    const withFree = plan({ kind: 'volume', freeAllowance: 50, tiers: [{ upTo: 100, price: 10 }, { upTo: null, price: 7 }] });
    expect(linesOf(rate(withFree, 150))).toEqual([['free_allowance', 50n, 0n], ['volume', 100n, 1000n]]); // 100 billable: tier 1
    expect(linesOf(rate(withFree, 151))).toEqual([['free_allowance', 50n, 0n], ['volume', 101n, 707n]]); // 101 billable: tier 2
  });
});

describe('package', () => {
  // 2.50 USD per started package of 1000 units.
  const packaged = plan({ kind: 'package', packageSize: 1000, priceMinor: 250 });

  it.each([
    [0, 0n], // no package started
    [1, 250n], // one unit starts a package
    [999, 250n],
    [1000, 250n], // exactly one full package
    [1001, 500n], // the next unit starts a second one
    [2000, 500n],
  ])('%s units', (quantity, total) => {
    expect(linesOf(rate(packaged, quantity))).toEqual([['package', BigInt(quantity), total]]);
  });

  it('counts packages exactly beyond 2^53 units', () => {
    // ⌈9007199254740993 / 1000⌉ = 9007199254741 packages × 250 = 2251799813685250.
    expect(rate(packaged, TWO_53 + 1n).totalMinor).toBe(2251799813685250n);
    expect(rate(packaged, TWO_53 + 1n).lines[0].description).toBe('d: 9007199254740993 units in 9007199254741 packages of 1000 at 2.50 USD');
  });

  it('packs only what the free allowance leaves', () => {
    const withFree = plan({ kind: 'package', packageSize: 1000, priceMinor: 250, freeAllowance: 1000 });
    expect(linesOf(rate(withFree, 1000))).toEqual([['free_allowance', 1000n, 0n], ['package', 0n, 0n]]);
    expect(linesOf(rate(withFree, 1001))).toEqual([['free_allowance', 1000n, 0n], ['package', 1n, 250n]]);
  });
});

describe('free allowance', () => {
  const perUnit = plan({ kind: 'per_unit', price: 2, freeAllowance: 100 });

  it.each([
    [0, [['free_allowance', 0n, 0n], ['per_unit', 0n, 0n]]], // nothing used
    [30, [['free_allowance', 30n, 0n], ['per_unit', 0n, 0n]]], // allowance bigger than usage: 30 of 100 used
    [100, [['free_allowance', 100n, 0n], ['per_unit', 0n, 0n]]], // allowance used up exactly
    [130, [['free_allowance', 100n, 0n], ['per_unit', 30n, 60n]]], // allowance smaller than usage: 30 × 2
  ])('%s units', (quantity, lines) => {
    expect(linesOf(rate(perUnit, quantity))).toEqual(lines);
  });

  it('is not prorated for a partial period', () => {
    const invoice = rate(perUnit, 130, { start: utc('2026-11-16T00:00:00Z') });
    expect(linesOf(invoice)).toEqual([['free_allowance', 100n, 0n], ['per_unit', 30n, 60n]]);
  });

  it('shows no allowance line when there is none', () => {
    expect(linesOf(rate(plan({ kind: 'per_unit', price: 2 }), 5))).toEqual([['per_unit', 5n, 10n]]);
  });
});

describe('flat fee and minimum commitment, prorated', () => {
  // 30.00 USD a month, at least 100.00 USD a month, plus 1¢ a unit.
  const committed = plan({ kind: 'per_unit', price: 1 }, { flatFeeMinor: 3000, minimumCommitmentMinor: 10000 });
  const totals = (invoice: RatedInvoice) => [invoice.share, invoice.subtotalMinor, invoice.minimumMinor, invoice.minimumTopUpMinor, invoice.totalMinor];

  it('charges the whole fee and tops up to the whole minimum for a whole month', () => {
    const invoice = rate(committed, 500);
    expect(linesOf(invoice)).toEqual([['flat_fee', 1n, 3000n], ['per_unit', 500n, 500n]]);
    // subtotal 3000 + 500 = 3500; top-up 10000 − 3500 = 6500.
    expect(totals(invoice)).toEqual([{ numerator: 1n, denominator: 1n }, 3500n, 10000n, 6500n, 10000n]);
  });

  it('prorates both for a subscription that starts mid-month', () => {
    // From 11 November: 20 of 30 days = 2/3. Fee 3000 × 2/3 = 2000; minimum 10000 × 2/3 = 6666.67 → 6667.
    const invoice = rate(committed, 500, { start: utc('2026-11-11T00:00:00Z') });
    expect(linesOf(invoice)).toEqual([['flat_fee', 1n, 2000n], ['per_unit', 500n, 500n]]);
    expect(invoice.lines[0].description).toBe('Flat fee 30.00 USD (prorated 2/3)');
    expect(totals(invoice)).toEqual([{ numerator: 2n, denominator: 3n }, 2500n, 6667n, 4167n, 6667n]);
  });

  it('prorates both for a subscription that ends mid-month, to the hour', () => {
    // Until 8 November 12:00: 180 of 720 hours = 1/4. Fee 750; minimum 2500; no usage.
    const invoice = rate(committed, 0, { end: utc('2026-11-08T12:00:00Z') });
    expect(totals(invoice)).toEqual([{ numerator: 1n, denominator: 4n }, 750n, 2500n, 1750n, 2500n]);
  });

  it('prorates for a subscription that starts and ends inside the month, with no top-up when usage exceeds the minimum', () => {
    // 10 to 20 November: 10 of 30 days = 1/3. Fee 1000; minimum 3333.33 → 3333; usage 5000 → subtotal 6000.
    const invoice = rate(committed, 5000, { start: utc('2026-11-10T00:00:00Z'), end: utc('2026-11-20T00:00:00Z') });
    expect(totals(invoice)).toEqual([{ numerator: 1n, denominator: 3n }, 6000n, 3333n, 0n, 6000n]);
  });

  it('rounds a prorated fee half up', () => {
    // 10.01 USD × 1/2 = 500.5 → 501; from 1 November 01:00, 719/720: 3000 × 719/720 = 2995.83 → 2996.
    const odd = plan({ kind: 'per_unit', price: 1 }, { flatFeeMinor: 1001 });
    expect(rate(odd, 0, { start: utc('2026-11-16T00:00:00Z') }).totalMinor).toBe(501n);
    expect(rate(committed, 0, { start: utc('2026-11-01T01:00:00Z') }).lines[0]).toMatchObject({ amountMinor: 2996n, description: 'Flat fee 30.00 USD (prorated 719/720)' });
  });

  it('charges nothing fixed outside the subscription', () => {
    const invoice = rate(committed, 0, { start: utc('2026-12-05T00:00:00Z') });
    expect(totals(invoice)).toEqual([{ numerator: 0n, denominator: 1n }, 0n, 0n, 0n, 0n]);
  });

  it('with zero usage and no subscription bounds, the total is the minimum', () => {
    expect(rate(committed, 0).totalMinor).toBe(10000n);
  });
});
