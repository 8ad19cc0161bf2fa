import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { DeliveryStream } from '../../core/ingestion/delivery-stream';
import { reportUsage } from '../../core/usage-events/report-usage';
import type { MeteringConfig } from '../../core/usage/metering-config';
import { jsonResponse } from '../commons/http-response';
import { tenantOf } from '../commons/tenant';
import { recordTenantInvocation, type TenantMetrics } from '../commons/tenant-metrics';
import { parseJsonBody } from './request-body';
import { usageCallerOf } from './usage-caller';

/** What the usage-events handler needs: the Lambda wires AWS's, the local API its local stand-ins. */
export interface UsageEventsHandlerDependencies {
  /** Where accepted events go (Firehose PutRecordBatch in both cases, on another endpoint locally). */
  readonly stream: DeliveryStream;
  /** Meters and usage-event limits, validated already. */
  readonly config: MeteringConfig;
  readonly logger: Logger;
  /** The clock (epoch ms) events are judged and stamped by. */
  readonly now: () => number;
  /** Tenant metrics (invocations and duration per tenant, for cost allocation); absent: none. */
  readonly metrics?: TenantMetrics;
}

/** A Lambda proxy handler of `POST /usage` and `POST /backend/usage`. */
export type UsageEventsHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/**
 * `POST /usage` (tenants, Cognito) and `POST /backend/usage` (backends, IAM): validates a batch of
 * usage events and forwards the valid ones to the stream. 200 all accepted; 400 some or all rejected
 * (each with its reasons; valid ones still accepted); 503 some not delivered (resend those); 403 no
 * verified tenant or unsigned backend call; 413 body too large. Logs ids and reasons, never properties.
 */
export function createUsageEventsHandler(deps: UsageEventsHandlerDependencies): UsageEventsHandler {
  const { metrics } = deps;
  const handle = handleWith(deps);
  if (metrics === undefined) return handle;
  return async function handler(event, context) {
    const started = performance.now();
    try {
      return await handle(event, context);
    } finally {
      // Backend calls name their tenants per event: only a tenant's own call is its consumption.
      const tenantId = tenantOf(event);
      if (tenantId !== undefined) recordTenantInvocation(metrics, tenantId, performance.now() - started);
    }
  };
}

function handleWith(deps: UsageEventsHandlerDependencies): UsageEventsHandler {
  const { stream, config, logger, now } = deps;
  return async function handler(event, context) {
    logger.addContext(context);
    const requestId = event.requestContext?.requestId;
    const who = usageCallerOf(event);
    if (!who.ok) {
      logger.warn('refused usage caller', { requestId, resource: event.resource, statusCode: who.statusCode });
      return jsonResponse(who.statusCode, { message: who.message });
    }
    const body = parseJsonBody(event);
    if (!body.ok) {
      logger.info('refused usage body', { requestId, reason: body.message });
      return jsonResponse(body.statusCode, { message: body.message, accepted: [], rejected: [], failed: [] });
    }
    const report = await reportUsage({ stream, config, now }, who.caller, body.value);
    const { accepted, rejected, failed } = report.body;
    const tenantId = who.caller.kind === 'tenant' ? who.caller.tenantId : undefined;
    if (rejected.length > 0 || failed.length > 0 || report.body.errors) {
      logger.warn('usage events not accepted', { requestId, caller: who.caller.kind, tenantId, accepted: accepted.length, rejected, failed, errors: report.body.errors });
    } else {
      logger.info('usage events accepted', { requestId, caller: who.caller.kind, tenantId, accepted: accepted.length });
    }
    return jsonResponse(report.statusCode, report.body);
  };
}
