import { AthenaClient } from '@aws-sdk/client-athena';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { MarketplaceMeteringClient } from '@aws-sdk/client-marketplace-metering';
import { AthenaQueryRunner } from '../../adapters/athena/athena-query-runner';
import { AthenaUsageEngine } from '../../adapters/athena/athena-usage-engine';
import { DynamoDbTenantRegistry } from '../../adapters/dynamodb/dynamodb-tenant-registry';
import { DynamoDbUsageStore, type CapacityObserver } from '../../adapters/dynamodb/dynamodb-usage-store';
import { RegistryCustomerDirectory } from '../../adapters/dynamodb/registry-customer-directory';
import { AwsMeteringService } from '../../adapters/marketplace/aws-metering-service';
import marketplaceConfigJson from '../../config/marketplace.json';
import meteringConfigJson from '../../config/metering.json';
import pricingConfigJson from '../../config/pricing.json';
import { parseListingConfig, type ListingConfig } from '../../core/marketplace/listing-config';
import type { MeteringRunDependencies } from '../../core/marketplace/metering-run';
import { RateLimiter } from '../../core/marketplace/rate-limiter';
import { parseMeteringConfig, type MeteringConfig } from '../../core/usage/metering-config';
import { parsePricingConfig } from '../../core/pricing/plan-schema';

/**
 * The pieces the usage and metering functions share, built once per cold start. The configuration
 * files are bundled into each function; an invalid one throws here, before anything runs.
 */

/** `config/metering.json`, validated. */
export function bundledMeteringConfig(): MeteringConfig {
  return parseMeteringConfig(meteringConfigJson);
}

/**
 * `config/marketplace.json`, validated against the metering configuration, its tiered dimensions
 * compiled from the plans of `config/pricing.json`.
 */
export function bundledListingConfig(metering: MeteringConfig): ListingConfig {
  return parseListingConfig(marketplaceConfigJson, metering, parsePricingConfig(pricingConfigJson, 'config/pricing.json').plans);
}

/** Usage SQL on Athena, in the lake's workgroup and database. */
export function athenaUsageEngine(workGroup: string, database: string, timeoutMs: number): AthenaUsageEngine {
  return new AthenaUsageEngine(new AthenaQueryRunner(new AthenaClient({}), { workGroup, database, timeoutMs }));
}

/**
 * Metering through AWS Marketplace (served in us-east-1 whatever region the stack runs in): the usage
 * store, and per run the dependencies with a fresh tenant directory (it caches tenants for one run).
 */
export function marketplaceMetering(dynamo: DynamoDBClient, tables: { usageTable: string; tenantTable: string }, listing: ListingConfig, options: { readonly onCapacity?: CapacityObserver } = {}) {
  const store = new DynamoDbUsageStore(dynamo, tables.usageTable, options);
  const registry = new DynamoDbTenantRegistry(dynamo, tables.tenantTable);
  const service = new AwsMeteringService(new MarketplaceMeteringClient({ region: 'us-east-1', maxAttempts: 3 }));
  const limiter = new RateLimiter(10);
  return {
    store,
    forRun: (): MeteringRunDependencies => ({ store, directory: new RegistryCustomerDirectory(registry), service, limiter, listing }),
  };
}
