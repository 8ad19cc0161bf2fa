import { rateCharge, type RatedLine } from './charges';
import { formatMinor, prorate } from './money';
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
 */

export type { RatedLine, LineKind } from './charges';

/** The rated invoice of one plan and period. */
export interface RatedInvoice {
  readonly lines: readonly RatedLine[];
  readonly subtotalMinor: bigint;
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
 * Every dimension the plan prices gets lines (zero usage included); usage of a dimension the plan
 * does not price is an error rather than silently free.
 */
export function rateUsage(
  plan: Plan,
  usageByDimension: Readonly<Record<string, bigint | number>>,
  period: Period,
  subscription: SubscriptionSpan = {},
): RatedInvoice {
  const share = coveredFraction(period, subscription);
  const money = { currency: plan.currency, minorUnitDigits: plan.minorUnitDigits };
  const priced = new Set(plan.charges.map((c) => c.dimension));
  for (const dimension of Object.keys(usageByDimension)) {
    if (!priced.has(dimension)) throw new RatingError(`plan ${plan.id} does not price dimension "${dimension}"`);
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
  return { lines, subtotalMinor, minimumTopUpMinor, totalMinor: subtotalMinor + minimumTopUpMinor, currency: plan.currency };
}
