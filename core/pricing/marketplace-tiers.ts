import { ceilDiv, formatMinor, priceOf, type UnitPrice } from './money';
import type { Charge, Tier } from './plan-schema';

/**
 * Tiered plans on AWS Marketplace, which only knows per-unit dimensions (every record's quantity ×
 * the dimension's price, summed over the month).
 *
 * A charge is compiled into listing dimensions, each metering a fixed RANGE of the tenant's running
 * total of usage in the billing period (the UTC calendar month): tier 2 of a graduated charge with
 * tiers up to 1,000 and up to 10,000 meters the units numbered 1,001…10,000 of the month. Each hour's
 * usage is then split by the running total before it ({@link splitByTiers}): the part of
 * `(runningTotal, runningTotal + quantity]` that falls in a dimension's range goes to that dimension.
 *
 * Exactness. Every dimension has a cumulative meter `F(R)` — what it has metered once the running
 * total is `R`, never decreasing, `F(0) = 0` — and an hour sends `F(R + q) − F(R)`. Over any sequence
 * of hours the quantities sent telescope to `F(Q)` for the month's total `Q`, whatever the hours
 * were, and `unitPrice × F(Q)` is exactly the amount `rateCharge` gives that tier for `Q`:
 * - `units` meter: `F(R)` = units of `R` in the range; the unit price is a whole number of minor
 *   units, so the amount needs no rounding and equals `rateCharge`'s tier line.
 * - `charge` meter (opt-in, for prices that are not a whole number of minor units per unit, e.g.
 *   1 cent per 1,000 requests): `F(R)` = the range's amount for `R`, rounded half up to minor units —
 *   exactly `rateCharge`'s line — and the dimension is priced at one minor unit. Marketplace then
 *   shows money (cents), not usage, as the quantity of that dimension.
 * - `packages` meter (package charges): `F(R)` = packages started above the free allowance,
 *   `⌈(R − free) / size⌉`, priced at the package price.
 *
 * The free allowance is a leading range that belongs to no dimension and is never sent (decision:
 * rating prices it at zero and names no tier for it; a zero-priced listing dimension would take one
 * of the listing's few dimensions and only show free units to the buyer — our own usage reports do).
 *
 * Refused (a clear {@link TierCompileError}): volume charges — the whole quantity re-prices at the
 * tier it reaches, so the month's amount can go DOWN when usage crosses into a cheaper tier, and a
 * Marketplace record can never take money back; and, unless opted into the `charge` meter, prices that
 * are not a whole number of minor units per unit — Marketplace would multiply exactly and round only
 * the invoice, while rating rounds each tier line half up, so the two could differ by up to half a
 * minor unit per tier.
 */

/** How a compiled dimension turns the running total into Marketplace quantity (see the module comment). */
export type TierMeter = 'units' | 'charge' | 'packages';

/** One listing dimension of a compiled charge. */
export interface CompiledTier {
  /** The listing dimension's API name (what BatchMeterUsage records name). */
  readonly listingDimension: string;
  /** Which tier of the charge this is, from 1 (per-unit and package charges have one). */
  readonly tier: number;
  /**
   * The units of the period's running total this dimension meters: those after `from` (exclusive) up
   * to and including `upTo` (`null`: no upper bound). The free allowance lies below the first `from`.
   */
  readonly from: bigint;
  readonly upTo: bigint | null;
  readonly meter: TierMeter;
  /** The plan's price of one usage unit in this range (`units` and `charge` meters). */
  readonly price: UnitPrice;
  /** Package size (`packages` meter only; 1 otherwise). */
  readonly packageSize: bigint;
  /** The price of ONE Marketplace unit of this dimension, in the plan's minor units: what the listing must say. */
  readonly unitPriceMinor: bigint;
}

/** A charge compiled into listing dimensions. */
export interface CompiledCharge {
  /** The application dimension the charge prices. */
  readonly dimension: string;
  readonly kind: 'per_unit' | 'graduated' | 'package';
  /** Units per period that are free: never sent. */
  readonly freeAllowance: bigint;
  /** The listing dimensions, in tier order; their ranges follow each other without gap or overlap. */
  readonly tiers: readonly CompiledTier[];
}

/** What to do with a price that is not a whole number of minor units per unit. */
export type FractionalPrices = 'refuse' | 'meter-charge';

export interface CompileOptions {
  /** @default 'refuse' */
  readonly fractionalPrices?: FractionalPrices;
}

