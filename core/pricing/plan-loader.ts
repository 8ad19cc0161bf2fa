import { readFile } from 'node:fs/promises';
import { parsePricingConfig, PricingConfigError, type PricingConfig } from './plan-schema';

/** Reads and validates a JSON pricing configuration file; throws {@link PricingConfigError} on any problem. */
export async function loadPricingConfig(file: string): Promise<PricingConfig> {
  const text = await readFile(file, 'utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new PricingConfigError(file, [`(root): not valid JSON: ${(error as Error).message}`]);
  }
  return parsePricingConfig(value, file);
}
