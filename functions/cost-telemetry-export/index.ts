/**
 * The daily CloudZero export as a scheduled Lambda: configuration from the environment, the API key
 * from Secrets Manager, consumption from the sources the environment names, and the job of
 * core/cost/export-telemetry.ts in between. See docs/cloudzero.md.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { readCloudZeroApiKey } from '../../adapters/cloudzero/cloudzero-api-key';
import { CloudZeroTelemetryClient } from '../../adapters/cloudzero/cloudzero-telemetry-client';
import {
  checkTelemetryFilter,
  CLOUDZERO_API_URL,
  parseTelemetryFilter,
  telemetryStreamName,
  TELEMETRY_OPERATIONS,
  TelemetryRecordError,
  type TelemetryFilter,
  type TelemetryMapping,
  type TelemetryOperation,
} from '../../core/cost/cloudzero-telemetry';
import { CONSUMPTION_STREAMS, type ConsumptionStream, type Granularity } from '../../core/cost/consumption';
import { exportTelemetryForDay, previousUtcDay, type TelemetryExportReport } from '../../core/cost/export-telemetry';
import { consumptionSourceFromEnvironment } from '../commons/consumption-sources';
import { requiredEnvironment } from '../commons/environment';

const logger = new Logger({ serviceName: 'cost-telemetry-export' });

/** What the function is configured with (environment variables, read and checked at cold start). */
export interface ExportSettings {
  /** CLOUDZERO_SECRET_ARN: the secret holding the API key (the key itself, or {"apiKey": "…"}). */
  readonly secretId: string;
  /** CLOUDZERO_API_URL, default https://api.cloudzero.com. */
  readonly apiUrl: string;
  /** TELEMETRY_STREAM_PREFIX (default `saas-metering`), TELEMETRY_FILTER and TELEMETRY_STREAM_FILTERS (JSON). */
  readonly mapping: TelemetryMapping;
  /** TELEMETRY_GRANULARITY: DAILY (default) or HOURLY. */
  readonly granularity: Granularity;
  /** CLOUDZERO_TELEMETRY_OPERATION: replace (default), sum or legacy. */
  readonly operation: TelemetryOperation;
}

/** Reads and checks the configuration; throws one error naming the problem. */
export function exportSettings(env: Readonly<Record<string, string | undefined>>): ExportSettings {
  const { CLOUDZERO_SECRET_ARN } = requiredEnvironment(env, ['CLOUDZERO_SECRET_ARN']);
  const apiUrl = env.CLOUDZERO_API_URL !== undefined && env.CLOUDZERO_API_URL !== '' ? env.CLOUDZERO_API_URL : CLOUDZERO_API_URL;
  const streamPrefix = env.TELEMETRY_STREAM_PREFIX ?? 'saas-metering';
  for (const stream of CONSUMPTION_STREAMS) telemetryStreamName(streamPrefix, stream);
  const filter = parseTelemetryFilter(env.TELEMETRY_FILTER, 'TELEMETRY_FILTER');
  const filters = streamFilters(env.TELEMETRY_STREAM_FILTERS);
  const granularity = env.TELEMETRY_GRANULARITY === undefined || env.TELEMETRY_GRANULARITY === '' ? 'DAILY' : env.TELEMETRY_GRANULARITY;
  if (granularity !== 'DAILY' && granularity !== 'HOURLY') throw new Error(`TELEMETRY_GRANULARITY must be DAILY or HOURLY, got ${JSON.stringify(granularity)}`);
  const operation = (env.CLOUDZERO_TELEMETRY_OPERATION === undefined || env.CLOUDZERO_TELEMETRY_OPERATION === '' ? 'replace' : env.CLOUDZERO_TELEMETRY_OPERATION) as TelemetryOperation;
  if (!TELEMETRY_OPERATIONS.includes(operation)) throw new Error(`CLOUDZERO_TELEMETRY_OPERATION must be one of ${TELEMETRY_OPERATIONS.join(', ')}, got ${JSON.stringify(operation)}`);
  return {
    secretId: CLOUDZERO_SECRET_ARN,
    apiUrl,
    mapping: { streamPrefix, ...(filter !== undefined ? { filter } : {}), ...(filters !== undefined ? { filters } : {}) },
    granularity,
    operation,
  };
}

