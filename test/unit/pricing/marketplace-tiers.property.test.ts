/**
 * The reconciliation property of the Marketplace tier split: for ANY charge that compiles and ANY
 * sequence of hourly quantities in a period, each hour split by the running total before it, what
 * Marketplace bills (Σ hours Σ dimensions quantity × unit price) equals the rating engine's amount for
 * the period's total, exactly. Run counts are given per property (numRuns) and in the test names.
 */
import fc from 'fast-check';
import { rateCharge } from '../../../core/pricing/charges';
import { amountOfSplit, compileTieredDimension, splitByTiers, type CompiledCharge } from '../../../core/pricing/marketplace-tiers';
import { parsePlan, type Charge } from '../../../core/pricing/plan-schema';

const USD = { currency: 'USD', minorUnitDigits: 2 };

/** Prices a unit dimension can carry (whole minor units per unit, some written per many units) and fractional ones. */
const wholePriceArb = fc.oneof(
  fc.bigInt(0n, 10n ** 6n).map((amountMinor) => ({ amountMinor, per: 1n })),
  fc.tuple(fc.bigInt(0n, 1000n), fc.bigInt(1n, 1000n)).map(([unit, per]) => ({ amountMinor: unit * per, per })),
);
const anyPriceArb = fc.oneof(wholePriceArb, fc.record({ amountMinor: fc.bigInt(0n, 10n ** 6n), per: fc.bigInt(1n, 10n ** 5n) }));
const freeArb = fc.oneof(fc.constant(0n), fc.bigInt(0n, 1000n), fc.bigInt(0n, 10n ** 7n));

/** Ascending tiers from positive widths (small ones, so that hours cross boundaries), the last open. */
const tiersArb = (priceArb: fc.Arbitrary<{ amountMinor: bigint; per: bigint }>) =>
  fc.tuple(fc.array(fc.record({ width: fc.oneof(fc.bigInt(1n, 20n), fc.bigInt(1n, 10n ** 4n), fc.bigInt(1n, 10n ** 9n)), price: priceArb }), { maxLength: 6 }), priceArb).map(([bounded, last]) => {
    let upTo = 0n;
    const tiers = bounded.map(({ width, price }) => {
      upTo += width;
      return { upTo, price };
    });
    return [...tiers, { upTo: null, price: last }];
  });

const chargeArb = (priceArb: fc.Arbitrary<{ amountMinor: bigint; per: bigint }>) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('graduated'), tiers: tiersArb(priceArb), freeAllowance: freeArb }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('per_unit'), price: priceArb, freeAllowance: freeArb }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('package'), packageSize: fc.oneof(fc.bigInt(1n, 10n), fc.bigInt(1n, 10n ** 6n)), priceMinor: fc.bigInt(0n, 10n ** 6n), freeAllowance: freeArb }) },
  );

/** Hourly quantities: many small hours, some zero, some huge (up to Marketplace's 2^31 − 1 per record). */
const hoursArb = fc.array(fc.oneof(fc.constant(0n), fc.bigInt(0n, 50n), fc.bigInt(0n, 10n ** 5n), fc.bigInt(0n, 2n ** 31n - 1n)), { minLength: 0, maxLength: 80 });

function chargeOf(charge: Record<string, unknown>): Charge {
  return parsePlan({ id: 'p', name: 'P', currency: 'USD', charges: [{ dimension: 'd', ...charge }] }).charges[0];
}

const namesFor = (charge: Charge) => Array.from({ length: charge.kind === 'graduated' ? charge.tiers.length : 1 }, (_, i) => `Tier${i + 1}`);
const ratedTotal = (charge: Charge, quantity: bigint) => rateCharge(charge, quantity, USD).reduce((sum, line) => sum + line.amountMinor, 0n);

/** Marketplace's bill for the hours: every hour split at the running total of the hours before it. */
function billed(compiled: CompiledCharge, hours: readonly bigint[]): { amount: bigint; perTier: bigint[] } {
  let running = 0n;
  let amount = 0n;
  const perTier = compiled.tiers.map(() => 0n);
  for (const q of hours) {
    const split = splitByTiers(compiled.tiers, running, q);
    split.forEach((s, i) => { perTier[i] += s; });
    amount += amountOfSplit(compiled.tiers, split);
    running += q;
  }
  return { amount, perTier };
}

describe('Marketplace tier split: properties', () => {
  it('bills exactly the rated amount of the period total, for any hours, whole-minor-unit prices (numRuns 3000)', () => {
    fc.assert(
      fc.property(chargeArb(wholePriceArb), hoursArb, (input, hours) => {
        const charge = chargeOf(input);
        const compiled = compileTieredDimension(charge, namesFor(charge));
        const total = hours.reduce((a, b) => a + b, 0n);
        expect(billed(compiled, hours).amount).toBe(ratedTotal(charge, total));
      }),
      { numRuns: 3000 },
    );
  });

  it('bills exactly the rated amount for any price when fractional prices are metered as charge (numRuns 3000)', () => {
    fc.assert(
      fc.property(chargeArb(anyPriceArb), hoursArb, (input, hours) => {
        const charge = chargeOf(input);
        const compiled = compileTieredDimension(charge, namesFor(charge), { fractionalPrices: 'meter-charge' });
        const total = hours.reduce((a, b) => a + b, 0n);
        expect(billed(compiled, hours).amount).toBe(ratedTotal(charge, total));
      }),
      { numRuns: 3000 },
    );
  });

  it('matches rating tier by tier: each dimension\'s amount is its rated tier line (numRuns 1000)', () => {
    fc.assert(
      fc.property(tiersArb(anyPriceArb), freeArb, hoursArb, (tiers, freeAllowance, hours) => {
        const charge = chargeOf({ kind: 'graduated', tiers, freeAllowance });
        const compiled = compileTieredDimension(charge, namesFor(charge), { fractionalPrices: 'meter-charge' });
        const total = hours.reduce((a, b) => a + b, 0n);
        const lines = rateCharge(charge, total, USD).filter((l) => l.kind === 'graduated_tier');
        const { perTier } = billed(compiled, hours);
        compiled.tiers.forEach((tier, i) => expect(tier.unitPriceMinor * perTier[i]).toBe(lines[i]?.amountMinor ?? 0n));
      }),
      { numRuns: 1000 },
    );
  });

  it('never sends a negative quantity, and with unit meters sends exactly the billable units of the hour (numRuns 2000)', () => {
    fc.assert(
      fc.property(chargeArb(wholePriceArb), fc.bigInt(0n, 10n ** 12n), fc.bigInt(0n, 10n ** 9n), (input, before, quantity) => {
        const charge = chargeOf(input);
        const compiled = compileTieredDimension(charge, namesFor(charge));
        const split = splitByTiers(compiled.tiers, before, quantity);
        split.forEach((s) => expect(s >= 0n).toBe(true));
        if (compiled.kind !== 'package') {
          const free = compiled.freeAllowance;
          const billable = (r: bigint) => (r > free ? r - free : 0n);
          expect(split.reduce((a, b) => a + b, 0n)).toBe(billable(before + quantity) - billable(before));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
