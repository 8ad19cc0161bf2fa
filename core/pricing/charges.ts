import { ceilDiv, formatMinor, formatPrice, priceOf } from './money';
import type { Charge, Tier } from './plan-schema';

/** The kinds of invoice line rating produces. */
export type LineKind = 'flat_fee' | 'free_allowance' | 'per_unit' | 'graduated_tier' | 'volume' | 'package';

/** One invoice line: `quantity` units (or 1 for a flat fee) costing `amountMinor` minor units. */
export interface RatedLine {
  readonly dimension?: string;
  readonly kind: LineKind;
  readonly description: string;
  readonly quantity: bigint;
  readonly amountMinor: bigint;
}

/** The currency a plan's amounts are described in. */
export interface Money {
  readonly currency: string;
  readonly minorUnitDigits: number;
}

/** The lower bound (exclusive) of each tier: 0 for the first, else the previous tier's `upTo`. */
function tierStart(tiers: readonly Tier[], index: number): bigint {
  return index === 0 ? 0n : (tiers[index - 1].upTo as bigint);
}

function range(tiers: readonly Tier[], index: number): string {
  const upTo = tiers[index].upTo;
  const from = tierStart(tiers, index) + 1n;
  return upTo === null ? `${from}+` : `${from}-${upTo}`;
}

/** The index of the tier containing `quantity` (inclusive `upTo`); 0 for zero quantity. */
export function tierIndexOf(tiers: readonly Tier[], quantity: bigint): number {
  const index = tiers.findIndex((t) => t.upTo === null || quantity <= t.upTo);
  return index === -1 ? tiers.length - 1 : index;
}

/**
 * The lines of one dimension's charge for `quantity` used units: a free-allowance line when the
 * charge has one, then the priced lines. Graduated charges give one line per tier reached (at
 * least the first), each rounded half up on its own.
 */
export function rateCharge(charge: Charge, quantity: bigint, money: Money): RatedLine[] {
  const { dimension } = charge;
  const free = quantity < charge.freeAllowance ? quantity : charge.freeAllowance;
  const billable = quantity - free;
  const lines: RatedLine[] = [];
  const fmt = (amount: bigint) => formatMinor(amount, money.minorUnitDigits, money.currency);
  if (charge.freeAllowance > 0n) {
    lines.push({ dimension, kind: 'free_allowance', description: `${dimension}: ${free} of ${charge.freeAllowance} free units used`, quantity: free, amountMinor: 0n });
  }
  switch (charge.kind) {
    case 'per_unit':
      lines.push({
        dimension,
        kind: 'per_unit',
        description: `${dimension}: ${billable} units at ${formatPrice(charge.price, money.minorUnitDigits, money.currency)}`,
        quantity: billable,
        amountMinor: priceOf(billable, charge.price),
      });
      break;
    case 'graduated': {
      const last = tierIndexOf(charge.tiers, billable);
      for (let index = 0; index <= last; index++) {
        const tier = charge.tiers[index];
        const start = tierStart(charge.tiers, index);
        const end = tier.upTo === null || billable < tier.upTo ? billable : tier.upTo;
        const inTier = end > start ? end - start : 0n;
        lines.push({
          dimension,
          kind: 'graduated_tier',
          description: `${dimension}: tier ${index + 1} (${range(charge.tiers, index)}), ${inTier} units at ${formatPrice(tier.price, money.minorUnitDigits, money.currency)}`,
          quantity: inTier,
          amountMinor: priceOf(inTier, tier.price),
        });
      }
      break;
    }
    case 'volume': {
      const index = tierIndexOf(charge.tiers, billable);
      const tier = charge.tiers[index];
      lines.push({
        dimension,
        kind: 'volume',
        description: `${dimension}: ${billable} units, all at tier ${index + 1} (${range(charge.tiers, index)}) ${formatPrice(tier.price, money.minorUnitDigits, money.currency)}`,
        quantity: billable,
        amountMinor: priceOf(billable, tier.price),
      });
      break;
    }
    case 'package': {
      const packages = ceilDiv(billable, charge.packageSize);
      lines.push({
        dimension,
        kind: 'package',
        description: `${dimension}: ${billable} units in ${packages} packages of ${charge.packageSize} at ${fmt(charge.priceMinor)}`,
        quantity: billable,
        amountMinor: packages * charge.priceMinor,
      });
      break;
    }
  }
  return lines;
}
