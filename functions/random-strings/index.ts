import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { generateRandomStrings, parseRandomStringsQuery } from '../../core/random-strings/random-strings';
import { badRequest, jsonResponse } from '../commons/http-response';
import { tenantOf } from '../commons/tenant';

const logger = new Logger({ serviceName: 'random-strings' });

/**
 * `GET /random/strings`: the demo endpoint of the metered API. Validates the query (any invalid
 * parameter is a 400 with its reason; a caller whose verified token names no tenant is a 403, because
 * its usage could be billed to nobody) and returns a JSON array of cryptographically random strings.
 */
export async function handler(event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
  logger.addContext(context);
  const tenantId = tenantOf(event);
  if (tenantId === undefined) {
    logger.warn('rejected caller without tenant', { requestId: event.requestContext?.requestId });
    return jsonResponse(403, { message: 'The caller has no tenant: its token carries no tenant_id claim.' });
  }
  const parsed = parseRandomStringsQuery({
    single: event.queryStringParameters,
    multi: event.multiValueQueryStringParameters,
  });
  if (!parsed.ok) {
    logger.info('rejected invalid query', { requestId: event.requestContext?.requestId, errors: parsed.errors });
    return badRequest('Invalid query parameters', parsed.errors);
  }
  return jsonResponse(200, generateRandomStrings(parsed.request));
}
