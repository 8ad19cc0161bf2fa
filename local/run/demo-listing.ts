/**
 * The Marketplace listing of the local run: the shipped `config/marketplace.json` (its product code
 * replaced by a local one), with every tiered dimension priced by a demonstration plan
 * (`demo-listing-plan.json`) whose allowances are small — the shipped `growth` plan gives 100,000
 * requests a month free, so a one-minute run would bill nothing and its money reconciliation would be
 * 0 = 0. Same tier structure and metering modes (a fractional last tier, metered as charge), so the
 * run exercises what the shipped listing does; the shipped listing itself is validated by its own tests.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LISTING_CONFIG_FILE } from '../../config/marketplace-config-file';
import { parseListingConfig, type ListingConfig } from '../../core/marketplace/listing-config';
import { parsePlan, type Plan, type PricingConfig } from '../../core/pricing/plan-schema';
import type { MeteringConfig } from '../../core/usage/metering-config';

export const DEMO_LISTING_PLAN_FILE = path.join(__dirname, 'demo-listing-plan.json');

export function demoListing(metering: MeteringConfig, pricing: PricingConfig, productCode: string): { listing: ListingConfig; plan: Plan } {
  const plan = parsePlan(JSON.parse(fs.readFileSync(DEMO_LISTING_PLAN_FILE, 'utf8')), DEMO_LISTING_PLAN_FILE);
  const shipped = JSON.parse(fs.readFileSync(LISTING_CONFIG_FILE, 'utf8')) as { dimensions: Record<string, unknown> };
  const dimensions = Object.fromEntries(Object.entries(shipped.dimensions).map(([name, mapping]) => [
    name,
    mapping !== null && typeof mapping === 'object' && 'plan' in mapping ? { ...mapping, plan: plan.id } : mapping,
  ]));
  return { listing: parseListingConfig({ productCode, dimensions }, metering, [...pricing.plans, plan]), plan };
}
