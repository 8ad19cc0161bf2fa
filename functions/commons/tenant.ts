import type { APIGatewayProxyEvent } from 'aws-lambda';
import { TENANT_CLAIM } from '../../core/access-log/fields';

/**
 * The caller's tenant, taken only from the claims that API Gateway's Cognito authorizer verified —
 * never from a header, the query or the body. Undefined when the token carries no tenant.
 */
export function tenantOf(event: Pick<APIGatewayProxyEvent, 'requestContext'>): string | undefined {
  const claims: unknown = event.requestContext?.authorizer?.claims;
  if (claims === null || typeof claims !== 'object') return undefined;
  const tenant = (claims as Record<string, unknown>)[TENANT_CLAIM];
  return typeof tenant === 'string' && tenant.length > 0 ? tenant : undefined;
}
