/**
 * One hour of AWS Marketplace metering at scale: `npm run bench:metering`.
 *
 * 10,000 customers × 3 dimensions = 30,000 usage hours of one closed hour, sent by the project's real
 * `runMetering` — usage hours in a local DynamoDB-compatible store (dynalite, `DynamoDbUsageStore`),
 * the pending-record protocol, the sender with its client-side `RateLimiter` on the real clock — through
 * the real AWS SDK client (`AwsMeteringService`) to the local Marketplace simulator, which enforces the
 * Metering Service's rules, throttles above 10 calls per second and keeps a ledger of what AWS would bill.
 *
 * Setup (not timed as part of the run): the usage table; 30,000 usage hours written with
 * `DynamoDbUsageStore.recordMeasurement` (bounded concurrency) and the hour marked aggregated with
 * `markHourAggregated`; every customer subscribed in the simulator, the product listed with the three
 * listing dimensions; the tenant directory is an in-memory map.
 *
 * Headline case: every customer has the legacy CustomerIdentifier, so records of many customers share
 * a call — target ceil(30,000 / 25) = 1,200 calls, where the AWS Marketplace serverless SaaS quick start
 * makes one call per customer (10,000) and never splits a call. Second case (smaller): customers with
 * the current identity (CustomerAWSAccountId + LicenseArn); one licence per call, so at best one call
 * per customer — batching cannot help there.
 *
 * Measured: calls made (sender) and received (simulator), calls throttled by the simulator (target 0:
 * the client-side limiter must keep under the limit), wall time of the run and where it goes (store
 * round trips, rate-limit waits, service calls), records per second, discrepancies between the ledger
 * and the usage measured (target 0), and the calls of a second run right after (target 0: idempotent).
 * `meetsTarget`: exactly the target number of calls, none throttled, no discrepancy, nothing held
 * back, and a second run with no call. For throttled calls, the bench shows why the limiter let them
 * through (its window counts from the grant, the simulator's from the arrival).
 *
 * Last, `readSeries` (which the run makes once per usage hour) is timed for one series with 0, 168
 * and 720 hours already sent: the series of the main case are new, so that cost of older tenants
 * would not show otherwise.
 *
 * Prints a summary and ends with one JSON line. Environment: BENCH_CUSTOMERS (default 10000),
 * BENCH_LICENSE_CUSTOMERS (second case, default 100; 0 skips it), BENCH_WRITE_CONCURRENCY (setup
 * writes in flight, default 32).
 */
