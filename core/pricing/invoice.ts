import type { Fraction } from './money';
import { assertPeriod, monthOf, type Period, type SubscriptionSpan } from './periods';
import type { Plan } from './plan-schema';
import { rateUsage, RatingError, type RatedLine, type UnpricedUsage } from './rating';

/**
 * Invoice preview: one tenant's usage hours of one period, rated under its plan. Pure: the
 * measurements, the plan and the generation time are passed in; nothing is read from a clock, a file
 * or an engine.
 *
 * - Usage per dimension is the exact (bigint) sum of the tenant's hourly quantities whose hour starts
 *   inside the period `[start, end)`. Other tenants' measurements and hours outside the period are
 *   ignored, so a caller may pass everything it measured.
 * - Usage of a dimension the plan does not price is listed as unpriced (quantity, amount 0) with a
 *   warning, never charged and never dropped (`rateUsage` with `unpriced: 'report'`).
 * - Amounts follow `rateUsage`: bigint minor units, each line rounded half up, the flat fee and the
 *   minimum commitment prorated by the share of the period the subscription covered.
 */

/** One hourly quantity of one tenant and dimension (a `Measurement` of `measureUsage`). */
export interface UsageHour {
  readonly tenantId: string;
  readonly dimension: string;
  /** Start of the hour, epoch ms. */
  readonly hour: number;
  /** A non-negative integer (safe integer or bigint). */
  readonly quantity: number | bigint;
}

export interface InvoicePreviewInput {
  readonly tenantId: string;
  readonly plan: Plan;
  /** The billing period, `[start, end)` epoch ms (a UTC calendar month for `npm run invoice`). */
  readonly period: Period;
  /** When the subscription ran; absent bounds are open (the whole period is covered). */
  readonly subscription?: SubscriptionSpan;
  /** Usage hours; only the tenant's, inside the period, count. */
  readonly measurements: readonly UsageHour[];
  /** When the preview is made, epoch ms (shown, and compared with the period's end). */
  readonly generatedAt: number;
}

/** The period's usage of one dimension by the tenant. */
export interface DimensionUsage {
  readonly dimension: string;
  /** Sum of the hourly quantities in the period. */
  readonly quantity: bigint;
  /** Hours of the period with a measurement of this dimension. */
  readonly hours: number;
  /** Whether the plan has a charge for the dimension. */
  readonly priced: boolean;
}

