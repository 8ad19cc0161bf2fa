import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { meteringHours, unsendableHours } from '../../core/marketplace/metering-hours';
import { runMetering } from '../../core/marketplace/metering-run';
import { bundledListingConfig, bundledMeteringConfig, marketplaceMetering } from '../commons/billing-services';
import { requiredEnvironment } from '../commons/environment';
import { tenantCapacityRecorder, TenantMetrics } from '../commons/tenant-metrics';
import { CapacityCounter } from '../../core/cost/capacity-units';
import { HOUR_MS, parseHourKey } from '../../core/usage/hours';

const logger = new Logger({ serviceName: 'marketplace-metering' });
const metrics = new Metrics({ namespace: process.env.METRICS_NAMESPACE || 'SaaSMetering', serviceName: 'marketplace-metering' });

// Configuration problems stop the function at cold start, before anything is sent.
const listing = bundledListingConfig(bundledMeteringConfig());
const env = requiredEnvironment(process.env, ['USAGE_TABLE', 'TENANT_TABLE']);
// DynamoDB capacity spent on each tenant's usage hours, published per invocation for cost allocation.
const capacity = new CapacityCounter(tenantCapacityRecorder(new TenantMetrics({ serviceName: 'marketplace-metering' })));
const metering = marketplaceMetering(new DynamoDBClient({}), { usageTable: env.USAGE_TABLE, tenantTable: env.TENANT_TABLE }, listing, { onCapacity: (tenantId, operation, items) => capacity.count(tenantId, operation, items) });

/**
 * Hourly, after aggregation: sends every unsent, completely aggregated usage hour of the last hours
 * Marketplace still accepts, exactly once (see core/marketplace/metering-run.ts). Held-back records
 * are logged with their reason and counted; the age of the oldest unsent hour is a metric an alarm
 * watches.
 */
export async function handler(_event: unknown, context?: Context) {
  if (context) logger.addContext(context);
  const now = Date.now();
  const report = await runMetering(metering.forRun(), meteringHours(now), unsendableHours(now)).finally(() => capacity.flush());
  for (const held of report.heldBack) logger.warn('usage hour held back', { ...held });
  metrics.addMetric('RecordsSent', MetricUnit.Count, report.success + report.duplicate);
  metrics.addMetric('RecordsHeldBack', MetricUnit.Count, report.heldBack.length);
  metrics.addMetric('CustomerNotSubscribed', MetricUnit.Count, report.heldBack.filter((h) => h.reason === 'CustomerNotSubscribed').length);
  metrics.addMetric('RecordsRejected', MetricUnit.Count, report.heldBack.filter((h) => h.reason === 'rejected').length);
  metrics.addMetric('OldestUnsentHourAgeHours', MetricUnit.Count, oldestAgeHours(report.heldBack.map((h) => h.hour), now));
  metrics.publishStoredMetrics();
  logger.info('metering run finished', { calls: report.calls, success: report.success, duplicate: report.duplicate, heldBack: report.heldBack.length, notFinal: report.notFinal, closedUnsendable: report.closedUnsendable, closedOutOfOrder: report.closedOutOfOrder });
  return { ...report, heldBack: report.heldBack.length };
}

function oldestAgeHours(hours: readonly string[], now: number): number {
  const starts = hours.map(parseHourKey);
  return starts.length === 0 ? 0 : Math.floor((now - Math.min(...starts)) / HOUR_MS);
}