import { QueryCommand, type QueryCommandOutput } from '@aws-sdk/client-dynamodb';
import * as os from 'node:os';
import { DynamoDbUsageStore, seriesPk } from '../adapters/dynamodb/dynamodb-usage-store';
import { usageTableDefinition } from '../adapters/dynamodb/usage-table-definition';
import { AwsMeteringService } from '../adapters/marketplace/aws-metering-service';
import { parseListingConfig } from '../core/marketplace/listing-config';
import { MAX_RECORDS_PER_CALL, type MeteringCustomer } from '../core/marketplace/metering-records';
import { runMetering, type BillableCustomer, type MeteringRunDependencies, type MeteringRunReport } from '../core/marketplace/metering-run';
import { planHourRecord } from '../core/usage/carry-forward';
import { HOUR_MS, hourKey, hourStart } from '../core/usage/hours';
import { parseMeteringConfig } from '../core/usage/metering-config';
import type { Measurement } from '../core/usage/request-dimensions';
import type { UsageStore } from '../core/usage/usage-store';
import { startLocalDynamoDb, type LocalDynamoDb } from '../local/dynamodb/local-dynamodb';
import { startMarketplaceSimulator } from '../local/marketplace/marketplace-simulator';
import { forEachBounded, OperationStats, TimedRateLimiter, timedService, timedStore, type CallWindow } from './support/metering-probes';
import { positiveIntegerFromEnv } from './support';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const CUSTOMERS = positiveIntegerFromEnv('BENCH_CUSTOMERS', 10_000);
const LICENSE_CUSTOMERS = positiveIntegerFromEnv('BENCH_LICENSE_CUSTOMERS', 100, true);
const WRITE_CONCURRENCY = positiveIntegerFromEnv('BENCH_WRITE_CONCURRENCY', 32);
/** BatchMeterUsage's limit per account and Region; the simulator's default and the limiter's setting. */
const CALLS_PER_SECOND = 10;
const PRODUCT = 'prod-bench0001';
const METERING = parseMeteringConfig({
  dimensions: [
    { name: 'api_requests', measure: 'requests', match: { resourcePaths: ['/random/strings'] } },
    { name: 'response_bytes', measure: 'response_bytes', match: { resourcePaths: ['*'] } },
    { name: 'errors', measure: 'requests', match: { resourcePaths: ['*'], statuses: [{ from: 500, to: 599 }] } },
  ],
  aggregation: { graceSeconds: 300, lookBackHours: 3, maxHoursPerRun: 48 },
});
const LISTING = parseListingConfig({ productCode: PRODUCT, dimensions: { api_requests: 'ApiRequests', response_bytes: 'ResponseBytes', errors: 'Errors' } }, METERING);
const DIMENSIONS = METERING.dimensions.map((d) => d.name);
const LISTING_DIMENSIONS = DIMENSIONS.map((d) => LISTING.dimensions[d] as string);
/** Quantities of each dimension are drawn from 1…this (deterministic). */
const QUANTITY_RANGE: Record<string, number> = { api_requests: 5_000, response_bytes: 50_000_000, errors: 50 };
/** Ages of one series (hours already sent before the hour) at which `readSeries` is timed. */
const SERIES_AGES = [0, 168, 720];

