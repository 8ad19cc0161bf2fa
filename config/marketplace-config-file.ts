import * as fs from 'node:fs';
import * as path from 'node:path';
import { ListingConfigError, parseListingConfig, type ListingConfig } from '../core/marketplace/listing-config';
import { readMeteringConfigFile } from './metering-config-file';
import { readPricingConfigFile } from './pricing-config-file';

/** The Marketplace listing configuration shipped with the project. */
export const LISTING_CONFIG_FILE = path.join(__dirname, 'marketplace.json');

/**
 * Reads and validates the listing configuration against the metering configuration, compiling its
 * tiered dimensions from the pricing plans; errors name every problem.
 */
export function readListingConfigFile(file: string = LISTING_CONFIG_FILE): ListingConfig {
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ListingConfigError([`${file}: ${(error as Error).message}`]);
  }
  const metering = readMeteringConfigFile();
  return parseListingConfig(value, metering, readPricingConfigFile(metering).plans);
}
