import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Context } from 'aws-lambda';
import { DynamoDbTenantRegistry } from '../../adapters/dynamodb/dynamodb-tenant-registry';
import { EventBridgeEventPublisher } from '../../adapters/eventbridge/eventbridge-event-publisher';
import { processAgreementEvent } from '../../core/marketplace/intake-eventbridge';
import { requiredEnvironment } from '../commons/environment';

/*
 * Environment: TENANT_TABLE (the tenant registry), EVENT_BUS_NAME (the control plane's bus, where
 * `publish` effects go). Missing configuration stops the function at cold start. The Marketplace
 * events are emitted on the default bus of us-east-1: run the function there (or forward the events
 * to its Region).
 */
const env = requiredEnvironment(process.env, ['TENANT_TABLE', 'EVENT_BUS_NAME']);
const logger = new Logger({ serviceName: 'marketplace-agreement-events' });
const deps = {
  registry: new DynamoDbTenantRegistry(new DynamoDBClient({}), env.TENANT_TABLE),
  publisher: new EventBridgeEventPublisher(new EventBridgeClient({}), env.EVENT_BUS_NAME),
  log: logger,
};

/**
 * EventBridge target (source `aws.agreement-marketplace`, asynchronous invocation): applies the
 * event to the tenant registry. Unrecognised, deferred or failed events make the invocation fail, so
 * Lambda retries them and then keeps them in the on-failure destination. See
 * `core/marketplace/intake-eventbridge.ts`.
 */
export async function handler(event: unknown, context?: Context) {
  if (context) logger.addContext(context);
  const outcome = await processAgreementEvent(event, deps);
  return { tenantId: outcome.tenantId, state: outcome.state, saved: outcome.saved, published: outcome.published };
}
