import { Logger } from '@aws-lambda-powertools/logger';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { FirehoseDeliveryStream } from '../../adapters/firehose/firehose-delivery-stream';
import { bundledMeteringConfig } from '../commons/billing-services';
import { requiredEnvironment } from '../commons/environment';
import { TenantMetrics } from '../commons/tenant-metrics';
import { createUsageEventsHandler } from './handler';

const logger = new Logger({ serviceName: 'usage-events' });

// Configuration problems stop the function at cold start, before it accepts anything.
const config = bundledMeteringConfig();
const env = requiredEnvironment(process.env, ['DELIVERY_STREAM_NAME']);
// The adapter is the one retry layer (resending only the records Firehose refused): no SDK retries on top.
const stream = new FirehoseDeliveryStream(new FirehoseClient({ maxAttempts: 1 }), { deliveryStreamName: env.DELIVERY_STREAM_NAME });

/**
 * `POST /usage` (tenants, Cognito) and `POST /backend/usage` (backends, IAM) on Firehose; see
 * {@link createUsageEventsHandler} for what it answers.
 */
export const handler = createUsageEventsHandler({ stream, config, logger, now: Date.now, metrics: new TenantMetrics({ serviceName: 'usage-events' }) });
