import { Logger } from '@aws-lambda-powertools/logger';
import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { MarketplaceMeteringClient } from '@aws-sdk/client-marketplace-metering';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { AthenaQueryRunner } from '../../adapters/athena/athena-query-runner';
import { AthenaUsageEngine } from '../../adapters/athena/athena-usage-engine';
import { DynamoDbTenantRegistry } from '../../adapters/dynamodb/dynamodb-tenant-registry';
import { DynamoDbUsageStore } from '../../adapters/dynamodb/dynamodb-usage-store';
import { RegistryCustomerDirectory } from '../../adapters/dynamodb/registry-customer-directory';
import { AwsMeteringService } from '../../adapters/marketplace/aws-metering-service';
import marketplaceConfigJson from '../../config/marketplace.json';
import meteringConfigJson from '../../config/metering.json';
import { leavingTenantOf, runFinalUsage } from '../../core/marketplace/final-usage';
import { parseListingConfig } from '../../core/marketplace/listing-config';
import { RateLimiter } from '../../core/marketplace/rate-limiter';
import { parseMeteringConfig } from '../../core/usage/metering-config';
import requestGroupsSql from '../../sql/queries/hourly_request_groups.sql';
import { requiredEnvironment } from '../commons/environment';

const logger = new Logger({ serviceName: 'marketplace-final-usage' });

// Configuration problems stop the function at cold start.
const meteringConfig = parseMeteringConfig(meteringConfigJson);
const listing = parseListingConfig(marketplaceConfigJson, meteringConfig);
const env = requiredEnvironment(process.env, ['USAGE_TABLE', 'TENANT_TABLE', 'ATHENA_WORKGROUP', 'USAGE_DATABASE']);
const dynamo = new DynamoDBClient({});
const store = new DynamoDbUsageStore(dynamo, env.USAGE_TABLE);
const registry = new DynamoDbTenantRegistry(dynamo, env.TENANT_TABLE);
const engine = new AthenaUsageEngine(new AthenaQueryRunner(new AthenaClient({}), { workGroup: env.ATHENA_WORKGROUP, database: env.USAGE_DATABASE, timeoutMs: 120_000 }));
// SaaS metering is served in us-east-1 whatever region the stack runs in.
const service = new AwsMeteringService(new MarketplaceMeteringClient({ region: 'us-east-1', maxAttempts: 3 }));
const limiter = new RateLimiter(10);


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
        { engine, store, config: meteringConfig, requestGroupsSql, ingestionDelaySeconds: 0 },
        { store, directory: new RegistryCustomerDirectory(registry), service, limiter, listing },
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
