import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { leavingTenantOf, runFinalUsage } from '../../core/marketplace/final-usage';
import meterValuesSql from '../../sql/queries/hourly_meter_values.sql';
import requestGroupsSql from '../../sql/queries/hourly_request_groups.sql';
import { athenaUsageEngine, bundledListingConfig, bundledMeteringConfig, marketplaceMetering } from '../commons/billing-services';
import { requiredEnvironment } from '../commons/environment';

const logger = new Logger({ serviceName: 'marketplace-final-usage' });

// Configuration problems stop the function at cold start.
const meteringConfig = bundledMeteringConfig();
const env = requiredEnvironment(process.env, ['USAGE_TABLE', 'TENANT_TABLE', 'ATHENA_WORKGROUP', 'USAGE_DATABASE']);
const metering = marketplaceMetering(new DynamoDBClient({}), { usageTable: env.USAGE_TABLE, tenantTable: env.TENANT_TABLE }, bundledListingConfig(meteringConfig));
const engine = athenaUsageEngine(env.ATHENA_WORKGROUP, env.USAGE_DATABASE, 120_000);

/**
 * Fifteen minutes after a tenant's `unsubscribe-pending` (an SQS delay queue), measures the recent
 * hours — the open one included — and sends that tenant's unsent usage to AWS Marketplace, well inside
 * the hour Marketplace allows (see core/marketplace/final-usage.ts). A failed message is retried, then
 * kept in the dead-letter queue.
 */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    try {
      const tenantId = leavingTenantOf(record.body);
      const report = await runFinalUsage(
        { engine, store: metering.store, config: meteringConfig, sql: { requestGroups: requestGroupsSql, meterValues: meterValuesSql }, ingestionDelaySeconds: 0 },
        metering.forRun(),
        tenantId,
        Date.now(),
      );
      for (const held of report.heldBack) logger.warn('final usage hour held back', { ...held });
      logger.info('final usage sent', { tenantId, calls: report.calls, success: report.success, duplicate: report.duplicate, heldBack: report.heldBack.length });
    } catch (error) {
      logger.error('final usage failed; the message will be retried', { messageId: record.messageId, error: error instanceof Error ? error.message : String(error) });
      failures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures: failures };
}
