import { z } from 'zod';
import { ownField, reservedKeyProblems } from '../reserved-keys';
import { compileTieredDimension, TierCompileError, type CompiledCharge, type FractionalPrices } from '../pricing/marketplace-tiers';
import type { Plan } from '../pricing/plan-schema';
import { dimensionNamesOf, type MeteringConfig } from '../usage/metering-config';

/**
 * How usage reaches AWS Marketplace (`config/marketplace.json`): the product code, and for every
 * application dimension of `config/metering.json` one of
 * - the listing dimension (API name) it bills as, every unit of every hour sent as is;
 * - `null`: measured, but not billed through Marketplace;
 * - `{ "tiers": ["ApiRequestsTier1", …], "plan": "growth" }`: the plan's charge for the dimension
 *   (graduated: one listing dimension per tier; per-unit or package: one) compiled into per-unit
 *   listing dimensions, and each hour's usage split between them by the tenant's running total in the
 *   month (`core/pricing/marketplace-tiers.ts`, `docs/marketplace-tiers.md`). Optional
 *   `"fractionalPrices": "meter-charge"` meters a tier whose price is not a whole number of minor units
 *   per unit in minor units of charge instead of refusing it.
 *
 * A usage dimension missing from this map is an error that stays visible and is never sent
 * (Marketplace rejects the whole call for an unknown dimension). A listing dimension may be named only
 * once in the whole file: Marketplace keeps one record per customer, dimension and hour, so a second
 * application dimension sent under the same name would never be billed.
 */

const LISTING_DIMENSION = z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,99}$/, 'must be a listing dimension API name');

/** A dimension billed through per-tier listing dimensions (as written in JSON). */
export const tieredMappingSchema = z
  .object({
    tiers: z.array(LISTING_DIMENSION).min(1, 'must name at least one listing dimension'),
    plan: z.string().min(1, 'must name a plan of the pricing configuration'),
    fractionalPrices: z.enum(['refuse', 'meter-charge']).optional(),
  })
  .strict();

export type TieredMapping = z.infer<typeof tieredMappingSchema>;

/** One dimension's entry: a name, `null`, or a tiered mapping; each problem reported with its own message. */
const mappingSchema = z.unknown().transform((value, context): string | null | TieredMapping => {
  if (value === null) return null;
  const parsed = typeof value === 'string' ? LISTING_DIMENSION.safeParse(value) : typeof value === 'object' && !Array.isArray(value) ? tieredMappingSchema.safeParse(value) : undefined;
  if (parsed === undefined) {
    context.addIssue({ code: 'custom', message: 'must be a listing dimension API name, null, or { "tiers": [...], "plan": "..." }' });
    return z.NEVER;
  }
  if (!parsed.success) {
    for (const issue of parsed.error.issues) context.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    return z.NEVER;
  }
  return parsed.data;
});

export const listingConfigSchema = z
  .object({
    productCode: z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be the listing\'s product code'),
    dimensions: z.record(z.string(), mappingSchema),
  })
  .strict();

/** The configuration as validated. */
export type ListingConfig = z.output<typeof listingConfigSchema> & {
  /**
   * The tiered dimensions compiled against their plans (present when the pricing plans were given to
   * {@link parseListingConfig}). A tiered dimension without an entry here is never sent.
   */
  readonly compiled?: Readonly<Record<string, CompiledCharge>>;
};

export class ListingConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid Marketplace listing configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ListingConfigError';
    this.problems = problems;
  }
}

/** Marketplace prices listings in US dollars. */
const MARKETPLACE_CURRENCY = 'USD';

/**
 * Validates the listing configuration against the metering configuration's dimensions and, when
 * `plans` (the pricing configuration's plans) are given, compiles every tiered dimension against its
 * plan's charge: the plan and the charge must exist, the charge must be one Marketplace can bill exactly,
 * and the names must fit its tiers. Without `plans` (callers written before tiered mappings), tiered
 * entries are checked for shape only and stay uncompiled: metering holds their usage back, visibly.
 * Throws {@link ListingConfigError} naming every problem.
 */
