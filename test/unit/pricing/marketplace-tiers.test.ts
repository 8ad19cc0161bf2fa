import { rateCharge } from '../../../core/pricing/charges';
import {
  amountOfSplit,
  compileTieredDimension,
  currentTierIndex,
  listingDimensionRows,
  meteredThrough,
  splitByTiers,
  TierCompileError,
  type CompiledCharge,
} from '../../../core/pricing/marketplace-tiers';
import { parsePlan, type Charge } from '../../../core/pricing/plan-schema';

const USD = { currency: 'USD', minorUnitDigits: 2 };

function chargeOf(charge: Record<string, unknown>): Charge {
  return parsePlan({ id: 'p', name: 'P', currency: 'USD', charges: [{ dimension: 'api_requests', ...charge }] }).charges[0];
}

/** 100 free; 1-1,000 at 5, 1,001-10,000 at 3, above at 1 (minor units per unit). */
const GRADUATED = chargeOf({
  kind: 'graduated',
  freeAllowance: 100,
  tiers: [
    { upTo: 1000, price: 5 },
    { upTo: 10000, price: 3 },
    { upTo: null, price: 1 },
  ],
});
const NAMES = ['ApiRequestsTier1', 'ApiRequestsTier2', 'ApiRequestsTier3'];
const rated = (charge: Charge, quantity: bigint) => rateCharge(charge, quantity, USD).reduce((sum, line) => sum + line.amountMinor, 0n);
const billedOver = (compiled: CompiledCharge, hours: readonly bigint[]) => {
  let total = 0n;
  let amount = 0n;
  for (const q of hours) {
    amount += amountOfSplit(compiled.tiers, splitByTiers(compiled.tiers, total, q));
    total += q;
  }
  return amount;
};

describe('compileTieredDimension', () => {
  it('compiles a graduated charge into one listing dimension per tier, the free allowance below the first range', () => {
    const compiled = compileTieredDimension(GRADUATED, NAMES);
    expect(compiled).toMatchObject({ dimension: 'api_requests', kind: 'graduated', freeAllowance: 100n });
    expect(compiled.tiers.map((t) => [t.listingDimension, t.tier, t.from, t.upTo, t.meter, t.unitPriceMinor])).toEqual([
      ['ApiRequestsTier1', 1, 100n, 1100n, 'units', 5n],
      ['ApiRequestsTier2', 2, 1100n, 10100n, 'units', 3n],
      ['ApiRequestsTier3', 3, 10100n, null, 'units', 1n],
    ]);
  });

  it('compiles a per-unit charge into one dimension, and a package charge into one "packages started" dimension', () => {
    const perUnit = compileTieredDimension(chargeOf({ kind: 'per_unit', freeAllowance: 10, price: 7 }), ['Requests']);
    expect(perUnit.tiers).toEqual([expect.objectContaining({ listingDimension: 'Requests', from: 10n, upTo: null, meter: 'units', unitPriceMinor: 7n })]);
    const packaged = compileTieredDimension(chargeOf({ kind: 'package', packageSize: 100, priceMinor: 500 }), ['ReportPacks']);
    expect(packaged.tiers).toEqual([expect.objectContaining({ listingDimension: 'ReportPacks', meter: 'packages', packageSize: 100n, unitPriceMinor: 500n })]);
  });

  it('takes a price per many units when it is a whole number of minor units per unit', () => {
    const compiled = compileTieredDimension(chargeOf({ kind: 'per_unit', price: { amountMinor: 5000, per: 1000 } }), ['Requests']);
    expect(compiled.tiers[0]).toMatchObject({ meter: 'units', unitPriceMinor: 5n });
  });

  it('refuses a fractional price unless asked to meter it as charge in minor units', () => {
    const charge = chargeOf({ kind: 'graduated', tiers: [{ upTo: 1000, price: 5 }, { upTo: null, price: { amountMinor: 1, per: 1000 } }] });
    expect(() => compileTieredDimension(charge, ['A', 'B'])).toThrow(TierCompileError);
    expect(() => compileTieredDimension(charge, ['A', 'B'])).toThrow(/tier 2 of "api_requests" costs 1 minor unit per 1000 units, not a whole number of minor units per unit.*"fractionalPrices": "meter-charge"/);
    const compiled = compileTieredDimension(charge, ['A', 'B'], { fractionalPrices: 'meter-charge' });
    expect(compiled.tiers.map((t) => [t.meter, t.unitPriceMinor])).toEqual([['units', 5n], ['charge', 1n]]);
  });

  it('refuses a volume charge, saying why', () => {
    const volume = chargeOf({ kind: 'volume', tiers: [{ upTo: 1000, price: 5 }, { upTo: null, price: 1 }] });
    expect(() => compileTieredDimension(volume, ['A', 'B'])).toThrow(/volume charge.*re-priced.*never take them back/);
  });

  it.each([
    [['A', 'B'], /graduated charge of 3 tiers and needs 3 listing dimensions, got 2 \(A, B\)/],
    [['A', 'B', 'C', 'D'], /needs 3 listing dimensions, got 4/],
    [['A', 'B', 'A'], /listing dimension "A" is named twice/],
    [[], /got 0 \(none\)/],
  ])('refuses the names %j for a 3-tier charge', (names, message) => {
    expect(() => compileTieredDimension(GRADUATED, names)).toThrow(message);
  });
});