/** A deterministic quantity of a customer's dimension (1…range). */
function quantityOf(customer: number, dimension: number): number {
  let h = Math.imul(customer + 1, 0x9e3779b1) ^ Math.imul(dimension + 7, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h ^= h >>> 13;
  return ((h >>> 0) % QUANTITY_RANGE[DIMENSIONS[dimension]]) + 1;
}

type Identity = 'legacy' | 'license';

interface CaseSpec {
  readonly name: string;
  readonly identity: Identity;
  readonly customers: number;
}

interface CaseResult {
  readonly spec: CaseSpec;
  readonly records: number;
  readonly setupSeconds: number;
  readonly report: MeteringRunReport;
  /** Calls the sender made (report.calls) and the simulator received. */
  readonly calls: number;
  readonly received: number;
  readonly throttled: number;
  readonly targetCalls: number;
  readonly baselineCallsQuickStart: number;
  readonly recordsPerCall: { readonly min: number; readonly max: number; readonly mean: number };
  readonly wallSeconds: number;
  readonly prepareSeconds: number;
  readonly sendSeconds: number;
  readonly markSeconds: number;
  readonly stats: OperationStats;
  readonly measuredTotal: number;
  readonly ledgerTotal: number;
  readonly ledgerEntries: number;
  /** Customer-dimension pairs whose ledger quantity is not the measured one (missing, extra or different). */
  readonly mismatchedRecords: number;
  readonly discrepancies: number;
  readonly secondRunCalls: number;
  readonly secondRunReceived: number;
  readonly secondRunSeconds: number;
  readonly throttling: ThrottleDiagnosis;
  readonly meetsTarget: boolean;
}

/**
 * Why calls were throttled although the client-side limiter admitted them: for each throttled call,
 * the call 10 admissions earlier at the simulator — how far apart the limiter granted the two (its
 * clock: ≥ 1,000 ms) and how far apart they arrived (the simulator's clock: < 1,000 ms, hence throttled).
 */
interface ThrottleDiagnosis {
  readonly throttled: number;
  readonly clientGapMs?: { readonly min: number; readonly max: number };
  readonly serverGapMs?: { readonly min: number; readonly max: number };
  /** Grant → arrival at the simulator of the earlier call and of the throttled one (mean, ms). */
  readonly earlierDelayMs?: number;
  readonly throttledDelayMs?: number;
  /** Grant → arrival over all calls. */
  readonly delayMs: { readonly min: number; readonly median: number; readonly max: number };
}

function diagnoseThrottling(granted: readonly number[], arrivals: readonly { at: number; outcome: string }[], callsPerSecond: number): ThrottleDiagnosis {
  const n = Math.min(granted.length, arrivals.length);
  const delays = Array.from({ length: n }, (_, i) => arrivals[i].at - granted[i]).sort((a, b) => a - b);
  const admitted: number[] = [];
  const clientGaps: number[] = [];
  const serverGaps: number[] = [];
  const earlierDelays: number[] = [];
  const throttledDelays: number[] = [];
  for (let i = 0; i < n; i += 1) {
    if (arrivals[i].outcome !== 'ThrottlingException') {
      admitted.push(i);
      continue;
    }
    const j = admitted[admitted.length - callsPerSecond];
    if (j === undefined) continue;
    clientGaps.push(granted[i] - granted[j]);
    serverGaps.push(arrivals[i].at - arrivals[j].at);
    earlierDelays.push(arrivals[j].at - granted[j]);
    throttledDelays.push(arrivals[i].at - granted[i]);
  }
  const range = (values: number[]) => (values.length > 0 ? { min: Math.min(...values), max: Math.max(...values) } : undefined);
  const mean = (values: number[]) => (values.length > 0 ? round(values.reduce((a, b) => a + b, 0) / values.length, 2) : undefined);
  return {
    throttled: arrivals.filter((a) => a.outcome === 'ThrottlingException').length,
    clientGapMs: range(clientGaps),
    serverGapMs: range(serverGaps),
    earlierDelayMs: mean(earlierDelays),
    throttledDelayMs: mean(throttledDelays),
    delayMs: { min: delays[0] ?? 0, median: delays[Math.floor(n / 2)] ?? 0, max: delays[n - 1] ?? 0 },
  };
}

function customerOf(identity: Identity, index: number): MeteringCustomer {
  if (identity === 'legacy') return { customerIdentifier: `cust-${String(index).padStart(6, '0')}` };
  const account = String(100_000_000_000 + index);
  return { customerAWSAccountId: account, licenseArn: `arn:aws:license-manager::${account}:license:l-${index.toString(16).padStart(32, '0')}` };
}

/** Who a record bills, as the ledger names it: the licence, else the customer identifier. */
function billedCustomer(customer: MeteringCustomer): string {
  return 'licenseArn' in customer ? customer.licenseArn : customer.customerIdentifier;
}

/** The key a ledger entry and an expected record share: who and which listing dimension. */
function billedKey(who: string, listingDimension: string): string {
  return `${who}\u0000${listingDimension}`;
}

const seconds = (ms: number) => ms / 1000;
/** Least time `calls` sequential calls take under the limit: the first 10 at once, then 10 more each second. */
const rateFloorSeconds = (calls: number) => Math.max(0, Math.ceil(calls / CALLS_PER_SECOND) - 1);
const round = (value: number, digits: number) => Number(value.toFixed(digits));

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

async function runCase(dynamo: LocalDynamoDb, spec: CaseSpec, hour: number): Promise<CaseResult> {
  const table = `usage-bench-${spec.name}`;
  await dynamo.createTable(usageTableDefinition(table));
  const store = new DynamoDbUsageStore(dynamo.client, table);
  const simulator = await startMarketplaceSimulator({ maxCallsPerSecond: CALLS_PER_SECOND });
  try {
    // --- Setup: listing, subscriptions, directory, usage hours ------------------------------------
    const setupStarted = performance.now();
    const subscribedAt = hour - 30 * 24 * HOUR_MS;
    simulator.addProduct({ productCode: PRODUCT, dimensions: LISTING_DIMENSIONS });
    const directory = new Map<string, BillableCustomer>();
    const expected = new Map<string, number>();
    const measurements: Measurement[] = [];
    for (let i = 0; i < spec.customers; i += 1) {
      const tenantId = `${spec.name}-tenant-${String(i).padStart(6, '0')}`;
      const customer = customerOf(spec.identity, i);
      simulator.subscribe({ productCode: PRODUCT, ...customer, subscribedAt });
      directory.set(tenantId, { productCode: PRODUCT, customer, billable: true, subscribedAt });
      DIMENSIONS.forEach((dimension, d) => {
        const quantity = quantityOf(i, d);
        measurements.push({ tenantId, dimension, hour, quantity });
        expected.set(billedKey(billedCustomer(customer), LISTING_DIMENSIONS[d]), quantity);
      });
    }
    const asOf = Date.now();
    let written = 0;
    await forEachBounded(measurements, WRITE_CONCURRENCY, async (m) => {
      const outcome = await store.recordMeasurement(m, asOf, asOf);
      if (outcome !== 'created') throw new Error(`setup: usage hour ${m.tenantId}/${m.dimension} was ${outcome}, expected created`);
      written += 1;
      if (written % 10_000 === 0) log(`  ${spec.name}: ${written.toLocaleString('en')}/${measurements.length.toLocaleString('en')} usage hours written (${seconds(performance.now() - setupStarted).toFixed(1)} s)`);
    });
    await store.markHourAggregated(hour, asOf, measurements.length);
    const setupSeconds = seconds(performance.now() - setupStarted);
    const measuredTotal = measurements.reduce((sum, m) => sum + m.quantity, 0);
    log(`  ${spec.name}: setup done in ${setupSeconds.toFixed(1)} s; metering run starts (rate limit ${CALLS_PER_SECOND} calls/s, real clock)`);

    // --- The metering run ---------------------------------------------------------------------------
    const runStarted = performance.now();
    const progress = (name: string, stat: { count: number }) => {
      const every = name === 'service.batchMeterUsage' ? 200 : name === 'store.recordPendingSend' || name === 'store.markSent' ? 10_000 : 0;
      if (every > 0 && stat.count % every === 0) log(`  ${spec.name}: ${name} × ${stat.count.toLocaleString('en')} (${seconds(performance.now() - runStarted).toFixed(1)} s into the run)`);
    };
    const stats = new OperationStats(progress);
    const window: CallWindow = {};
    const limiter = new TimedRateLimiter(CALLS_PER_SECOND, stats);
    const deps: MeteringRunDependencies = {
      store: timedStore<UsageStore>(store, stats),
      directory: { customerOf: (tenantId) => stats.time('directory.customerOf', async () => directory.get(tenantId)) },
      service: timedService(new AwsMeteringService(simulator.client()), stats, window),
      limiter,
      listing: LISTING,
    };
    const report = await runMetering(deps, [hour]);
    const runEnded = performance.now();
    const afterFirst = simulator.calls();
    const log1 = afterFirst.log.filter((c) => c.operation === 'BatchMeterUsage');
    const throttled = log1.filter((c) => c.outcome === 'ThrottlingException').length;
    const throttling = diagnoseThrottling(limiter.granted, log1, CALLS_PER_SECOND);
    const accepted = log1.filter((c) => c.outcome === 'Success').map((c) => c.recordCount ?? 0);

    // --- Ledger against the usage measured ------------------------------------------------------------
    const ledger = simulator.ledger();
    const ledgerTotal = ledger.reduce((sum, e) => sum + e.quantity, 0);
    const billed = new Map<string, number>();
    for (const entry of ledger) {
      if (entry.hour !== hour) continue;
      const key = billedKey(entry.licenseArn ?? entry.customerIdentifier ?? entry.customerKey, entry.dimension);
      billed.set(key, (billed.get(key) ?? 0) + entry.quantity);
    }
    let mismatchedRecords = ledger.filter((e) => e.hour !== hour).length;
    for (const [key, quantity] of expected) if (billed.get(key) !== quantity) mismatchedRecords += 1;
    for (const key of billed.keys()) if (!expected.has(key)) mismatchedRecords += 1;
    const quantityDiscrepancy = Math.abs(ledgerTotal - measuredTotal);
    const entryDiscrepancy = Math.abs(ledger.length - measurements.length);
    const discrepancies = quantityDiscrepancy + entryDiscrepancy + mismatchedRecords;

    // --- A second run right after: nothing left to send --------------------------------------------------
    const secondStarted = performance.now();
    const second = await runMetering({ ...deps, store, service: new AwsMeteringService(simulator.client()), limiter: new TimedRateLimiter(CALLS_PER_SECOND, new OperationStats()) }, [hour]);
    const secondRunSeconds = seconds(performance.now() - secondStarted);
    const secondRunReceived = simulator.calls().batchMeterUsage - afterFirst.batchMeterUsage;
    if (simulator.ledger().length !== ledger.length) throw new Error('the second run billed something');

    const targetCalls = spec.identity === 'legacy' ? Math.ceil(measurements.length / MAX_RECORDS_PER_CALL) : spec.customers * Math.ceil(DIMENSIONS.length / MAX_RECORDS_PER_CALL);
    const firstCall = window.firstStart ?? runEnded;
    const lastCall = window.lastEnd ?? runEnded;
    const result: CaseResult = {
      spec,
      records: measurements.length,
      setupSeconds,
      report,
      calls: report.calls,
      received: afterFirst.batchMeterUsage,
      throttled,
      targetCalls,
      baselineCallsQuickStart: spec.customers,
      recordsPerCall: {
        min: accepted.length > 0 ? Math.min(...accepted) : 0,
        max: accepted.length > 0 ? Math.max(...accepted) : 0,
        mean: accepted.length > 0 ? accepted.reduce((a, b) => a + b, 0) / accepted.length : 0,
      },
      wallSeconds: seconds(runEnded - runStarted),
      prepareSeconds: seconds(firstCall - runStarted),
      sendSeconds: seconds(lastCall - firstCall),
      markSeconds: seconds(runEnded - lastCall),
      stats,
      measuredTotal,
      ledgerTotal,
      ledgerEntries: ledger.length,
      mismatchedRecords,
      discrepancies,
      secondRunCalls: second.calls,
      secondRunReceived,
      secondRunSeconds,
      throttling,
      meetsTarget: false,
    };
    return {
      ...result,
      meetsTarget: report.calls === targetCalls && afterFirst.batchMeterUsage === targetCalls && throttled === 0 && discrepancies === 0 && report.heldBack.length === 0 && second.calls === 0 && secondRunReceived === 0,
    };
  } finally {
    await simulator.close();
  }
}

/** `readSeries` + planning of one usage hour for a series with `ageHours` earlier hours already sent. */
interface SeriesAgeProbe {
  readonly ageHours: number;
  readonly items: number;
  readonly medianMs: number;
  /** Read units DynamoDB charges for that query (ConsistentRead, as readSeries reads), as the local server reports them. */
  readonly readUnits: number;
}

/**
 * What the run's per-item `readSeries` costs as tenants age: the benchmark's series are new (one
 * hour each), but `readSeries` reads every hour a series ever had. One series per age, its earlier
 * hours written and sent through the store's own methods, then its newest hour planned as the run does.
 */
async function probeSeriesAges(dynamo: LocalDynamoDb, hour: number): Promise<SeriesAgeProbe[]> {
  const probes: SeriesAgeProbe[] = [];
  for (const ageHours of SERIES_AGES) {
    const table = `usage-bench-age-${ageHours}`;
    await dynamo.createTable(usageTableDefinition(table));
    const store = new DynamoDbUsageStore(dynamo.client, table);
    const series = { tenantId: 'age-tenant-000001', dimension: 'response_bytes' };
    const asOf = Date.now();
    const earlier = Array.from({ length: ageHours }, (_, k) => hour - (ageHours - k) * HOUR_MS);
    await forEachBounded(earlier, WRITE_CONCURRENCY, async (h) => {
      const quantity = quantityOf(h / HOUR_MS, 1);
      await store.recordMeasurement({ ...series, hour: h, quantity }, asOf, asOf);
      const plan = { hour: h, measured: quantity, carriedIn: [], quantity };
      await store.recordPendingSend(series, plan, asOf);
      await store.markSent(series, plan, asOf);
    });
    await store.recordMeasurement({ ...series, hour, quantity: 42 }, asOf, asOf);
    const samples: number[] = [];
    let items = 0;
    for (let i = 0; i < 9; i += 1) {
      const started = performance.now();
      const stored = await store.readSeries(series);
      planHourRecord(stored, hour);
      samples.push(performance.now() - started);
      items = stored.length;
    }
    samples.sort((a, b) => a - b);
    // The query readSeries makes, once more, for the read units it consumes.
    let readUnits = 0;
    let startKey: QueryCommandOutput['LastEvaluatedKey'];
    do {
      const page: QueryCommandOutput = await dynamo.client.send(new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :hour)',
        ExpressionAttributeValues: { ':pk': { S: seriesPk(series) }, ':hour': { S: 'HOUR#' } },
        ConsistentRead: true,
        ReturnConsumedCapacity: 'TOTAL',
        ExclusiveStartKey: startKey,
      }));
      readUnits += page.ConsumedCapacity?.CapacityUnits ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    probes.push({ ageHours, items, medianMs: samples[Math.floor(samples.length / 2)], readUnits });
  }
  return probes;
}

