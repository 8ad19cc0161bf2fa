import { z } from 'zod';
import { minorUnitDigitsOf } from './currency';
import { DIMENSION_NAME } from '../identifiers';
import { ownField, reservedKeyProblems } from '../reserved-keys';

/**
 * The pricing configuration: plans, each with a currency, an optional flat fee and minimum
 * commitment per period, and one charge per billed dimension.
 *
 * Representation (exact integer arithmetic, `bigint` after parsing):
 * - Amounts are integer minor units (cents for USD, yen for JPY). In JSON they are non-negative
 *   integers, or decimal strings for values beyond 2^53.
 * - A price is `amountMinor` per `per` units, written either as a bare amount (per 1 unit) or as
 *   `{ "amountMinor": 1, "per": 1000 }` (1 minor unit per 1,000 units). Sub-minor prices thus stay
 *   exact; a line's amount is rounded once, half up.
 * - Tiers (`graduated`, `volume`) have an INCLUSIVE `upTo`: a tier covers the units after the
 *   previous tier's `upTo` up to and including its own. `upTo` values ascend strictly and the last
 *   tier is open (`upTo: null`).
 * - `freeAllowance` units per period are deducted from a dimension's quantity before pricing.
 *
 * Plan assignment: `defaultPlan` names the plan of every tenant not listed in `tenantPlans`
 * (tenant id → plan id). Both must name plans of the file; an unknown id is a problem naming it.
 */

const PLAN_ID = /^[a-z][a-z0-9_-]{0,63}$/;

/** A non-negative integer: a safe JSON number, a decimal string or a bigint. */
const integer = z
  .union([z.number(), z.string(), z.bigint()], { error: 'must be a non-negative integer (number, decimal string or bigint)' })
  .transform((value, context) => {
    if (typeof value === 'number' && !(Number.isSafeInteger(value) && value >= 0)) {
      context.addIssue({ code: 'custom', message: `must be a non-negative safe integer, got ${value} (write larger values as a decimal string)` });
      return z.NEVER;
    }
    if (typeof value === 'string' && !/^(0|[1-9][0-9]*)$/.test(value)) {
      context.addIssue({ code: 'custom', message: `must be a non-negative decimal integer, got "${value}"` });
      return z.NEVER;
    }
    if (typeof value === 'bigint' && value < 0n) {
      context.addIssue({ code: 'custom', message: `must not be negative, got ${value}` });
      return z.NEVER;
    }
    return BigInt(value);
  });

const positiveInteger = integer.refine((value) => value > 0n, { message: 'must be positive' });

/** A bare amount (per 1 unit) or `{ amountMinor, per }`; a bare amount's problems are reported at `price.amountMinor`. */
const price = z.preprocess(
  (value) => (typeof value === 'object' && value !== null ? value : { amountMinor: value }),
  z.object({ amountMinor: integer, per: positiveInteger.default(1n) }).strict(),
);

const tier = z.object({ upTo: positiveInteger.nullable(), price }).strict();

const tiers = z
  .array(tier)
  .min(1)
  .superRefine((list, context) => {
    list.forEach((t, index) => {
      const last = index === list.length - 1;
      if (last && t.upTo !== null) context.addIssue({ code: 'custom', path: [index, 'upTo'], message: 'the last tier must be open (upTo: null)' });
      if (!last && t.upTo === null) context.addIssue({ code: 'custom', path: [index, 'upTo'], message: 'only the last tier may be open (upTo: null)' });
      const previous = index > 0 ? list[index - 1].upTo : null;
      if (t.upTo !== null && previous !== null && t.upTo <= previous) {
        context.addIssue({ code: 'custom', path: [index, 'upTo'], message: `must be greater than the previous tier's upTo (${previous})` });
      }
    });
  });

const base = {
  dimension: z.string().regex(DIMENSION_NAME, 'must be 1-64 lowercase letters, digits or _, starting with a letter'),
  description: z.string().max(256).optional(),
  /** Units free per period, deducted before pricing. */
  freeAllowance: integer.default(0n),
};

const charge = z.discriminatedUnion('kind', [
  /** Every unit at one price. */
  z.object({ ...base, kind: z.literal('per_unit'), price }).strict(),
  /** Each unit priced at the tier it falls in. */
  z.object({ ...base, kind: z.literal('graduated'), tiers }).strict(),
  /** The whole quantity priced at the tier the quantity reaches. */
  z.object({ ...base, kind: z.literal('volume'), tiers }).strict(),
  /** `priceMinor` per started package of `packageSize` units. */
  z.object({ ...base, kind: z.literal('package'), packageSize: positiveInteger, priceMinor: integer }).strict(),
]);

const plan = z
  .object({
    id: z.string().regex(PLAN_ID, 'must be 1-64 lowercase letters, digits, _ or -, starting with a letter'),
    name: z.string().min(1).max(128),
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code of three capital letters'),
    /** Digits of the minor unit; derived from the currency when omitted (USD 2, JPY 0). */
    minorUnitDigits: z.number().int().min(0).max(4).optional(),
    /** Charged per period, prorated by the share of the period the subscription covered. */
    flatFeeMinor: integer.default(0n),
    /** Floor on the period's total, prorated like the flat fee. */
    minimumCommitmentMinor: integer.default(0n),
    charges: z.array(charge),
  })
  .strict()
  .superRefine((p, context) => {
    const seen = new Set<string>();
    p.charges.forEach((c, index) => {
      if (seen.has(c.dimension)) context.addIssue({ code: 'custom', path: ['charges', index, 'dimension'], message: `duplicate dimension "${c.dimension}"` });
      seen.add(c.dimension);
    });
  })
  .transform((p) => ({ ...p, minorUnitDigits: p.minorUnitDigits ?? minorUnitDigitsOf(p.currency) }));