/** A charge Marketplace's per-unit dimensions cannot bill exactly, or names that do not fit it. */
export class TierCompileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TierCompileError';
  }
}

/** The price of ONE unit in minor units when it is a whole number of them, else `undefined`. */
function wholeMinorUnitPrice(price: UnitPrice): bigint | undefined {
  return price.amountMinor % price.per === 0n ? price.amountMinor / price.per : undefined;
}

function describePrice(price: UnitPrice): string {
  return `${price.amountMinor} minor unit${price.amountMinor === 1n ? '' : 's'} per ${price.per} units`;
}

/**
 * Compiles one charge of a plan into listing dimensions, one per name in `tierDimensionNames`:
 * a graduated charge gives one dimension per tier (as many names as tiers), a per-unit charge and a
 * package charge one dimension. Throws {@link TierCompileError} for what per-unit dimensions cannot
 * bill exactly (see the module comment) or when the names do not fit.
 */
export function compileTieredDimension(charge: Charge, tierDimensionNames: readonly string[], options: CompileOptions = {}): CompiledCharge {
  const fractional = options.fractionalPrices ?? 'refuse';
  const { dimension, freeAllowance } = charge;
  const duplicate = tierDimensionNames.find((name, index) => tierDimensionNames.indexOf(name) !== index);
  if (duplicate !== undefined) throw new TierCompileError(`listing dimension "${duplicate}" is named twice for "${dimension}": every tier needs a dimension of its own`);

  const expect = (count: number, what: string) => {
    if (tierDimensionNames.length !== count) {
      throw new TierCompileError(`"${dimension}" is a ${what} and needs ${count} listing dimension${count === 1 ? '' : 's'}, got ${tierDimensionNames.length} (${tierDimensionNames.join(', ') || 'none'})`);
    }
  };
  const priced = (tier: number, price: UnitPrice, from: bigint, upTo: bigint | null, listingDimension: string): CompiledTier => {
    const whole = wholeMinorUnitPrice(price);
    if (whole !== undefined) return { listingDimension, tier, from, upTo, meter: 'units', price, packageSize: 1n, unitPriceMinor: whole };
    if (fractional === 'meter-charge') return { listingDimension, tier, from, upTo, meter: 'charge', price, packageSize: 1n, unitPriceMinor: 1n };
    throw new TierCompileError(
      `tier ${tier} of "${dimension}" costs ${describePrice(price)}, not a whole number of minor units per unit: Marketplace multiplies each ` +
        'record\'s quantity by the unit price and rounds only the invoice, while rating rounds each tier\'s amount half up, so the totals ' +
        'could differ. Write the price as a whole number of minor units per unit (a plan may use up to 4 minor-unit digits; Marketplace ' +
        'takes prices with up to 8 decimals), or set "fractionalPrices": "meter-charge" to meter the tier as its charge in minor units ' +
        '(exact; the dimension is then priced at one minor unit and its quantity is money, not usage)',
    );
  };

  switch (charge.kind) {
    case 'per_unit':
      expect(1, 'per-unit charge');
      return { dimension, kind: 'per_unit', freeAllowance, tiers: [priced(1, charge.price, freeAllowance, null, tierDimensionNames[0])] };
    case 'graduated': {
      expect(charge.tiers.length, `graduated charge of ${charge.tiers.length} tier${charge.tiers.length === 1 ? '' : 's'}`);
      const tiers = charge.tiers.map((t: Tier, index) => {
        const start = index === 0 ? 0n : (charge.tiers[index - 1].upTo as bigint);
        return priced(index + 1, t.price, freeAllowance + start, t.upTo === null ? null : freeAllowance + t.upTo, tierDimensionNames[index]);
      });
      return { dimension, kind: 'graduated', freeAllowance, tiers };
    }
    case 'package':
      expect(1, 'package charge');
      return {
        dimension,
        kind: 'package',
        freeAllowance,
        tiers: [{ listingDimension: tierDimensionNames[0], tier: 1, from: freeAllowance, upTo: null, meter: 'packages', price: { amountMinor: charge.priceMinor, per: charge.packageSize }, packageSize: charge.packageSize, unitPriceMinor: charge.priceMinor }],
      };
    case 'volume':
      throw new TierCompileError(
        `"${dimension}" is a volume charge, which Marketplace per-unit dimensions cannot bill: the whole quantity is re-priced at the tier ` +
          'it reaches, so the month\'s amount goes down when usage crosses into a cheaper tier, and a Marketplace record can only add ' +
          'charges, never take them back. Use a graduated charge, or map the dimension to null (not billed through Marketplace)',
      );
  }
}

