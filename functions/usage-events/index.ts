import { Logger } from '@aws-lambda-powertools/logger';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { FirehoseDeliveryStream } from '../../adapters/firehose/firehose-delivery-stream';
import { reportUsage } from '../../core/usage-events/report-usage';
import { bundledMeteringConfig } from '../commons/billing-services';
import { requiredEnvironment } from '../commons/environment';
import { jsonResponse } from '../commons/http-response';
import { parseJsonBody } from './request-body';
import { usageCallerOf } from './usage-caller';

const logger = new Logger({ serviceName: 'usage-events' });

// Configuration problems stop the function at cold start, before it accepts anything.
const config = bundledMeteringConfig();
const env = requiredEnvironment(process.env, ['DELIVERY_STREAM_NAME']);
// The adapter is the one retry layer (resending only the records Firehose refused): no SDK retries on top.
const stream = new FirehoseDeliveryStream(new FirehoseClient({ maxAttempts: 1 }), { deliveryStreamName: env.DELIVERY_STREAM_NAME });

/**
 * `POST /usage` (tenants, Cognito) and `POST /backend/usage` (backends, IAM): validates a batch of
 * usage events and forwards the valid ones to Firehose. 200 all accepted; 400 some or all rejected
 * (each with its reasons; valid ones still accepted); 503 some not delivered (resend those); 403 no
 * verified tenant or unsigned backend call; 413 body too large. Logs ids and reasons, never properties.
 */
export async function handler(event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
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
  const report = await reportUsage({ stream, config, now: Date.now }, who.caller, body.value);
  const { accepted, rejected, failed } = report.body;
  const tenantId = who.caller.kind === 'tenant' ? who.caller.tenantId : undefined;
  if (rejected.length > 0 || failed.length > 0 || report.body.errors) {
    logger.warn('usage events not accepted', { requestId, caller: who.caller.kind, tenantId, accepted: accepted.length, rejected, failed, errors: report.body.errors });
  } else {
    logger.info('usage events accepted', { requestId, caller: who.caller.kind, tenantId, accepted: accepted.length });
  }
  return jsonResponse(report.statusCode, report.body);
}