function throttleLines(t: ThrottleDiagnosis): string[] {
  const lines = [`    limiter grant → arrival at the simulator: min ${t.delayMs.min} ms, median ${t.delayMs.median} ms, max ${t.delayMs.max} ms`];
  if (t.throttled > 0 && t.clientGapMs && t.serverGapMs) {
    lines.push(
      `    throttled calls: granted ${t.clientGapMs.min}–${t.clientGapMs.max} ms after the call ${CALLS_PER_SECOND} admissions earlier (limiter's clock), ` +
        `but arrived ${t.serverGapMs.min}–${t.serverGapMs.max} ms after it (simulator's window is 1,000 ms): that earlier call took ${t.earlierDelayMs} ms from grant to arrival, the throttled one ${t.throttledDelayMs} ms`,
    );
  }
  return lines;
}

function describe(result: CaseResult): string[] {
  const { spec, stats } = result;
  const ms = (name: string | readonly string[]) => (typeof name === 'string' ? stats.get(name) : stats.sum(name));
  const line = (label: string, name: string | readonly string[]) => {
    const stat = ms(name);
    const mean = stat.count > 0 ? stat.totalMs / stat.count : 0;
    return `      ${label.padEnd(34)} ${stat.count.toLocaleString('en').padStart(7)} × ${mean.toFixed(2).padStart(6)} ms = ${seconds(stat.totalMs).toFixed(1).padStart(6)} s (max ${stat.maxMs.toFixed(0)} ms)`;
  };
  const prepareStore = ['store.hourAggregatedAsOf', 'store.unsentHours', 'store.readSeries', 'store.recordPendingSend', 'directory.customerOf'];
  const prepareOther = result.prepareSeconds - seconds(ms(prepareStore).totalMs);
  const sendOther = result.sendSeconds - seconds(ms(['limiter.take', 'service.batchMeterUsage']).totalMs);
  const markOther = result.markSeconds - seconds(ms('store.markSent').totalMs);
  const identity = spec.identity === 'legacy' ? 'legacy CustomerIdentifier' : 'CustomerAWSAccountId + LicenseArn (one licence per call)';
  return [
    `  ${spec.name}: ${spec.customers.toLocaleString('en')} customers × ${DIMENSIONS.length} dimensions = ${result.records.toLocaleString('en')} usage hours, ${identity}`,
    `    setup (not timed in the run): ${result.setupSeconds.toFixed(1)} s`,
    `    calls: ${result.calls.toLocaleString('en')} made, ${result.received.toLocaleString('en')} received by the simulator, ${result.throttled} throttled (target ${result.targetCalls.toLocaleString('en')} calls, 0 throttled; the quick start makes ${result.baselineCallsQuickStart.toLocaleString('en')}, one per customer, and never splits)`,
    ...throttleLines(result.throttling),
    `    records per accepted call: min ${result.recordsPerCall.min}, mean ${result.recordsPerCall.mean.toFixed(1)}, max ${result.recordsPerCall.max}`,
    `    run: ${result.wallSeconds.toFixed(1)} s wall, ${Math.round(result.records / result.wallSeconds).toLocaleString('en')} records/s; the rate limit alone needs ≥ ${rateFloorSeconds(result.targetCalls)} s for ${result.targetCalls.toLocaleString('en')} calls`,
    `    report: success ${result.report.success.toLocaleString('en')}, duplicate ${result.report.duplicate}, held back ${result.report.heldBack.length}, not final ${result.report.notFinal.length}, quantity sent ${result.report.quantitySent.toLocaleString('en')}`,
    `    where the time goes (runMetering awaits one thing at a time):`,
    `    prepare (before the first call): ${result.prepareSeconds.toFixed(1)} s`,
    line('store.hourAggregatedAsOf', 'store.hourAggregatedAsOf'),
    line('store.unsentHours (GSI query)', 'store.unsentHours'),
    line('directory.customerOf', 'directory.customerOf'),
    line('store.readSeries (1 query per item)', 'store.readSeries'),
    line('store.recordPendingSend (1 write/item)', 'store.recordPendingSend'),
    `      ${'other (planning, in-process CPU)'.padEnd(34)} ${prepareOther.toFixed(1).padStart(34)} s`,
    `    send (first call to last): ${result.sendSeconds.toFixed(1)} s`,
    line('limiter.take (waiting)', 'limiter.take'),
    line('service.batchMeterUsage (SDK→sim)', 'service.batchMeterUsage'),
    `      ${'other (backoff after throttling)'.padEnd(34)} ${sendOther.toFixed(1).padStart(34)} s`,
    `    mark sent (after the last call): ${result.markSeconds.toFixed(1)} s`,
    line('store.markSent (1 write/item)', 'store.markSent'),
    `      ${'other'.padEnd(34)} ${markOther.toFixed(1).padStart(34)} s`,
    `    ledger: ${result.ledgerEntries.toLocaleString('en')} entries (expected ${result.records.toLocaleString('en')}), total ${result.ledgerTotal.toLocaleString('en')} vs measured ${result.measuredTotal.toLocaleString('en')}, ${result.mismatchedRecords} records differing → discrepancies ${result.discrepancies}`,
    `    second run right after: ${result.secondRunCalls} calls made, ${result.secondRunReceived} received, ${result.secondRunSeconds.toFixed(2)} s`,
    `    target ${result.meetsTarget ? 'met' : 'MISSED'}`,
  ];
}

