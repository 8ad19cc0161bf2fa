import * as fs from 'node:fs';
import * as path from 'node:path';
import { parsePricingConfig, PricingConfigError, unknownDimensionProblems, type PricingConfig } from '../core/pricing/plan-schema';
import { dimensionNamesOf, type MeteringConfig } from '../core/usage/metering-config';

/** The pricing configuration shipped with the project. */
export const PRICING_CONFIG_FILE = path.join(__dirname, 'pricing.json');

/**
 * Reads and validates a pricing configuration file against the metering configuration it prices. A
 * missing file, invalid JSON, an invalid configuration (see `core/pricing/plan-schema.ts`) or a charge
 * on a dimension the metering configuration does not have throws a {@link PricingConfigError} that
 * names the file and every problem.
 */
export function readPricingConfigFile(metering: MeteringConfig, file: string = PRICING_CONFIG_FILE): PricingConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new PricingConfigError(file, [`cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new PricingConfigError(file, [`is not valid JSON: ${(error as Error).message}`]);
  }
  const config = parsePricingConfig(value, file);
  const problems = unknownDimensionProblems(config, dimensionNamesOf(metering));
  if (problems.length > 0) throw new PricingConfigError(file, problems);
  return config;
}