/** TELEMETRY_STREAM_FILTERS: `{"dynamodb_capacity_units": {"service": ["AmazonDynamoDB"]}, "response_bytes": null}`. */
function streamFilters(text: string | undefined): Partial<Record<ConsumptionStream, TelemetryFilter | null>> | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new TelemetryRecordError('TELEMETRY_STREAM_FILTERS is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TelemetryRecordError('TELEMETRY_STREAM_FILTERS must be an object of consumption stream → filter (or null)');
  const filters: Partial<Record<ConsumptionStream, TelemetryFilter | null>> = {};
  for (const [stream, filter] of Object.entries(value)) {
    if (!(CONSUMPTION_STREAMS as readonly string[]).includes(stream)) throw new TelemetryRecordError(`TELEMETRY_STREAM_FILTERS names ${JSON.stringify(stream)}, not one of ${CONSUMPTION_STREAMS.join(', ')}`);
    filters[stream as ConsumptionStream] = filter === null ? null : (checkTelemetryFilter(filter, `TELEMETRY_STREAM_FILTERS.${stream}`) ?? null);
  }
  return filters;
}

// Configuration problems stop the function at cold start, before it reads or sends anything.
const settings = exportSettings(process.env);
const source = consumptionSourceFromEnvironment(process.env);

/** A manual run names its day: `{ "day": "2026-11-20" }`; the schedule sends none (the previous UTC day). */
export interface CostTelemetryExportEvent {
  readonly day?: string;
}

/**
 * Daily (EventBridge Scheduler): exports the previous UTC day's tenant consumption to CloudZero, or
 * the day the event names. Throws when any request was not accepted, so the invocation fails and the
 * schedule retries it, then sends it to its dead-letter queue; a retry sends the whole day again,
 * which the default `replace` operation makes harmless.
 */
export async function handler(event: CostTelemetryExportEvent | null | undefined, context?: Context): Promise<TelemetryExportReport> {
  if (context) logger.addContext(context);
  const day = dayOf(event, Date.now());
  const apiKey = await readCloudZeroApiKey(settings.secretId);
  const sender = new CloudZeroTelemetryClient({ apiKey, baseUrl: settings.apiUrl });
  const report = await exportTelemetryForDay({ source, sender, mapping: settings.mapping, granularity: settings.granularity, operation: settings.operation }, day);
  if (!report.ok) {
    logger.error('CloudZero telemetry export incomplete', { report });
    throw new Error(failureSummary(report));
  }
  logger.info('CloudZero telemetry exported', { report });
  return report;
}

function dayOf(event: CostTelemetryExportEvent | null | undefined, now: number): string {
  const day = typeof event === 'object' && event !== null ? (event as { day?: unknown }).day : undefined;
  if (day === undefined) return previousUtcDay(now);
  if (typeof day !== 'string') throw new Error(`"day" must be a UTC date written yyyy-mm-dd, got ${JSON.stringify(day)}`);
  return day;
}

/** One line saying which requests failed and why (the first five). */
export function failureSummary(report: TelemetryExportReport): string {
  const records = report.failed.reduce((sum, failure) => sum + failure.records, 0);
  const reasons = report.failed.slice(0, 5).map((failure) => `${failure.stream}: ${failure.reason}`);
  const more = report.failed.length > 5 ? `; and ${report.failed.length - 5} more` : '';
  return `CloudZero telemetry export for ${report.day} failed: ${report.failed.length} of ${report.batches} requests (${records} records) were not accepted: ${reasons.join('; ')}${more}`;
}