export function parseListingConfig(value: unknown, metering: MeteringConfig, plans?: readonly Plan[]): ListingConfig {
  const reserved = reservedKeyProblems(ownField(value, 'dimensions'), 'dimensions');
  const result = listingConfigSchema.safeParse(value);
  if (!result.success || reserved.length > 0) throw new ListingConfigError([...reserved, ...(result.success ? [] : result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`))]);
  const config = result.data;
  const known = new Set(dimensionNamesOf(metering));
  const problems = Object.keys(config.dimensions)
    .filter((name) => !known.has(name))
    .map((name) => `dimensions.${name}: not a dimension of the metering configuration`);

  const usedBy = new Map<string, string>();
  for (const [dimension, mapping] of Object.entries(config.dimensions)) {
    const names = mapping === null ? [] : typeof mapping === 'string' ? [mapping] : mapping.tiers;
    for (const name of names) {
      const other = usedBy.get(name);
      if (other !== undefined && other !== dimension) {
        problems.push(`dimensions.${dimension}: listing dimension "${name}" is already used by "${other}" (Marketplace keeps one record per customer, dimension and hour: the second would never be billed)`);
      }
      if (other === undefined) usedBy.set(name, dimension);
    }
  }

  if (plans === undefined) {
    if (problems.length > 0) throw new ListingConfigError(problems);
    return config;
  }
  const compiled: Record<string, CompiledCharge> = {};
  for (const [dimension, mapping] of Object.entries(config.dimensions)) {
    if (mapping === null || typeof mapping === 'string') continue;
    const at = `dimensions.${dimension}`;
    const plan = plans.find((p) => p.id === mapping.plan);
    if (plan === undefined) {
      problems.push(`${at}.plan: no plan "${mapping.plan}" in the pricing configuration (plans: ${plans.map((p) => p.id).join(', ') || 'none'})`);
      continue;
    }
    if (plan.currency !== MARKETPLACE_CURRENCY) {
      problems.push(`${at}.plan: plan "${plan.id}" is priced in ${plan.currency}, but AWS Marketplace lists prices in ${MARKETPLACE_CURRENCY}: what Marketplace bills could not equal the plan's rating`);
      continue;
    }
    const charge = plan.charges.find((c) => c.dimension === dimension);
    if (charge === undefined) {
      problems.push(`${at}.plan: plan "${plan.id}" has no charge for "${dimension}"`);
      continue;
    }
    try {
      compiled[dimension] = compileTieredDimension(charge, mapping.tiers, { fractionalPrices: mapping.fractionalPrices as FractionalPrices | undefined });
    } catch (error) {
      if (!(error instanceof TierCompileError)) throw error;
      problems.push(`${at}.tiers: plan "${plan.id}": ${error.message}`);
    }
  }
  if (problems.length > 0) throw new ListingConfigError(problems);
  return { ...config, compiled };
}

/** Where an application dimension's usage goes on Marketplace. */
export type ListingTarget =
  /** Every unit under one listing dimension. */
  | { readonly kind: 'dimension'; readonly listingDimension: string }
  /** Split between compiled listing dimensions by the running total of the month. */
  | { readonly kind: 'tiered'; readonly plan: string; readonly compiled: CompiledCharge }
  /** A tiered mapping the configuration was parsed without pricing plans for: cannot be sent. */
  | { readonly kind: 'uncompiled'; readonly plan: string };

/**
 * Where a dimension's usage goes: a target, `null` (not billed through Marketplace) or `undefined`
 * (unmapped: an error).
 */
export function listingTargetOf(config: ListingConfig, dimension: string): ListingTarget | null | undefined {
  if (!Object.hasOwn(config.dimensions, dimension)) return undefined;
  const mapping = config.dimensions[dimension];
  if (mapping === null) return null;
  if (typeof mapping === 'string') return { kind: 'dimension', listingDimension: mapping };
  const compiled = config.compiled !== undefined && Object.hasOwn(config.compiled, dimension) ? config.compiled[dimension] : undefined;
  return compiled === undefined ? { kind: 'uncompiled', plan: mapping.plan } : { kind: 'tiered', plan: mapping.plan, compiled };
}
