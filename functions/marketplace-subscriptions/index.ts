import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DynamoDbTenantRegistry } from '../../adapters/dynamodb/dynamodb-tenant-registry';
import { EventBridgeEventPublisher } from '../../adapters/eventbridge/eventbridge-event-publisher';
import { processSubscriptionBatch } from '../../core/marketplace/intake-sqs';
import { requiredEnvironment } from '../commons/environment';

/*
 * Environment: TENANT_TABLE (the tenant registry), EVENT_BUS_NAME (the control plane's bus, where
 * `publish` effects go). Missing configuration stops the function at cold start.
 */
const env = requiredEnvironment(process.env, ['TENANT_TABLE', 'EVENT_BUS_NAME']);
const logger = new Logger({ serviceName: 'marketplace-subscriptions' });
const deps = {
  registry: new DynamoDbTenantRegistry(new DynamoDBClient({}), env.TENANT_TABLE),
  publisher: new EventBridgeEventPublisher(new EventBridgeClient({}), env.EVENT_BUS_NAME),
  log: logger,
};

/**
 * SQS event source (the queue subscribed to the legacy Marketplace SNS topics; the mapping must report
 * batch item failures): applies each notification to the tenant registry and answers a partial batch
 * response. See `core/marketplace/intake-sqs.ts` for what is retried, kept or acknowledged.
 */
export async function handler(event: SQSEvent, context?: Context): Promise<SQSBatchResponse> {
  if (context) logger.addContext(context);
  return processSubscriptionBatch(event.Records, deps);
}