export interface InvoicePreview {
  readonly tenantId: string;
  readonly plan: { readonly id: string; readonly name: string };
  readonly currency: string;
  readonly minorUnitDigits: number;
  /** ISO 8601 UTC times: `start` inclusive, `end` exclusive; `month` (`2026-11`) when the period is one UTC calendar month. */
  readonly period: { readonly start: string; readonly end: string; readonly month?: string };
  /** The subscription's bounds that were given, ISO 8601 UTC. */
  readonly subscription: { readonly start?: string; readonly end?: string };
  /** The share of the period the subscription covered, in lowest terms (1/1 for the whole period). */
  readonly proration: Fraction;
  /** Usage per dimension: the plan's dimensions in its order (zero when unused), then unpriced ones by name. */
  readonly usage: readonly DimensionUsage[];
  readonly lines: readonly RatedLine[];
  /** Sum of the lines. */
  readonly subtotalMinor: bigint;
  /** The plan's minimum commitment, prorated. */
  readonly minimumMinor: bigint;
  /** Added so the total reaches {@link minimumMinor}. */
  readonly minimumTopUpMinor: bigint;
  readonly totalMinor: bigint;
  /** Usage the plan does not price: listed, amount 0, not in the totals. */
  readonly unpriced: readonly UnpricedUsage[];
  /** Things the reader must know: unpriced usage, a period not yet over, no overlap with the subscription. */
  readonly warnings: readonly string[];
  /** ISO 8601 UTC. */
  readonly generatedAt: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

function quantityOf(hour: UsageHour): bigint {
  const { quantity } = hour;
  if (typeof quantity === 'bigint' ? quantity < 0n : !(Number.isSafeInteger(quantity) && quantity >= 0)) {
    throw new RatingError(`usage of ${hour.dimension} at ${Number.isFinite(hour.hour) ? iso(hour.hour) : hour.hour} is not a non-negative integer: ${quantity}`);
  }
  return BigInt(quantity);
}

/** Sums the tenant's hourly quantities per dimension over the period; a repeated tenant × dimension × hour is an error. */
function sumUsage(tenantId: string, period: Period, measurements: readonly UsageHour[]): Map<string, { quantity: bigint; hours: Set<number> }> {
  const totals = new Map<string, { quantity: bigint; hours: Set<number> }>();
  for (const measurement of measurements) {
    if (measurement.tenantId !== tenantId) continue;
    if (!Number.isSafeInteger(measurement.hour)) throw new RatingError(`usage of ${measurement.dimension} has no valid hour: ${measurement.hour}`);
    if (measurement.hour < period.start || measurement.hour >= period.end) continue;
    const quantity = quantityOf(measurement);
    let total = totals.get(measurement.dimension);
    if (total === undefined) {
      total = { quantity: 0n, hours: new Set() };
      totals.set(measurement.dimension, total);
    }
    // Each tenant × dimension × hour is measured once; a second one would be counted twice.
    if (total.hours.has(measurement.hour)) throw new RatingError(`usage of ${measurement.dimension} at ${iso(measurement.hour)} is given twice for tenant ${tenantId}`);
    total.hours.add(measurement.hour);
    total.quantity += quantity;
  }
  return totals;
}

function isCalendarMonth(period: Period): boolean {
  const month = monthOf(period.start);
  return month.start === period.start && month.end === period.end;
}

/** Builds the invoice preview of one tenant and period (see the module comment). */
export function buildInvoicePreview(input: InvoicePreviewInput): InvoicePreview {
  const { tenantId, plan, period, subscription = {}, generatedAt } = input;
  if (tenantId === '') throw new RatingError('the tenant id is empty');
  assertPeriod(period);
  if (!Number.isSafeInteger(generatedAt)) throw new RangeError(`generatedAt is not a time: ${generatedAt}`);
  for (const bound of ['start', 'end'] as const) {
    const value = subscription[bound];
    if (value !== undefined && !Number.isSafeInteger(value)) throw new RangeError(`subscription ${bound} is not a time: ${value}`);
  }
  const totals = sumUsage(tenantId, period, input.measurements);
  const usageByDimension = Object.fromEntries([...totals].map(([dimension, total]) => [dimension, total.quantity]));
  const rated = rateUsage(plan, usageByDimension, period, subscription, { unpriced: 'report' });

  const usageOf = (dimension: string, priced: boolean): DimensionUsage => {
    const total = totals.get(dimension);
    return { dimension, quantity: total?.quantity ?? 0n, hours: total?.hours.size ?? 0, priced };
  };
  const usage = [...plan.charges.map((c) => usageOf(c.dimension, true)), ...rated.unpriced.map((u) => usageOf(u.dimension, false))];

  const warnings = rated.unpriced.map(
    (u) => `Usage of ${u.dimension} (${u.quantity} units) is not priced by plan ${plan.id}: listed as unpriced and not charged.`,
  );
  if (generatedAt < period.end) warnings.push(`The period has not ended (preview generated ${iso(generatedAt)}): usage so far only.`);
  if (rated.share.numerator === 0n) warnings.push('The subscription did not cover any of the period: no flat fee or minimum commitment.');

  return {
    tenantId,
    plan: { id: plan.id, name: plan.name },
    currency: plan.currency,
    minorUnitDigits: plan.minorUnitDigits,
    period: { start: iso(period.start), end: iso(period.end), ...(isCalendarMonth(period) ? { month: iso(period.start).slice(0, 7) } : {}) },
    subscription: {
      ...(subscription.start === undefined ? {} : { start: iso(subscription.start) }),
      ...(subscription.end === undefined ? {} : { end: iso(subscription.end) }),
    },
    proration: rated.share,
    usage,
    lines: rated.lines,
    subtotalMinor: rated.subtotalMinor,
    minimumMinor: rated.minimumMinor,
    minimumTopUpMinor: rated.minimumTopUpMinor,
    totalMinor: rated.totalMinor,
    unpriced: rated.unpriced,
    warnings,
    generatedAt: iso(generatedAt),
  };
}
