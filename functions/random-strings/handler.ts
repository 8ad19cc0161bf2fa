import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { generateRandomStrings, parseRandomStringsQuery } from '../../core/random-strings/random-strings';
import { badRequest, jsonResponse } from '../commons/http-response';
import { tenantOf } from '../commons/tenant';
import { recordTenantInvocation, type TenantMetrics } from '../commons/tenant-metrics';

/** What the random-strings handler needs: the Lambda wires its module-scope instances, the local API its own. */
export interface RandomStringsHandlerDependencies {
  readonly logger: Logger;
  /** Tenant metrics (invocations and duration per tenant, for cost allocation); absent: none. */
  readonly metrics?: TenantMetrics;
}

/** A Lambda proxy handler of `GET /random/strings`. */
export type RandomStringsHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/**
 * `GET /random/strings`: the demo endpoint of the metered API. Validates the query (any invalid
 * parameter is a 400 with its reason; a caller whose verified token has no tenant is a 403, because
 * its usage could be billed to nobody) and returns a JSON array of cryptographically random strings.
 * Every call of a tenant is recorded in the tenant metrics with its duration.
 */
export function createRandomStringsHandler({ logger, metrics }: RandomStringsHandlerDependencies): RandomStringsHandler {
  return async function handler(event, context) {
    const started = performance.now();
    logger.addContext(context);
    const tenantId = tenantOf(event);
    if (tenantId === undefined) {
      logger.warn('rejected caller without tenant', { requestId: event.requestContext?.requestId });
      return jsonResponse(403, { message: 'The caller has no tenant: its token carries no tenant_id claim.' });
    }
    try {
      const parsed = parseRandomStringsQuery({
        single: event.queryStringParameters,
        multi: event.multiValueQueryStringParameters,
      });
      if (!parsed.ok) {
        logger.info('rejected invalid query', { requestId: event.requestContext?.requestId, errors: parsed.errors });
        return badRequest('Invalid query parameters', parsed.errors);
      }
      return jsonResponse(200, generateRandomStrings(parsed.request));
    } finally {
      if (metrics !== undefined) recordTenantInvocation(metrics, tenantId, performance.now() - started);
    }
  };
}
