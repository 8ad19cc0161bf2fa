import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { MarketplaceMeteringClient } from '@aws-sdk/client-marketplace-metering';
import type { Context } from 'aws-lambda';
import { DynamoDbTenantRegistry } from '../../adapters/dynamodb/dynamodb-tenant-registry';
import { DynamoDbUsageStore } from '../../adapters/dynamodb/dynamodb-usage-store';
import { RegistryCustomerDirectory } from '../../adapters/dynamodb/registry-customer-directory';
import { AwsMeteringService } from '../../adapters/marketplace/aws-metering-service';
import marketplaceConfigJson from '../../config/marketplace.json';
import meteringConfigJson from '../../config/metering.json';
import { parseListingConfig } from '../../core/marketplace/listing-config';
import { meteringHours, unsendableHours } from '../../core/marketplace/metering-hours';
import { runMetering } from '../../core/marketplace/metering-run';
import { RateLimiter } from '../../core/marketplace/rate-limiter';
import { parseMeteringConfig } from '../../core/usage/metering-config';
import { requiredEnvironment } from '../commons/environment';

const logger = new Logger({ serviceName: 'marketplace-metering' });
const metrics = new Metrics({ namespace: process.env.METRICS_NAMESPACE || 'SaaSMetering', serviceName: 'marketplace-metering' });

// Configuration problems stop the function at cold start, before anything is sent.
const listing = parseListingConfig(marketplaceConfigJson, parseMeteringConfig(meteringConfigJson));
const env = requiredEnvironment(process.env, ['USAGE_TABLE', 'TENANT_TABLE']);
const dynamo = new DynamoDBClient({});
const store = new DynamoDbUsageStore(dynamo, env.USAGE_TABLE);
const registry = new DynamoDbTenantRegistry(dynamo, env.TENANT_TABLE);
// SaaS metering is served in us-east-1 whatever region the stack runs in.
const service = new AwsMeteringService(new MarketplaceMeteringClient({ region: 'us-east-1', maxAttempts: 3 }));
const limiter = new RateLimiter(10);

/**
 * Hourly, after aggregation: sends every unsent, completely aggregated usage hour of the last hours
 * Marketplace still accepts, exactly once (see core/marketplace/metering-run.ts). Held-back records
 * are logged with their reason and counted; the age of the oldest unsent hour is a metric an alarm
 * watches.
 */
export async function handler(_event: unknown, context?: Context) {
  if (context) logger.addContext(context);
  const now = Date.now();
  const report = await runMetering({ store, directory: new RegistryCustomerDirectory(registry), service, limiter, listing }, meteringHours(now), unsendableHours(now));
  for (const held of report.heldBack) logger.warn('usage hour held back', { ...held });
  metrics.addMetric('RecordsSent', MetricUnit.Count, report.success + report.duplicate);
  metrics.addMetric('RecordsHeldBack', MetricUnit.Count, report.heldBack.length);
  metrics.addMetric('CustomerNotSubscribed', MetricUnit.Count, report.heldBack.filter((h) => h.reason === 'CustomerNotSubscribed').length);
  metrics.addMetric('RecordsRejected', MetricUnit.Count, report.heldBack.filter((h) => h.reason === 'rejected').length);
  metrics.addMetric('OldestUnsentHourAgeHours', MetricUnit.Count, oldestAgeHours(report.heldBack.map((h) => h.hour), now));
  metrics.publishStoredMetrics();
  logger.info('metering run finished', { calls: report.calls, success: report.success, duplicate: report.duplicate, heldBack: report.heldBack.length, notFinal: report.notFinal });
  return { ...report, heldBack: report.heldBack.length };
}

function oldestAgeHours(hours: readonly string[], now: number): number {
  const starts = hours.map((h) => Date.parse(`${h}:00:00Z`));
  return starts.length === 0 ? 0 : Math.floor((now - Math.min(...starts)) / 3_600_000);
}