describe('splitByTiers (golden cases)', () => {
  const { tiers } = compileTieredDimension(GRADUATED, NAMES);

  it.each([
    // running total before, quantity, [tier 1, tier 2, tier 3]
    [0n, 0n, [0n, 0n, 0n]],
    [0n, 100n, [0n, 0n, 0n]], // all free
    [0n, 101n, [1n, 0n, 0n]], // first billed unit
    [99n, 2n, [1n, 0n, 0n]], // straddles the free allowance
    [100n, 1000n, [1000n, 0n, 0n]], // fills tier 1 exactly (inclusive upTo)
    [1099n, 2n, [1n, 1n, 0n]], // straddles tier 1/2
    [1100n, 1n, [0n, 1n, 0n]], // first unit of tier 2
    [10099n, 2n, [0n, 1n, 1n]], // straddles tier 2/3
    [0n, 20000n, [1000n, 9000n, 9900n]], // one hour across every boundary
    [50000n, 7n, [0n, 0n, 7n]], // open last tier
  ])('running total %s, quantity %s → %j', (before, quantity, expected) => {
    expect(splitByTiers(tiers, before, quantity)).toEqual(expected);
  });

  it('bills what rating gives for the month, hour by hour, across every boundary', () => {
    const compiled = compileTieredDimension(GRADUATED, NAMES);
    const hours = [50n, 50n, 1n, 999n, 1n, 8999n, 1n, 1n, 5000n, 0n, 3n];
    const total = hours.reduce((a, b) => a + b, 0n);
    expect(billedOver(compiled, hours)).toBe(rated(GRADUATED, total));
    expect(billedOver(compiled, hours)).toBe(1000n * 5n + 9000n * 3n + (total - 10100n) * 1n);
  });

  it('meters a fractional price as its charge, rounded on the running total, so the hours add up to the rated line', () => {
    // 1 cent per 3 units: 1 unit alone is 0.33 cents (0), 2 units 0.67 (1).
    const charge = chargeOf({ kind: 'per_unit', price: { amountMinor: 1, per: 3 } });
    const compiled = compileTieredDimension(charge, ['Charge'], { fractionalPrices: 'meter-charge' });
    expect(splitByTiers(compiled.tiers, 0n, 1n)).toEqual([0n]);
    expect(splitByTiers(compiled.tiers, 1n, 1n)).toEqual([1n]);
    expect(splitByTiers(compiled.tiers, 2n, 1n)).toEqual([0n]);
    const hours = Array.from({ length: 100 }, () => 1n);
    expect(billedOver(compiled, hours)).toBe(rated(charge, 100n)); // 33.33 → 33
    expect(billedOver(compiled, hours)).toBe(33n);
  });

  it('sends a package when its first unit is used, and nothing more until the next package starts', () => {
    const charge = chargeOf({ kind: 'package', freeAllowance: 10, packageSize: 100, priceMinor: 500 });
    const { tiers: pack } = compileTieredDimension(charge, ['ReportPacks']);
    expect(splitByTiers(pack, 0n, 10n)).toEqual([0n]);
    expect(splitByTiers(pack, 10n, 1n)).toEqual([1n]);
    expect(splitByTiers(pack, 11n, 99n)).toEqual([0n]);
    expect(splitByTiers(pack, 110n, 1n)).toEqual([1n]);
    expect(splitByTiers(pack, 0n, 311n)).toEqual([4n]);
  });

  it('refuses negative input', () => {
    expect(() => splitByTiers(tiers, -1n, 1n)).toThrow(RangeError);
    expect(() => splitByTiers(tiers, 0n, -1n)).toThrow(RangeError);
  });

  it('knows the tier that bills the next unit, and what a tier has metered', () => {
    expect([0n, 99n, 100n, 1099n, 1100n, 10100n, 99999n].map((r) => currentTierIndex(tiers, r))).toEqual([0, 0, 0, 0, 1, 2, 2]);
    expect(meteredThrough(tiers[1], 5000n)).toBe(3900n);
    expect(meteredThrough(tiers[1], 1000n)).toBe(0n);
  });
});

describe('listingDimensionRows', () => {
  it('gives the operator each listing dimension with its price and what one unit covers', () => {
    expect(listingDimensionRows(compileTieredDimension(GRADUATED, NAMES), USD)).toEqual([
      { apiName: 'ApiRequestsTier1', price: '0.05', currency: 'USD', description: 'api_requests, units 101-1100 of the month (the first 100 units of the month are free): per unit' },
      { apiName: 'ApiRequestsTier2', price: '0.03', currency: 'USD', description: 'api_requests, units 1101-10100 of the month: per unit' },
      { apiName: 'ApiRequestsTier3', price: '0.01', currency: 'USD', description: 'api_requests, units above 10100 of the month: per unit' },
    ]);
  });
});
