import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { DynamoDbUsageStore } from '../../adapters/dynamodb/dynamodb-usage-store';
import { aggregateWindow, runScheduledAggregation, type AggregationDependencies } from '../../core/usage/aggregation-job';
import { HOUR_MS, parseHourKey } from '../../core/usage/hours';
import meterValuesSql from '../../sql/queries/hourly_meter_values.sql';
import requestGroupsSql from '../../sql/queries/hourly_request_groups.sql';
import { athenaUsageEngine, bundledMeteringConfig } from '../commons/billing-services';
import { requiredEnvironment } from '../commons/environment';
import { tenantCapacityRecorder, TenantMetrics } from '../commons/tenant-metrics';
import { CapacityCounter } from '../../core/cost/capacity-units';

const logger = new Logger({ serviceName: 'usage-aggregator' });

// Configuration problems stop the function at cold start, before it reads or writes anything.
const config = bundledMeteringConfig();
const env = requiredEnvironment(process.env, ['USAGE_TABLE', 'ATHENA_WORKGROUP', 'USAGE_DATABASE', 'INGESTION_DELAY_SECONDS']);
const ingestionDelaySeconds = Number(env.INGESTION_DELAY_SECONDS);
if (!Number.isInteger(ingestionDelaySeconds) || ingestionDelaySeconds < 0) {
  throw new Error(`INGESTION_DELAY_SECONDS must be a whole number of seconds, got ${JSON.stringify(env.INGESTION_DELAY_SECONDS)}`);
}

// DynamoDB capacity spent on each tenant's usage hours, published per invocation for cost allocation.
const capacity = new CapacityCounter(tenantCapacityRecorder(new TenantMetrics({ serviceName: 'usage-aggregator' })));

const deps: AggregationDependencies = {
  engine: athenaUsageEngine(env.ATHENA_WORKGROUP, env.USAGE_DATABASE, 300_000),
  store: new DynamoDbUsageStore(new DynamoDBClient({}), env.USAGE_TABLE, { onCapacity: (tenantId, operation, items) => capacity.count(tenantId, operation, items) }),
  config,
  sql: { requestGroups: requestGroupsSql, meterValues: meterValuesSql },
  ingestionDelaySeconds,
};

/** A manual backfill names its hours: `{ "from": "2026-11-01T00", "to": "2026-11-01T23" }` (both included). */
export interface AggregatorEvent {
  readonly from?: string;
  readonly to?: string;
}

/**
 * Hourly (EventBridge Scheduler): aggregates every closed hour past its watermark plus the look-back
 * window. Invoked with `from`/`to`, re-aggregates exactly those hours. Errors are thrown, so the
 * invocation fails and is retried, then lands in the dead-letter queue; nothing half-done is marked.
 */
export async function handler(event: AggregatorEvent | null, context?: Context) {
  if (context) logger.addContext(context);
  const report = await (event?.from !== undefined || event?.to !== undefined
    ? aggregateWindow(deps, backfillWindow(event))
    : runScheduledAggregation(deps)
  ).finally(() => capacity.flush());
  logger.info(report ? 'aggregated usage hours' : 'no hour ready to aggregate', { report });
  return report ?? { skipped: true };
}

/** Most hours one backfill invocation may cover (a month). */
const MAX_BACKFILL_HOURS = 744;

function backfillWindow(event: AggregatorEvent | null) {
  if (typeof event?.from !== 'string' || typeof event?.to !== 'string') throw new Error('a backfill needs both "from" and "to" hours (yyyy-mm-ddThh)');
  const window = { firstHour: parseHourKey(event.from), lastHour: parseHourKey(event.to) };
  if (window.lastHour < window.firstHour) throw new Error('"to" must not be before "from"');
  if (window.lastHour + HOUR_MS > Date.now()) throw new Error('"to" must be an hour that has ended (an open hour would be marked aggregated with partial data)');
  if ((window.lastHour - window.firstHour) / HOUR_MS + 1 > MAX_BACKFILL_HOURS) throw new Error(`a backfill covers at most ${MAX_BACKFILL_HOURS} hours per invocation`);
  return window;
}
