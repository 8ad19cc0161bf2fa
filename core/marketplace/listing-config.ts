import { z } from 'zod';
import { dimensionNamesOf, type MeteringConfig } from '../usage/metering-config';

/**
 * How usage reaches AWS Marketplace (`config/marketplace.json`): the product code, and for every
 * application dimension of `config/metering.json` the listing dimension it bills as — or `null` when it
 * is measured but not billed through Marketplace. A usage dimension missing from this map is an error
 * that stays visible and is never sent (Marketplace rejects the whole call for an unknown dimension).
 */
export const listingConfigSchema = z
  .object({
    productCode: z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be the listing\'s product code'),
    dimensions: z.record(z.string(), z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,99}$/, 'must be a listing dimension API name').nullable()),
  })
  .strict();

export type ListingConfig = z.infer<typeof listingConfigSchema>;

export class ListingConfigError extends Error {
  constructor(problems: readonly string[]) {
    super(`Invalid Marketplace listing configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ListingConfigError';
  }
}

/** Validates the listing configuration against the metering configuration's dimensions. */
export function parseListingConfig(value: unknown, metering: MeteringConfig): ListingConfig {
  const result = listingConfigSchema.safeParse(value);
  if (!result.success) throw new ListingConfigError(result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  const known = new Set(dimensionNamesOf(metering));
  const problems = Object.keys(result.data.dimensions)
    .filter((name) => !known.has(name))
    .map((name) => `dimensions.${name}: not a dimension of the metering configuration`);
  if (problems.length > 0) throw new ListingConfigError(problems);
  return result.data;
}

/** The listing dimension of an application dimension: a name, `null` (not billed there) or `undefined` (unmapped: an error). */
export function listingDimensionOf(config: ListingConfig, dimension: string): string | null | undefined {
  return Object.hasOwn(config.dimensions, dimension) ? config.dimensions[dimension] : undefined;
}
