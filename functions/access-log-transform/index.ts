import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, FirehoseTransformationEvent } from 'aws-lambda';
import { routingFromEnvironment } from '../../core/ingestion/record-kinds';
import { FAILURE_CATEGORIES, transformBatch, type BatchTransformation, type IcebergTransformationResult } from '../../core/ingestion/transform-batch';

const SERVICE_NAME = 'access-log-transform';

const logger = new Logger({ serviceName: SERVICE_NAME });
const metrics = new Metrics({ namespace: process.env.METRICS_NAMESPACE || 'SaaSMetering', serviceName: SERVICE_NAME });

/**
 * Destinations, read once at cold start. Missing or malformed configuration (ACCESS_LOG_DATABASE,
 * ACCESS_LOG_TABLE) throws here, so that the function fails loudly — and Firehose keeps the records —
 * instead of writing anywhere wrong.
 */
const routing = routingFromEnvironment(process.env);

/**
 * Firehose data-transformation processor in front of the Iceberg usage lake: validates API Gateway
 * access logs, normalises them and routes them to their table (see `core/ingestion/transform-batch.ts`
 * for results, duplicates and the 6 MB response limit). Logs every failed record's id, request id,
 * category and reason — never its payload — and publishes per-invocation counts.
 */
export async function handler(event: FirehoseTransformationEvent, context?: Context): Promise<IcebergTransformationResult> {
  if (context !== undefined) logger.addContext(context);
  const batch = transformBatch(event.records ?? [], routing);
  report(batch);
  return { records: batch.records };
}

/** Logs and counts the outcome; a failure to report never fails the batch. */
function report(batch: BatchTransformation): void {
  try {
    for (const failure of batch.failures) logger.warn('record failed transformation', { ...failure });
    logger.info('batch transformed', {
      records: batch.records.length,
      ok: batch.counts.ok,
      failed: batch.counts.failed,
      responseBytes: batch.responseBytes,
    });
    metrics.addMetric('RecordsOk', MetricUnit.Count, batch.counts.ok);
    metrics.addMetric('RecordsFailed', MetricUnit.Count, batch.counts.failed);
    // Failure categories are published only when they occur: each custom metric costs money every
    // month it receives data, and a category that never happens needs no metric.
    for (const category of FAILURE_CATEGORIES) {
      const count = batch.counts.byCategory[category];
      if (count > 0) metrics.addMetric(category, MetricUnit.Count, count);
    }
    metrics.publishStoredMetrics();
  } catch (error) {
    logger.error('could not report the batch outcome', { error: error instanceof Error ? error.name : 'unknown' });
  }
}
