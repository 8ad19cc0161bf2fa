import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { MarketplaceMeteringClient } from '@aws-sdk/client-marketplace-metering';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { DynamoDbRegistrationSessions } from '../../adapters/dynamodb/dynamodb-registration-sessions';
import { DynamoDbTenantRegistry } from '../../adapters/dynamodb/dynamodb-tenant-registry';
import { EventBridgeEventPublisher } from '../../adapters/eventbridge/eventbridge-event-publisher';
import { AwsCustomerResolver } from '../../adapters/marketplace/resolve-customer';
import { createRegistrationFlow } from '../../core/marketplace/registration-flow';
import { requiredEnvironment } from '../commons/environment';
import { createRegistrationHandler } from './registration-handler';

/*
 * Environment: TENANT_TABLE (tenants, registration sessions and token records; TTL on `expiresAt`),
 * EVENT_BUS_NAME (the control plane's bus); optional SERVICE_NAME (shown on the pages) and
 * SIGN_IN_URL (linked from "sign in instead") and MARKETPLACE_REGION (ResolveCustomer's Region:
 * supported in most commercial Regions; default the function's own). ResolveCustomer must be called
 * with credentials of the seller account that published the listing.
 */
const env = requiredEnvironment(process.env, ['TENANT_TABLE', 'EVENT_BUS_NAME']);
const logger = new Logger({ serviceName: 'marketplace-registration' });
const dynamodb = new DynamoDBClient({});
const eventBridge = new EventBridgeClient({});
const metering = new MarketplaceMeteringClient(process.env.MARKETPLACE_REGION ? { region: process.env.MARKETPLACE_REGION } : {});

const handle = createRegistrationHandler(createRegistrationFlow(
  {
    resolver: new AwsCustomerResolver(metering),
    sessions: new DynamoDbRegistrationSessions(dynamodb, env.TENANT_TABLE),
    registry: new DynamoDbTenantRegistry(dynamodb, env.TENANT_TABLE),
    publisher: new EventBridgeEventPublisher(eventBridge, env.EVENT_BUS_NAME),
    log: logger,
  },
  {
    ...(process.env.SERVICE_NAME ? { serviceName: process.env.SERVICE_NAME } : {}),
    ...(process.env.SIGN_IN_URL ? { signInUrl: process.env.SIGN_IN_URL } : {}),
  },
));

/**
 * `/marketplace/register` (REST API, Lambda proxy, no authorizer: the buyer has no account yet): the
 * fulfilment URL of the AWS Marketplace listing. See `core/marketplace/registration-flow.ts`.
 */
export async function handler(event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
  logger.addContext(context);
  return handle(event);
}
