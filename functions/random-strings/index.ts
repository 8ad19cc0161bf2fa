import { Logger } from '@aws-lambda-powertools/logger';
import { TenantMetrics } from '../commons/tenant-metrics';
import { createRandomStringsHandler } from './handler';

/*
 * Environment: POWERTOOLS_METRICS_NAMESPACE (the tenant metrics' namespace). Missing configuration
 * stops the function at cold start.
 */
const logger = new Logger({ serviceName: 'random-strings' });
const metrics = new TenantMetrics({ serviceName: 'random-strings' });

/** `GET /random/strings` (see {@link createRandomStringsHandler}). */
export const handler = createRandomStringsHandler({ logger, metrics });
