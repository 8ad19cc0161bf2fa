/**
 * Throughput of the ingestion transform on one core: `tsx bench/transform.ts`.
 *
 * Builds a batch of realistic, valid API Gateway access logs (varied tenants, users, IPv4 and IPv6
 * addresses, statuses, absent values), then measures, after a warm-up, the median time of
 * `transformBatch` with full validation and of a minimal-work baseline in the same process (base64
 * decode, JSON.parse, JSON.stringify, base64 encode — no validation). Prints a short summary and ends
 * with one JSON line.
 *
 * The default batch is about 6 MB as a Firehose invocation request (Lambda's payload limit).
 * Environment: BENCH_RECORDS (default 8800), BENCH_REPETITIONS (default 15), BENCH_WARMUP (default 5).
 */
import type { FirehoseTransformationEventRecord } from 'aws-lambda';
import { routingInDatabase } from '../core/ingestion/record-kinds';
import { transformBatch } from '../core/ingestion/transform-batch';
import { medianMillis, positiveIntegerFromEnv, seededRandom } from './support';

const TARGET_RECORDS_PER_SECOND = 250_000;
const RECORDS = positiveIntegerFromEnv('BENCH_RECORDS', 8_800);
const REPETITIONS = positiveIntegerFromEnv('BENCH_REPETITIONS', 15);
const WARMUP = positiveIntegerFromEnv('BENCH_WARMUP', 5);
const NOW_MILLIS = Date.UTC(2025, 5, 1, 12, 0, 0);

const random = seededRandom(20250601);
const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
const integer = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
const hex = (length: number): string => Array.from({ length }, () => '0123456789abcdef'[integer(0, 15)]).join('');
const uuid = (): string => `${hex(8)}-${hex(4)}-4${hex(3)}-${pick(['8', '9', 'a', 'b'])}${hex(3)}-${hex(12)}`;

const TENANTS = Array.from({ length: 500 }, (_, i) => `tenant-${String(i).padStart(4, '0')}`);
const USERS = Array.from({ length: 5000 }, (_, i) =>
  i % 3 === 0 ? uuid() : `${pick(['alice', 'bob', 'chen', 'dana', 'erik', 'fatima', 'józef', 'ngozi'])}.${pick(['smith', 'müller', 'tanaka', 'okafor', 'garcía'])}${i}`,
);
const ROUTES = [
  { method: 'GET', resource: '/random/strings', weight: 8 },
  { method: 'POST', resource: '/usage', weight: 2 },
  { method: 'GET', resource: '/tenants/{tenantId}/usage', weight: 1 },
];
const WEIGHTED_ROUTES = ROUTES.flatMap((route) => Array.from({ length: route.weight }, () => route));
const API_ID = 'k3x9q2w8z1';

function ipAddress(): string {
  if (random() < 0.8) return `${integer(1, 223)}.${integer(0, 255)}.${integer(0, 255)}.${integer(1, 254)}`;
  return `2001:db8:${hex(4)}:${hex(4)}::${hex(integer(1, 4))}`;
}

/** One access-log line exactly as API Gateway writes it with the project's format. */
function accessLogLine(): string {
  const outcome = random();
  const unauthorized = outcome < 0.03;
  const throttled = !unauthorized && outcome < 0.05;
  const status = unauthorized ? 401 : throttled ? 429 : pick([200, 200, 200, 200, 200, 200, 200, 400, 500]);
  const route = pick(WEIGHTED_ROUTES);
  const tenant = pick(TENANTS);
  const resourcePath = route.resource;
  const path = `/prod${resourcePath.replace('{tenantId}', tenant)}`;
  const gatewayAnswered = unauthorized || throttled;
  const integrationLatency = integer(3, 250);
  const line = {
    request_id: uuid(),
    ip: ipAddress(),
    user: unauthorized ? '-' : pick(USERS),
    request_time: String(NOW_MILLIS - integer(0, 3_600_000)),
    http_method: route.method,
    resource_path: resourcePath,
    status: String(status),
    protocol: pick(['HTTP/1.1', 'HTTP/1.1', 'HTTP/2.0']),
    response_length: String(gatewayAnswered ? integer(20, 60) : integer(40, 20_000)),
    tenant_id: unauthorized ? '-' : tenant,
    path,
    stage: 'prod',
    api_id: API_ID,
    response_latency: String(gatewayAnswered ? integer(0, 3) : integrationLatency + integer(1, 15)),
    integration_latency: gatewayAnswered ? '-' : String(integrationLatency),
    error_type: unauthorized ? 'UNAUTHORIZED' : throttled ? 'THROTTLED' : '-',
  };
  return JSON.stringify(line);
}

