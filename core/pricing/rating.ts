import { rateCharge, type RatedLine } from './charges';
import { formatMinor, prorate, type Fraction } from './money';
import { coveredFraction, type Period, type SubscriptionSpan } from './periods';
import type { Plan } from './plan-schema';

/**
 * Rating: turns one period's usage per dimension into an invoice under a plan.
 *
 * - All amounts are `bigint` minor units; arithmetic is exact.
 * - Each line is rounded once, half up, to whole minor units (graduated: each tier line).
 * - The flat fee and the minimum commitment are prorated by the exact share of the period the
 *   subscription covered (`coveredFraction`), each rounded half up. Free allowances and tiers
 *   are not prorated.
 * - `subtotalMinor` is the sum of the lines (flat fee included); `minimumTopUpMinor` raises it to
 *   the prorated minimum commitment; `totalMinor = subtotalMinor + minimumTopUpMinor`.
 * - Usage of a dimension the plan does not price throws, unless the caller asks for it to be
 *   reported as unpriced ({@link RateOptions.unpriced}); it is never charged silently or dropped.
 */

export type { RatedLine, LineKind } from './charges';

/** Usage of a dimension the plan has no charge for: listed, never charged. */
export interface UnpricedUsage {
  readonly dimension: string;
  readonly quantity: bigint;
  /** Always 0: nothing is charged for it (see {@link RateOptions.unpriced}). */
  readonly amountMinor: 0n;
}

/** How rating treats usage of a dimension the plan does not price. */
export interface RateOptions {
  /**
   * `'error'` (the default, strict): throw a {@link RatingError}. `'report'`: rate the priced
   * dimensions as usual and list the others in {@link RatedInvoice.unpriced} with their quantity and
   * an amount of 0.
   *
   * Decision: such usage is never silently free and never silently dropped. A caller that bills
   * (and would rather stop than under-charge) keeps the default and fixes the plan; an invoice
   * preview, which must always render, uses `'report'` and shows every unpriced dimension with a
   * warning, so the gap in the plan is visible to whoever reads it. Unpriced usage never changes the
   * subtotal, the minimum top-up or the total.
   * @default 'error'
   */
  readonly unpriced?: 'error' | 'report';
}

/** The rated invoice of one plan and period. */
export interface RatedInvoice {
  readonly lines: readonly RatedLine[];
  /** Usage of dimensions the plan does not price, by dimension name (only with `unpriced: 'report'`; else empty). */
  readonly unpriced: readonly UnpricedUsage[];
  readonly subtotalMinor: bigint;
  /** The share of the period the subscription covered (flat fee and minimum are prorated by it). */
  readonly share: Fraction;
  /** The minimum commitment for this period: the plan's, prorated by {@link share}. */
  readonly minimumMinor: bigint;
  /** What is added so the total reaches the prorated minimum commitment (0 when reached). */
  readonly minimumTopUpMinor: bigint;
  readonly totalMinor: bigint;
  readonly currency: string;
}

/** Usage that cannot be rated: a negative or non-integer quantity, or a dimension the plan does not price. */
export class RatingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RatingError';
  }
}

function toQuantity(dimension: string, value: bigint | number): bigint {
  if (typeof value === 'bigint') {
    if (value < 0n) throw new RatingError(`quantity of ${dimension} is negative: ${value}`);
    return value;
  }
  if (!Number.isSafeInteger(value) || value < 0) throw new RatingError(`quantity of ${dimension} is not a non-negative safe integer: ${value}`);
  return BigInt(value);
}

/**
 * Rates `usageByDimension` (units per dimension over `period`) under `plan` for a subscription that
 * ran from `subscription.start` (inclusive) to `subscription.end` (exclusive), either bound open.
 * Every dimension the plan prices gets lines (zero usage included). Usage of a dimension the plan
 * does not price is an error by default rather than silently free; with `{ unpriced: 'report' }` it
 * is listed in `unpriced` instead (see {@link RateOptions.unpriced}). Every quantity is checked in
 * both modes.
 */
export function rateUsage(
  plan: Plan,
  usageByDimension: Readonly<Record<string, bigint | number>>,
  period: Period,
  subscription: SubscriptionSpan = {},
  options: RateOptions = {},
): RatedInvoice {
  const share = coveredFraction(period, subscription);
  const money = { currency: plan.currency, minorUnitDigits: plan.minorUnitDigits };
  const priced = new Set(plan.charges.map((c) => c.dimension));
  const mode = options.unpriced ?? 'error';
  const unpriced: UnpricedUsage[] = [];
  for (const dimension of Object.keys(usageByDimension).sort()) {
    if (priced.has(dimension)) continue;
    if (mode === 'error') throw new RatingError(`plan ${plan.id} does not price dimension "${dimension}"`);
    unpriced.push({ dimension, quantity: toQuantity(dimension, usageByDimension[dimension]), amountMinor: 0n });
  }
  const lines: RatedLine[] = [];
  const prorated = share.numerator === share.denominator ? '' : ` (prorated ${share.numerator}/${share.denominator})`;
  if (plan.flatFeeMinor > 0n) {
    lines.push({
      kind: 'flat_fee',
      description: `Flat fee ${formatMinor(plan.flatFeeMinor, money.minorUnitDigits, money.currency)}${prorated}`,
      quantity: 1n,
      amountMinor: prorate(plan.flatFeeMinor, share),
    });
  }
  for (const charge of plan.charges) {
    const used = usageByDimension[charge.dimension];
    lines.push(...rateCharge(charge, used === undefined ? 0n : toQuantity(charge.dimension, used), money));
  }
  const subtotalMinor = lines.reduce((sum, line) => sum + line.amountMinor, 0n);
  const minimum = prorate(plan.minimumCommitmentMinor, share);
  const minimumTopUpMinor = minimum > subtotalMinor ? minimum - subtotalMinor : 0n;
  return { lines, unpriced, subtotalMinor, share, minimumMinor: minimum, minimumTopUpMinor, totalMinor: subtotalMinor + minimumTopUpMinor, currency: plan.currency };
}
