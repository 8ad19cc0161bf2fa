/**
 * Throughput of POST /usage's own work on one core: `tsx bench/usage-events.ts`.
 *
 * Builds requests of 500 realistic events (every meter kind, properties, decimal quantities), then
 * measures, after a warm-up, the median time of what the usage-events function does per request
 * before Firehose — parse the body, validate every event (`validateUsageRequest`), encode each
 * accepted event as its Firehose record — and, in the same process, of a minimal-work baseline
 * (JSON.parse of the body and JSON.stringify of each event, no validation). Then it runs the records
 * through the ingestion transform (`transformBatch`, the usage-event kind) and reports its rate.
 * Prints a short summary and ends with one JSON line.
 *
 * Target: validation and encoding cost at most 5× the baseline (the function stays a thin, cheap
 * hop: at 500 events per request, API Gateway and Firehose dominate latency and cost).
 * Environment: BENCH_REQUESTS (default 200), BENCH_REPETITIONS (default 15), BENCH_WARMUP (default 5).
 */
import type { FirehoseTransformationEventRecord } from 'aws-lambda';
import { routingInDatabase } from '../core/ingestion/record-kinds';
import { transformBatch } from '../core/ingestion/transform-batch';
import { usageEventRecord } from '../core/usage-events/usage-event-record';
import { validateUsageRequest } from '../core/usage-events/usage-event-validation';
import { parseMeteringConfig } from '../core/usage/metering-config';
import meteringJson from '../config/metering.json';
import { medianMillis, positiveIntegerFromEnv, seededRandom } from './support';

const TARGET_RATIO = 5;
const EVENTS_PER_REQUEST = 500;
const REQUESTS = positiveIntegerFromEnv('BENCH_REQUESTS', 200);
const REPETITIONS = positiveIntegerFromEnv('BENCH_REPETITIONS', 15);
const WARMUP = positiveIntegerFromEnv('BENCH_WARMUP', 5);
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const CONFIG = parseMeteringConfig(meteringJson);

const random = seededRandom(20261123);
const integer = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));

function event(request: number, index: number): Record<string, unknown> {
  const meter = CONFIG.meters[index % CONFIG.meters.length];
  const timestamp = new Date(NOW - integer(0, 2 * 3_600_000)).toISOString();
  const base = { id: `job-${request}-${index}-${integer(0, 1e9)}`, meter: meter.name, timestamp, properties: { region: 'eu-west-1', model: index % 2 ? 'large' : 'small', batch: integer(1, 50) } };
  switch (meter.aggregation) {
    case 'COUNT':
      return base;
    case 'UNIQUE_COUNT':
      return { ...base, properties: { ...base.properties, [meter.property!]: `user-${integer(1, 5000)}` } };
    default:
      return { ...base, quantity: meter.decimals > 0 ? integer(0, 10_000_000) / 10 ** meter.decimals : integer(0, 100_000) };
  }
}

const bodies = Array.from({ length: REQUESTS }, (_, r) => JSON.stringify({ events: Array.from({ length: EVENTS_PER_REQUEST }, (_, i) => event(r, i)) }));
const bodyBytes = bodies.reduce((sum, body) => sum + Buffer.byteLength(body), 0);

function endpointWork(): number {
  let records = 0;
  for (const body of bodies) {
    const validation = validateUsageRequest(JSON.parse(body), { kind: 'tenant', tenantId: 'acme' }, CONFIG, NOW);
    if (!validation.ok || validation.rejected.length > 0) throw new Error('the benchmark requests must be valid');
    for (const accepted of validation.accepted) records += usageEventRecord(accepted, NOW, 'tenant').length > 0 ? 1 : 0;
  }
  return records;
}

function baseline(): number {
  let records = 0;
  for (const body of bodies) for (const item of (JSON.parse(body) as { events: unknown[] }).events) records += JSON.stringify(item).length > 0 ? 1 : 0;
  return records;
}

const events = REQUESTS * EVENTS_PER_REQUEST;
const endpointMs = medianMillis(endpointWork, REPETITIONS, WARMUP);
const baselineMs = medianMillis(baseline, REPETITIONS, WARMUP);

// The transform's share: the same events as Firehose hands them to the transform, in 6 MB-ish batches.
const records: FirehoseTransformationEventRecord[] = [];
for (const body of bodies.slice(0, 20)) {
  const validation = validateUsageRequest(JSON.parse(body), { kind: 'tenant', tenantId: 'acme' }, CONFIG, NOW);
  if (!validation.ok) throw new Error('invalid');
  for (const accepted of validation.accepted) records.push({ recordId: String(records.length), approximateArrivalTimestamp: NOW, data: Buffer.from(usageEventRecord(accepted, NOW, 'tenant')).toString('base64') });
}
const routing = routingInDatabase('db');
const transformMs = medianMillis(() => {
  const result = transformBatch(records, routing, { nowMillis: NOW });
  if (result.counts.ok !== records.length) throw new Error('every record must pass the transform');
  return result.counts.ok;
}, REPETITIONS, WARMUP);

const eventsPerSecond = Math.round(events / (endpointMs / 1000));
const baselinePerSecond = Math.round(events / (baselineMs / 1000));
const ratio = endpointMs / baselineMs;
const transformPerSecond = Math.round(records.length / (transformMs / 1000));
console.log(`usage events: ${REQUESTS} requests × ${EVENTS_PER_REQUEST} events (${(bodyBytes / REQUESTS / 1024).toFixed(0)} KiB per request), median of ${REPETITIONS} after ${WARMUP} warm-up runs, one core`);
console.log(`  validate + encode:   ${eventsPerSecond.toLocaleString('en')} events/s (${(endpointMs / REQUESTS).toFixed(2)} ms per 500-event request)`);
console.log(`  baseline parse+stringify: ${baselinePerSecond.toLocaleString('en')} events/s`);
console.log(`  ratio ${ratio.toFixed(2)} (target ≤ ${TARGET_RATIO})`);
console.log(`  transform (usage-event kind): ${transformPerSecond.toLocaleString('en')} records/s over ${records.length.toLocaleString('en')} records`);
console.log(JSON.stringify({ bench: 'usage-events', eventsPerSecond, baselineEventsPerSecond: baselinePerSecond, ratio: Number(ratio.toFixed(2)), targetRatio: TARGET_RATIO, msPerRequest: Number((endpointMs / REQUESTS).toFixed(3)), transformRecordsPerSecond: transformPerSecond, met: ratio <= TARGET_RATIO }));