function buildBatch(count: number): FirehoseTransformationEventRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    recordId: `4954698668313554428650745793632162567570019247${String(i).padStart(10, '0')}`,
    approximateArrivalTimestamp: NOW_MILLIS,
    data: Buffer.from(`${accessLogLine()}\n`, 'utf8').toString('base64'),
  }));
}

/** The least any processor does: decode, parse, re-serialise, encode; no validation, no routing. */
function baseline(records: readonly FirehoseTransformationEventRecord[]): { recordId: string; result: 'Ok'; data: string }[] {
  const output = new Array<{ recordId: string; result: 'Ok'; data: string }>(records.length);
  for (let i = 0; i < records.length; i++) {
    const record = records[i] as FirehoseTransformationEventRecord;
    const value: unknown = JSON.parse(Buffer.from(record.data, 'base64').toString('utf8'));
    output[i] = { recordId: record.recordId, result: 'Ok', data: Buffer.from(`${JSON.stringify(value)}\n`, 'utf8').toString('base64') };
  }
  return output;
}

const records = buildBatch(RECORDS);
const routing = routingInDatabase('saas_metering');
const batchBytes = records.reduce((sum, record) => sum + Buffer.from(record.data, 'base64').length, 0);
const requestBytes = Buffer.byteLength(JSON.stringify({ invocationId: 'bench', deliveryStreamArn: 'arn', region: 'eu-west-1', records }));

const check = transformBatch(records, routing, { nowMillis: NOW_MILLIS, responseBudgetBytes: Number.POSITIVE_INFINITY });
if (check.counts.ok !== records.length) {
  throw new Error(`benchmark batch is not all valid: ${check.counts.failed} failed, e.g. ${check.failures[0]?.reason}`);
}

// Full validation is measured without the response budget, which a batch this large would exceed
// (production batches are at most a few MB): the budget bookkeeping is still done for every record.
const transformMillis = medianMillis(() => transformBatch(records, routing, { nowMillis: NOW_MILLIS, responseBudgetBytes: Number.POSITIVE_INFINITY }), REPETITIONS, WARMUP);
const baselineMillis = medianMillis(() => baseline(records), REPETITIONS, WARMUP);
const recordsPerSecond = Math.round(records.length / (transformMillis / 1000));
const baselineRecordsPerSecond = Math.round(records.length / (baselineMillis / 1000));
const ratioToBaseline = Math.round((recordsPerSecond / baselineRecordsPerSecond) * 1000) / 1000;

console.log(`transform benchmark: ${records.length} valid access logs, ${(batchBytes / 1e6).toFixed(2)} MB of records (${(requestBytes / 1e6).toFixed(2)} MB as a Firehose request), node ${process.version}`);
console.log(`  transformBatch (full validation): median ${transformMillis.toFixed(2)} ms → ${recordsPerSecond.toLocaleString('en')} records/s`);
console.log(`  baseline (decode, parse, stringify, encode): median ${baselineMillis.toFixed(2)} ms → ${baselineRecordsPerSecond.toLocaleString('en')} records/s`);
console.log(`  ratio to baseline ${ratioToBaseline}; target ${TARGET_RECORDS_PER_SECOND.toLocaleString('en')} records/s ${recordsPerSecond >= TARGET_RECORDS_PER_SECOND ? 'met' : 'MISSED'} (${REPETITIONS} runs after ${WARMUP} warm-up runs)`);
console.log(
  JSON.stringify({
    bench: 'transform',
    records: records.length,
    batchBytes,
    requestBytes,
    recordsPerSecond,
    baselineRecordsPerSecond,
    ratioToBaseline,
    targetRecordsPerSecond: TARGET_RECORDS_PER_SECOND,
    meetsTarget: recordsPerSecond >= TARGET_RECORDS_PER_SECOND && ratioToBaseline >= 1,
  }),
);
