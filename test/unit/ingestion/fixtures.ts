/** Shared builders for the ingestion tests. */
import type { FirehoseTransformationEventRecord } from 'aws-lambda';
import { ACCESS_LOG_FIELDS } from '../../../core/access-log/fields';
import { routingFromEnvironment } from '../../../core/ingestion/record-kinds';
import { transformBatch, type IcebergTransformationResultRecord, type RecordFailure, type TransformOptions } from '../../../core/ingestion/transform-batch';

/** The fixed "now" of the tests: 2024-01-15T12:00:00Z. */
export const NOW = Date.UTC(2024, 0, 15, 12, 0, 0);

export const DATABASE = 'saas_metering';
export const TABLE = 'access_logs';
export const ROUTING = routingFromEnvironment({ ACCESS_LOG_DATABASE: DATABASE, ACCESS_LOG_TABLE: TABLE, USAGE_EVENT_DATABASE: DATABASE, USAGE_EVENT_TABLE: 'usage_events' });

/** A valid access log, as API Gateway writes it (every value a string, keys in field-list order). */
export function accessLog(overrides: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  return {
    request_id: 'c6b2a3e4-1f0d-4b8a-9c2e-5d7f8a9b0c1d',
    ip: '203.0.113.42',
    user: 'alice.smith',
    request_time: '1705319999123',
    http_method: 'GET',
    resource_path: '/random/strings',
    status: '200',
    protocol: 'HTTP/1.1',
    response_length: '123',
    tenant_id: 'tenant-0042',
    path: '/prod/random/strings',
    stage: 'prod',
    api_id: 'a1b2c3d4e5',
    response_latency: '12',
    integration_latency: '10',
    error_type: '-',
    ...overrides,
  };
}

/** The same object without some fields. */
export function without(record: Readonly<Record<string, unknown>>, ...names: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([name]) => !names.includes(name)));
}

/** A JSON line as API Gateway writes it (newline-terminated). */
export function line(record: Readonly<Record<string, unknown>> = accessLog()): string {
  return `${JSON.stringify(record)}\n`;
}

export function base64(data: string | Uint8Array): string {
  return Buffer.from(data).toString('base64');
}

export function firehoseRecord(data: string, recordId = 'record-1'): FirehoseTransformationEventRecord {
  return { recordId, approximateArrivalTimestamp: NOW, data };
}

/** Transforms a batch with the test clock and routing. */
export function transform(records: readonly FirehoseTransformationEventRecord[], options: TransformOptions = {}) {
  return transformBatch(records, ROUTING, { nowMillis: NOW, ...options });
}

export interface SingleOutcome {
  readonly result: IcebergTransformationResultRecord;
  readonly failure: RecordFailure | undefined;
  /** The decoded output of an Ok record. */
  readonly row: Record<string, unknown> | undefined;
  readonly outputText: string | undefined;
}

/** Transforms one record whose data is given as text, bytes or (with `raw`) as the exact data string. */
export function transformOne(payload: string | Uint8Array | { raw: unknown }, options: TransformOptions = {}): SingleOutcome {
  const data = typeof payload === 'object' && 'raw' in payload ? payload.raw : base64(payload as string | Uint8Array);
  const batch = transform([{ recordId: 'only', approximateArrivalTimestamp: NOW, data } as FirehoseTransformationEventRecord], options);
  const result = batch.records[0] as IcebergTransformationResultRecord;
  const outputText = result.result === 'Ok' ? Buffer.from(result.data as string, 'base64').toString('utf8') : undefined;
  return {
    result,
    failure: batch.failures[0],
    row: outputText === undefined ? undefined : (JSON.parse(outputText) as Record<string, unknown>),
    outputText,
  };
}

/** The smallest valid access log: every nullable field `-`, every other as short as allowed. */
export function smallestValidLine(requestTime = NOW): string {
  const record: Record<string, string> = {};
  for (const field of ACCESS_LOG_FIELDS) {
    if (field.nullable) record[field.name] = '-';
    else if (field.type === 'epoch_millis') record[field.name] = String(requestTime);
    else if (field.type === 'integer') record[field.name] = '200';
    else record[field.name] = 'x';
  }
  return JSON.stringify(record);
}