const planId = z.string({ error: 'must be a plan id (text)' });

/** Tenant ids as they reach the lake: any non-empty text of at most 256 characters without control characters. */
// eslint-disable-next-line no-control-regex
const TENANT_ID = /^[^\u0000-\u001f\u007f]{1,256}$/;

/** Schema of the whole pricing configuration (`{ plans: [...], defaultPlan, tenantPlans? }`). */
export const pricingConfigSchema = z
  .object({
    plans: z.array(plan).min(1),
    /** The plan of every tenant that `tenantPlans` does not list. */
    defaultPlan: planId,
    /** Tenant id → plan id, for tenants on another plan than `defaultPlan`. */
    tenantPlans: z.record(z.string(), planId).default({}),
  })
  .strict()
  .superRefine((config, context) => {
    const seen = new Set<string>();
    config.plans.forEach((p, index) => {
      if (seen.has(p.id)) context.addIssue({ code: 'custom', path: ['plans', index, 'id'], message: `duplicate plan id "${p.id}"` });
      seen.add(p.id);
    });
    const known = `plans: ${[...seen].join(', ')}`;
    if (!seen.has(config.defaultPlan)) context.addIssue({ code: 'custom', path: ['defaultPlan'], message: `unknown plan "${config.defaultPlan}" (${known})` });
    for (const [tenantId, id] of Object.entries(config.tenantPlans)) {
      if (!TENANT_ID.test(tenantId)) context.addIssue({ code: 'custom', path: ['tenantPlans', tenantId], message: 'the tenant id must be 1-256 characters without control characters' });
      if (!seen.has(id)) context.addIssue({ code: 'custom', path: ['tenantPlans', tenantId], message: `unknown plan "${id}" (${known})` });
    }
  });

/** Schema of one plan, for callers that hold a single plan. */
export const planSchema = plan;

/** A validated pricing configuration (amounts as bigint). */
export type PricingConfig = z.output<typeof pricingConfigSchema>;
/** A validated plan. */
export type Plan = z.output<typeof plan>;
/** One validated per-dimension charge. */
export type Charge = Plan['charges'][number];
/** One validated tier of a graduated or volume charge. */
export type Tier = z.output<typeof tier>;
/** A pricing configuration as written in JSON. */
export type PricingConfigInput = z.input<typeof pricingConfigSchema>;

/** A pricing configuration that failed validation; the message lists every problem with its path. */
export class PricingConfigError extends Error {
  /** Each problem as `path: message`. */
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super(`Invalid pricing configuration (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PricingConfigError';
    this.problems = problems;
  }
}

function problemsOf(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`);
}

/** Validates a parsed pricing configuration; throws {@link PricingConfigError} naming every problem. */
export function parsePricingConfig(value: unknown, source = 'pricing configuration'): PricingConfig {
  const reserved = reservedKeyProblems(ownField(value, 'tenantPlans'), 'tenantPlans');
  const result = pricingConfigSchema.safeParse(value);
  if (!result.success || reserved.length > 0) throw new PricingConfigError(source, [...reserved, ...(result.success ? [] : problemsOf(result.error))]);
  return result.data;
}

/** Validates one plan; throws {@link PricingConfigError} naming every problem. */
export function parsePlan(value: unknown, source = 'plan'): Plan {
  const result = plan.safeParse(value);
  if (!result.success) throw new PricingConfigError(source, problemsOf(result.error));
  return result.data;
}

/** No plan of the configuration has the id asked for. */
export class UnknownPlanError extends Error {
  constructor(
    readonly planId: string,
    readonly known: readonly string[],
  ) {
    super(`unknown plan "${planId}" (plans: ${known.join(', ')})`);
    this.name = 'UnknownPlanError';
  }
}

/** The plan with id `id`; throws {@link UnknownPlanError} naming the plans there are. */
export function planById(config: PricingConfig, id: string): Plan {
  const found = config.plans.find((p) => p.id === id);
  if (found === undefined) throw new UnknownPlanError(id, config.plans.map((p) => p.id));
  return found;
}

/** The plan a tenant is on: its `tenantPlans` entry, else `defaultPlan`. */
export function planOfTenant(config: PricingConfig, tenantId: string): Plan {
  return planById(config, Object.hasOwn(config.tenantPlans, tenantId) ? config.tenantPlans[tenantId] : config.defaultPlan);
}

/**
 * The problems of charges priced on dimensions that are not in `dimensionNames` (the billing
 * dimensions of the metering configuration), one per charge, as `path: message`. Such a charge could
 * never see usage: it is almost always a typo.
 */
export function unknownDimensionProblems(config: PricingConfig, dimensionNames: readonly string[]): string[] {
  const known = new Set(dimensionNames);
  const problems: string[] = [];
  config.plans.forEach((p, planIndex) => {
    p.charges.forEach((c, chargeIndex) => {
      if (!known.has(c.dimension)) {
        problems.push(`plans.${planIndex}.charges.${chargeIndex}.dimension: "${c.dimension}" (plan ${p.id}) is not a dimension of the metering configuration (dimensions: ${dimensionNames.join(', ')})`);
      }
    });
  });
  return problems;
}
