import fc from 'fast-check';
import { ceilDiv, prorate, roundHalfUp } from '../../../core/pricing/money';
import { coveredFraction, monthOf } from '../../../core/pricing/periods';
import { parsePlan, type Plan } from '../../../core/pricing/plan-schema';
import { rateUsage } from '../../../core/pricing/rating';

const MARCH = monthOf(Date.parse('2024-03-01T00:00:00Z'));

const priceArb = fc.record({ amountMinor: fc.bigInt(0n, 10n ** 6n), per: fc.bigInt(1n, 10n ** 4n) });
const quantityArb = fc.oneof(fc.bigInt(0n, 10n ** 4n), fc.bigInt(0n, 10n ** 15n), fc.bigInt(0n, 2n ** 63n));
const freeArb = fc.oneof(fc.constant(0n), fc.bigInt(0n, 10n ** 4n));

/** Ascending tiers built from positive widths, ending with an open tier. */
const tiersArb = fc
  .tuple(fc.array(fc.record({ width: fc.oneof(fc.bigInt(1n, 100n), fc.bigInt(1n, 10n ** 12n)), price: priceArb }), { maxLength: 5 }), priceArb)
  .map(([bounded, last]) => {
    let upTo = 0n;
    const tiers = bounded.map(({ width, price }) => {
      upTo += width;
      return { upTo, price };
    });
    return [...tiers, { upTo: null, price: last }];
  });

const chargeArb = fc.oneof(
  fc.record({ kind: fc.constant('per_unit'), price: priceArb, freeAllowance: freeArb }),
  fc.record({ kind: fc.constant('graduated'), tiers: tiersArb, freeAllowance: freeArb }),
  fc.record({ kind: fc.constant('volume'), tiers: tiersArb, freeAllowance: freeArb }),
  fc.record({ kind: fc.constant('package'), packageSize: fc.bigInt(1n, 10n ** 6n), priceMinor: fc.bigInt(0n, 10n ** 6n), freeAllowance: freeArb }),
);

function planOf(charge: Record<string, unknown>, extra: Record<string, unknown> = {}): Plan {
  return parsePlan({ id: 'p', name: 'P', currency: 'USD', charges: [{ dimension: 'd', ...charge }], ...extra });
}

const totalOf = (plan: Plan, quantity: bigint) => rateUsage(plan, { d: quantity }, MARCH).totalMinor;

describe('rating properties', () => {
  it('graduated total never decreases as usage grows (numRuns 500)', () => {
    fc.assert(
      fc.property(tiersArb, freeArb, quantityArb, quantityArb, (tiers, freeAllowance, a, b) => {
        const plan = planOf({ kind: 'graduated', tiers, freeAllowance });
        const [low, high] = a <= b ? [a, b] : [b, a];
        expect(totalOf(plan, low) <= totalOf(plan, high)).toBe(true);
        expect(totalOf(plan, high) <= totalOf(plan, high + 1n)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('graduated tier quantities add up to the billable quantity (numRuns 300)', () => {
    fc.assert(
      fc.property(tiersArb, freeArb, quantityArb, (tiers, freeAllowance, quantity) => {
        const invoice = rateUsage(planOf({ kind: 'graduated', tiers, freeAllowance }), { d: quantity }, MARCH);
        const billable = quantity > freeAllowance ? quantity - freeAllowance : 0n;
        const tierLines = invoice.lines.filter((l) => l.kind === 'graduated_tier');
        expect(tierLines.reduce((sum, l) => sum + l.quantity, 0n)).toBe(billable);
      }),
      { numRuns: 300 },
    );
  });

  it('volume total equals the single reached tier price × quantity (numRuns 500)', () => {
    fc.assert(
      fc.property(tiersArb, quantityArb, (tiers, quantity) => {
        const tier = tiers.find((t) => t.upTo === null || quantity <= t.upTo)!;
        const total = totalOf(planOf({ kind: 'volume', tiers }), quantity);
        expect(total).toBe(roundHalfUp(quantity * tier.price.amountMinor, tier.price.per));
        const wholePrices = tiers.map((t) => ({ upTo: t.upTo, price: t.price.amountMinor }));
        expect(totalOf(planOf({ kind: 'volume', tiers: wholePrices }), quantity)).toBe(tier.price.amountMinor * quantity);
      }),
      { numRuns: 500 },
    );
  });

  it('package amount is ceil(billable / N) × price (numRuns 500)', () => {
    fc.assert(
      fc.property(fc.bigInt(1n, 10n ** 6n), fc.bigInt(0n, 10n ** 6n), freeArb, quantityArb, (packageSize, priceMinor, freeAllowance, quantity) => {
        const billable = quantity > freeAllowance ? quantity - freeAllowance : 0n;
        const total = totalOf(planOf({ kind: 'package', packageSize, priceMinor, freeAllowance }), quantity);
        expect(total).toBe(ceilDiv(billable, packageSize) * priceMinor);
      }),
      { numRuns: 500 },
    );
  });

  const spanArb = fc.record(
    {
      start: fc.integer({ min: MARCH.start - 10 * 86_400_000, max: MARCH.end + 86_400_000 }),
      end: fc.integer({ min: MARCH.start - 86_400_000, max: MARCH.end + 10 * 86_400_000 }),
    },
    { requiredKeys: [] },
  );

  it('total is at least the prorated minimum and equals max(subtotal, minimum) (numRuns 300)', () => {
    fc.assert(
      fc.property(chargeArb, quantityArb, fc.bigInt(0n, 10n ** 9n), fc.bigInt(0n, 10n ** 12n), spanArb, (charge, quantity, flatFeeMinor, minimumCommitmentMinor, span) => {
        const invoice = rateUsage(planOf(charge, { flatFeeMinor, minimumCommitmentMinor }), { d: quantity }, MARCH, span);
        const minimum = prorate(minimumCommitmentMinor, coveredFraction(MARCH, span));
        expect(invoice.totalMinor >= minimum).toBe(true);
        expect(invoice.totalMinor).toBe(invoice.subtotalMinor > minimum ? invoice.subtotalMinor : minimum);
        expect(invoice.subtotalMinor).toBe(invoice.lines.reduce((sum, l) => sum + l.amountMinor, 0n));
        expect(invoice.totalMinor).toBe(invoice.subtotalMinor + invoice.minimumTopUpMinor);
      }),
      { numRuns: 300 },
    );
  });

  it('all amounts are non-negative bigints (numRuns 300)', () => {
    fc.assert(
      fc.property(fc.array(chargeArb, { minLength: 1, maxLength: 4 }), fc.array(quantityArb, { minLength: 4, maxLength: 4 }), fc.bigInt(0n, 10n ** 9n), spanArb, (charges, quantities, flatFeeMinor, span) => {
        const plan = parsePlan({ id: 'p', name: 'P', currency: 'EUR', flatFeeMinor, minimumCommitmentMinor: 10n ** 6n, charges: charges.map((c, i) => ({ ...c, dimension: `d${i}` })) });
        const usage = Object.fromEntries(charges.map((_, i) => [`d${i}`, quantities[i]]));
        const invoice = rateUsage(plan, usage, MARCH, span);
        const amounts = [...invoice.lines.map((l) => l.amountMinor), ...invoice.lines.map((l) => l.quantity), invoice.subtotalMinor, invoice.minimumTopUpMinor, invoice.totalMinor];
        for (const amount of amounts) {
          expect(typeof amount).toBe('bigint');
          expect(amount >= 0n).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