/** Units of `runningTotal` that fall in the tier's range. */
function unitsIn(tier: CompiledTier, runningTotal: bigint): bigint {
  if (runningTotal <= tier.from) return 0n;
  const end = tier.upTo !== null && runningTotal > tier.upTo ? tier.upTo : runningTotal;
  return end - tier.from;
}

/**
 * What the dimension has metered in total once the period's running total is `runningTotal`: never
 * decreasing, 0 at 0. `unitPriceMinor × meteredThrough(tier, Q)` is the tier's amount for `Q`.
 */
export function meteredThrough(tier: CompiledTier, runningTotal: bigint): bigint {
  const units = unitsIn(tier, runningTotal);
  switch (tier.meter) {
    case 'units':
      return units;
    case 'charge':
      return priceOf(units, tier.price);
    case 'packages':
      return ceilDiv(units, tier.packageSize);
  }
}

/**
 * Splits one hour's `quantity` by the period's running total before it: the Marketplace quantity of
 * each compiled dimension (same order as `tiers`). For ANY sequence of hourly quantities of a period,
 * each split with the running total of the hours before it, `Σ hours Σ tiers quantity × unitPriceMinor`
 * equals the charge's rated amount for the period's total exactly.
 */
export function splitByTiers(tiers: readonly CompiledTier[], runningTotalBefore: bigint, quantity: bigint): bigint[] {
  if (runningTotalBefore < 0n || quantity < 0n) throw new RangeError(`running total and quantity must not be negative (got ${runningTotalBefore} and ${quantity})`);
  const after = runningTotalBefore + quantity;
  return tiers.map((tier) => meteredThrough(tier, after) - meteredThrough(tier, runningTotalBefore));
}

/**
 * The dimension that would bill the next unit after `runningTotal` (the first one for usage still in
 * the free allowance): where an hour without billable quantity sends its zero-quantity record.
 */
export function currentTierIndex(tiers: readonly CompiledTier[], runningTotal: bigint): number {
  const index = tiers.findIndex((t) => t.upTo === null || runningTotal < t.upTo);
  return index === -1 ? tiers.length - 1 : index;
}

/** What Marketplace bills, in minor units, for the quantities of one split (or of a whole ledger). */
export function amountOfSplit(tiers: readonly CompiledTier[], quantities: readonly bigint[]): bigint {
  return tiers.reduce((sum, tier, index) => sum + tier.unitPriceMinor * (quantities[index] ?? 0n), 0n);
}

/** One row of the table the operator enters in the AWS Marketplace Management Portal. */
export interface ListingDimensionRow {
  readonly apiName: string;
  /** Price per Marketplace unit as a decimal amount, e.g. `0.0500`. */
  readonly price: string;
  readonly currency: string;
  /** A description for buyers: what one unit is and which usage it covers. */
  readonly description: string;
}

function rangeText(tier: CompiledTier): string {
  return tier.upTo === null ? `above ${tier.from}` : `${tier.from + 1n}-${tier.upTo}`;
}

/**
 * The listing dimensions a compiled charge needs, as the operator enters them (API name, price,
 * description). Prices are in the plan's currency; Marketplace lists in US dollars.
 */
export function listingDimensionRows(compiled: CompiledCharge, money: { readonly currency: string; readonly minorUnitDigits: number }): ListingDimensionRow[] {
  return compiled.tiers.map((tier) => {
    const amount = formatMinor(tier.unitPriceMinor, money.minorUnitDigits, money.currency).split(' ')[0];
    const free = compiled.freeAllowance > 0n && tier.tier === 1 ? ` (the first ${compiled.freeAllowance} units of the month are free)` : '';
    const description = {
      units: `${compiled.dimension}, units ${rangeText(tier)} of the month${free}: per unit`,
      charge: `${compiled.dimension}, units ${rangeText(tier)} of the month${free}, at ${describePrice(tier.price)}: quantity is the charge in minor units`,
      packages: `${compiled.dimension}: per started package of ${tier.packageSize} units in the month${free}`,
    }[tier.meter];
    return { apiName: tier.listingDimension, price: amount, currency: money.currency, description };
  });
}
