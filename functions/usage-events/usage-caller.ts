import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { UsageCaller } from '../../core/usage-events/usage-event-validation';
import { tenantOf } from '../commons/tenant';

/** The API resource tenants post to (Cognito authorizer: the tenant comes from the verified token). */
export const TENANT_USAGE_RESOURCE = '/usage';
/** The API resource backends post to (IAM authorization: each event names its tenant). */
export const BACKEND_USAGE_RESOURCE = '/backend/usage';

/**
 * Who is calling, from what API Gateway verified — never from a header or the body. `/usage` needs a
 * verified tenant claim; `/backend/usage` needs an IAM-signed caller (API Gateway fills
 * `identity.userArn` only for IAM-authorised requests). Anything else is refused with the reason.
 */
export function usageCallerOf(event: Pick<APIGatewayProxyEvent, 'resource' | 'requestContext'>): { ok: true; caller: UsageCaller } | { ok: false; statusCode: 403 | 404; message: string } {
  if (event.resource === TENANT_USAGE_RESOURCE) {
    const tenantId = tenantOf(event);
    return tenantId === undefined
      ? { ok: false, statusCode: 403, message: 'The caller has no tenant: its token carries no tenant_id claim.' }
      : { ok: true, caller: { kind: 'tenant', tenantId } };
  }
  if (event.resource === BACKEND_USAGE_RESOURCE) {
    const userArn = event.requestContext?.identity?.userArn;
    return typeof userArn === 'string' && userArn.startsWith('arn:')
      ? { ok: true, caller: { kind: 'backend' } }
      : { ok: false, statusCode: 403, message: 'Backend usage reports must be signed with AWS credentials (IAM authorization).' };
  }
  return { ok: false, statusCode: 404, message: `No usage endpoint at ${String(event.resource)}` };
}