async function main(): Promise<void> {
  const benchStarted = performance.now();
  // The last closed hour: within the service's 6-hour window for the whole bench.
  const hour = hourStart(Date.now()) - HOUR_MS;
  const dynamo = await startLocalDynamoDb();
  try {
    log(`metering bench: hour ${hourKey(hour)}, ${CUSTOMERS.toLocaleString('en')} customers (legacy identity)${LICENSE_CUSTOMERS > 0 ? ` + ${LICENSE_CUSTOMERS.toLocaleString('en')} customers (licence identity)` : ''}`);
    const headline = await runCase(dynamo, { name: 'legacy', identity: 'legacy', customers: CUSTOMERS }, hour);
    const licence = LICENSE_CUSTOMERS > 0 ? await runCase(dynamo, { name: 'licence', identity: 'license', customers: LICENSE_CUSTOMERS }, hour) : undefined;
    log('  readSeries against older series …');
    const ages = await probeSeriesAges(dynamo, hour);
    const perItemAt = (age: number) => ages.find((a) => a.ageHours === age);
    const oldest = ages[ages.length - 1];

    console.log(`metering benchmark: runMetering → DynamoDbUsageStore on dynalite (in-process) → AwsMeteringService (AWS SDK) → Marketplace simulator (${CALLS_PER_SECOND} calls/s), node ${process.version}, ${os.cpus().length} cores`);
    for (const line of describe(headline)) console.log(line);
    if (licence) for (const line of describe(licence)) console.log(line);
    console.log(`  readSeries + planning of one usage hour, by the age of its series (the run reads a series' history only while it has a carry marker, i.e. a late change waiting to be carried; this is the cost for such a series):`);
    for (const age of ages) {
      console.log(`    ${String(age.ageHours).padStart(5)} hours sent before: ${age.items.toLocaleString('en').padStart(5)} items read, median ${age.medianMs.toFixed(2).padStart(6)} ms, ${age.readUnits} read units → × ${headline.records.toLocaleString('en')} usage hours = ${seconds(age.medianMs * headline.records).toFixed(0)} s, ${(age.readUnits * headline.records).toLocaleString('en')} read units per run`);
    }
    console.log(`  bench took ${seconds(performance.now() - benchStarted).toFixed(0)} s`);

    const phase = (r: CaseResult) => ({
      prepareSeconds: round(r.prepareSeconds, 1),
      sendSeconds: round(r.sendSeconds, 1),
      markSeconds: round(r.markSeconds, 1),
      readSeriesSeconds: round(seconds(r.stats.get('store.readSeries').totalMs), 1),
      recordPendingSendSeconds: round(seconds(r.stats.get('store.recordPendingSend').totalMs), 1),
      markSentSeconds: round(seconds(r.stats.get('store.markSent').totalMs), 1),
      limiterWaitSeconds: round(seconds(r.stats.get('limiter.take').totalMs), 1),
      serviceSeconds: round(seconds(r.stats.get('service.batchMeterUsage').totalMs), 1),
      storeRoundTrips: r.stats.sum(['store.hourAggregatedAsOf', 'store.unsentHours', 'store.carryMarker', 'store.readUsageHour', 'store.readSeries', 'store.recordPendingSend', 'store.markSent']).count,
    });
    console.log(
      JSON.stringify({
        bench: 'metering',
        customers: headline.spec.customers,
        dimensions: DIMENSIONS.length,
        records: headline.records,
        calls: headline.calls,
        callsReceived: headline.received,
        targetCalls: headline.targetCalls,
        baselineCallsQuickStart: headline.baselineCallsQuickStart,
        throttled: headline.throttled,
        throttledServerGapMs: headline.throttling.serverGapMs,
        grantToArrivalMs: headline.throttling.delayMs,
        wallSeconds: round(headline.wallSeconds, 1),
        rateLimitFloorSeconds: rateFloorSeconds(headline.targetCalls),
        recordsPerSecond: Math.round(headline.records / headline.wallSeconds),
        ...phase(headline),
        ledgerEntries: headline.ledgerEntries,
        ledgerTotal: headline.ledgerTotal,
        measuredTotal: headline.measuredTotal,
        discrepancies: headline.discrepancies,
        heldBack: headline.report.heldBack.length,
        secondRunCalls: headline.secondRunCalls,
        readSeriesMsBySeriesAgeHours: Object.fromEntries(ages.map((a) => [a.ageHours, round(a.medianMs, 2)])),
        readSeriesReadUnitsBySeriesAgeHours: Object.fromEntries(ages.map((a) => [a.ageHours, a.readUnits])),
        projectedReadSeriesSecondsIfEverySeriesHadACarry: round(seconds((perItemAt(oldest.ageHours)?.medianMs ?? 0) * headline.records), 0),
        meetsTarget: headline.meetsTarget,
        licence: licence && {
          customers: licence.spec.customers,
          records: licence.records,
          calls: licence.calls,
          targetCalls: licence.targetCalls,
          baselineCallsQuickStart: licence.baselineCallsQuickStart,
          throttled: licence.throttled,
          wallSeconds: round(licence.wallSeconds, 1),
          recordsPerSecond: Math.round(licence.records / licence.wallSeconds),
          discrepancies: licence.discrepancies,
          secondRunCalls: licence.secondRunCalls,
          meetsTarget: licence.meetsTarget,
        },
      }),
    );
  } finally {
    await dynamo.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
