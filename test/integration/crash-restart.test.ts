/**
 * Fault injection on the local pipeline: the hourly billing cycle (aggregation, then Marketplace
 * metering, at ten past every hour, as `local/run/billing-cycle.ts` runs it) is crashed at EVERY step
 * it takes — every call of the usage store, the query engine and the Metering Service, both before the
 * call goes out and after it took effect with its answer lost — and brought back, through duplicated
 * deliveries, data arriving late into hours already billed, and throttling. After each restart the
 * remaining hours run and billing settles, and the reconciliation must stay exact: the usage store holds
 * the true usage of every hour, what was sent is the true usage, the simulator's ledger is exactly the
 * tier split of the sent records and bills the rating engine's amount, one entry per customer, listing
 * dimension and hour, no resend differs from what was billed, and no call is refused.
 *
 * Local engines only: a DuckDB lake, dynalite (one server, a fresh table per case), the Marketplace
 * simulator through the real AWS SDK. The crash injector is `local/faults/crash-points.ts`.
 *
 * Two restarts: the scheduler's retry of the crashed cycle a few minutes later, and (where the retries
 * were exhausted) the next hour's run, which finds the rows delivered meanwhile — late rows for hours
 * already billed among them — while a record the crashed run wrote pending must still go out unchanged.
 *
 * How every step fits in a minute (one run of the scenario takes ~500 steps, so running each of the
 * ~2,000 crash cases from scratch would take an hour):
 * - The clean run records the state after every step (the usage table's items and the Metering Service
 *   calls answered). The calls are made one at a time, and a crashed process does nothing more, so a
 *   crash before step k leaves the state after step k - 1 and a crash after step k the state after k.
 * - What a restarted process does depends only on that state (and on the lake and the clock, the same
 *   for every case of a cycle) — not on the values of a few timing attributes that no run acts on (see
 *   {@link TIMING_ATTRIBUTES}). The crash points are grouped by the state they leave: ~100 distinct ones.
 * - For each, a fresh table and simulator are brought to the cycle's start (items written back, calls
 *   replayed, both compared with the clean run's), the cycle is crashed FOR REAL at the group's first
 *   point (it must reject with the crash, or absorb it, and leave exactly the predicted state), and each
 *   restart runs from there. When a run comes back on the clean run's state at the end of a cycle, the
 *   rest is the clean run's, which is checked on its own; when it reaches a state another restart
 *   reached at the same cycle's end, the rest is that restart's; otherwise it runs to the end and is
 *   checked.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BatchWriteItemCommand, DeleteTableCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DuckDbLake } from '../../adapters/duckdb/duckdb-lake';
import { DuckDbUsageEngine } from '../../adapters/duckdb/duckdb-usage-engine';
import { DynamoDbUsageStore } from '../../adapters/dynamodb/dynamodb-usage-store';
import { usageTableDefinition } from '../../adapters/dynamodb/usage-table-definition';
import { AwsMeteringService } from '../../adapters/marketplace/aws-metering-service';
import { readMeteringConfigFile } from '../../config/metering-config-file';
import { readPricingConfigFile } from '../../config/pricing-config-file';
import { compileAccessLogFormat } from '../../local/api/access-log-writer';
import { forEachLimited } from '../../core/concurrency';
import { listingTargetOf } from '../../core/marketplace/listing-config';
import { tierQuantities, type MeteringRecord } from '../../core/marketplace/metering-records';
import type { BillableCustomer, MeteringRunDependencies } from '../../core/marketplace/metering-run';
import type { MeteringService } from '../../core/marketplace/metering-sender';
import { RateLimiter } from '../../core/marketplace/rate-limiter';
import { rateCharge } from '../../core/pricing/charges';
import { monthOf } from '../../core/pricing/periods';
import { seededRandom } from '../../core/seeded-random';
import { usageEventRecord } from '../../core/usage-events/usage-event-record';
import type { AggregationDependencies } from '../../core/usage/aggregation-job';
import { HOUR_MS, hourKey } from '../../core/usage/hours';
import type { UsageQuery, UsageQueryEngine } from '../../core/usage/usage-query-engine';
import type { StoredUsageHour, UsageStore } from '../../core/usage/usage-store';
import { startLocalDynamoDb, type LocalDynamoDb } from '../../local/dynamodb/local-dynamodb';
import { CRASH_POSITIONS, CrashError, CrashPoints, type CrashPosition, type CrashStep } from '../../local/faults/crash-points';
import type { LocalFirehoseRecord } from '../../local/firehose/local-firehose';
import { LocalLakeDelivery } from '../../local/lake/local-delivery';
import { startMarketplaceSimulator, type MarketplaceSimulator } from '../../local/marketplace/marketplace-simulator';
import { runBillingCycle, type BillingCycleReport } from '../../local/run/billing-cycle';
import { DeliveryFaults } from '../../local/run/delivery-faults';
import { demoListing } from '../../local/run/demo-listing';
import { reconcile, type BilledDimension, type LedgerLine, type StoredHour } from '../../local/run/reconcile';
import { TrueUsage } from '../../local/run/true-usage';
import { readUsageSql } from '../../sql/sql-files';
import { accessLogRow } from '../support/access-log-rows';

const METERING = readMeteringConfigFile();
const PRODUCT = 'prod-crash-restart';
/** The local run's listing: the shipped tiers, priced by the demo plan's small allowances (real money in a few hours). */
const { listing: LISTING, plan: LISTING_PLAN } = demoListing(METERING, readPricingConfigFile(METERING), PRODUCT);
const SQL = readUsageSql();
const DIMENSIONS = [...METERING.dimensions.map((d) => d.name), ...METERING.meters.map((m) => m.name)];
const BILLED: BilledDimension[] = DIMENSIONS.flatMap((dimension) => {
  const target = listingTargetOf(LISTING, dimension);
  return target?.kind === 'tiered' ? [{ dimension, compiled: target.compiled, plan: LISTING_PLAN }] : [];
});
const LISTING_DIMENSIONS = BILLED.flatMap((b) => b.compiled.tiers.map((t) => t.listingDimension));

const FIRST = Date.UTC(2026, 10, 18, 6);
const H = (i: number) => FIRST + i * HOUR_MS;
/** Hours of traffic; the cycle after each, and one more to settle (as `npm start` does). */
const HOURS = 4;
const CYCLES = HOURS + 1;
/** The jobs of hour `c` run at ten past the next hour. */
const cycleTime = (c: number) => H(c + 1) + 10 * 60_000;
/** The scheduler retries a failed run a few minutes later. */
const RESTART_DELAY_MS = 5 * 60_000;
/** As the local run: Firehose's buffering interval. */
const INGESTION_DELAY_SECONDS = 60;
/** Crash cases in flight at once (each on its own table and simulator). */
const POOL = 6;

const TENANTS = ['acme', 'globex', 'initech'];
const SUBSCRIBED_AT = FIRST - 24 * HOUR_MS;
const identity = (tenantId: string) => ({ customerAWSAccountId: `11112222333${TENANTS.indexOf(tenantId)}`, licenseArn: `arn:aws:license-manager::111122223333:license:l-${tenantId}` });
const customerKey = (tenantId: string) => `license:${identity(tenantId).licenseArn}`;
const customerOf = (tenantId: string): BillableCustomer | undefined =>
  TENANTS.includes(tenantId) ? { productCode: PRODUCT, customer: identity(tenantId), billable: true, subscribedAt: SUBSCRIBED_AT } : undefined;

// ---------------------------------------------------------------------------------------------------
// The scenario: what each tenant does, hour by hour, and when Firehose delivers it.

interface ScenarioRequest { readonly id: string; readonly tenant: string; readonly at: number; readonly status: number; readonly bytes: number; readonly method: string; readonly path: string; readonly copies: number }
interface ScenarioEvent { readonly id: string; readonly tenant: string; readonly meter: string; readonly quantity: string; readonly at: number; readonly copies: number }
/** What is delivered before the cycle of the same index runs. */
interface Phase { readonly requests: ScenarioRequest[]; readonly events: ScenarioEvent[] }

interface Scenario {
  readonly phases: readonly Phase[];
  /** The true usage, from what the tenants did (each request and event once), independent of the lake. */
  readonly truth: TrueUsage;
}

function buildScenario(): Scenario {
  const phases: Phase[] = Array.from({ length: HOURS }, () => ({ requests: [], events: [] }));
  const truth = new TrueUsage(METERING);
  let sequence = 0;
  const requests = (phase: number, tenant: string, hour: number, count: number, shape: Partial<Pick<ScenarioRequest, 'status' | 'method' | 'path'>> = {}) => {
    for (let i = 0; i < count; i++) {
      sequence += 1;
      // Every 40th request reaches the lake twice (Firehose delivers at least once).
      const request: ScenarioRequest = { id: `req-${sequence}`, tenant, at: H(hour) + 60_000 + i * 997, status: 200, bytes: 100 + (sequence % 61), method: 'GET', path: '/random/strings', copies: sequence % 40 === 0 ? 2 : 1, ...shape };
      phases[phase].requests.push(request);
      truth.recordResponse(tenant, { method: request.method, resourcePath: request.path, status: request.status, bodyBytes: request.bytes, at: request.at });
    }
  };
  const events = (phase: number, tenant: string, hour: number, meter: string, count: number) => {
    for (let i = 0; i < count; i++) {
      sequence += 1;
      // The first event of each batch is reported twice (same id): counted once.
      const event: ScenarioEvent = { id: `evt-${sequence}`, tenant, meter, quantity: '1', at: H(hour) + 90_000 + i * 1009, copies: i === 0 ? 2 : 1 };
      phases[phase].events.push(event);
      truth.recordEvent({ tenantId: tenant, id: event.id, meter, quantity: event.quantity, timestamp: event.at });
    }
  };
  // acme: a large tenant whose month crosses every api_requests tier (2, 1 and ½ cent), hours straddling two tiers.
  requests(0, 'acme', 0, 900);
  requests(1, 'acme', 1, 1500);
  requests(2, 'acme', 2, 800);
  requests(3, 'acme', 3, 100);
  requests(1, 'acme', 0, 7); // late, into 06:00, already billed: carried into a later record
  requests(2, 'acme', 0, 3); // two hours late
  requests(3, 'acme', 2, 4); // late into 08:00 (which the throttled variant leaves pending to the next cycle)
  events(0, 'acme', 0, 'reports_exported', 4);
  events(1, 'acme', 1, 'reports_exported', 3);
  events(2, 'acme', 1, 'reports_exported', 2); // late, into 07:00, already billed: rides on 08:00's record
  events(2, 'acme', 2, 'reports_exported', 1);
  // globex: crosses the free allowance of api_requests in its second hour; failed and non-metered calls.
  requests(0, 'globex', 0, 80);
  requests(0, 'globex', 0, 5, { status: 500 });
  requests(1, 'globex', 1, 40);
  requests(1, 'globex', 1, 3, { method: 'POST', path: '/jobs', status: 201 });
  requests(2, 'globex', 2, 10);
  requests(3, 'globex', 3, 5);
  // initech: nothing at 07:00 until 6 requests of that hour arrive after 08:00 was billed — too late to
  // bill in hour order, so they ride on a later record.
  requests(0, 'initech', 0, 60);
  requests(2, 'initech', 2, 70);
  requests(3, 'initech', 1, 6);
  requests(3, 'initech', 3, 30);
  return { phases, truth };
}

/** Lake rows exactly as the transform writes them, each copy delivered. */
async function appendPhaseRows(lake: DuckDbLake, phase: Phase): Promise<void> {
  await lake.appendAccessLogs(phase.requests.flatMap((r) => Array.from({ length: r.copies }, () => accessLogRow({ id: r.id, tenant: r.tenant, at: r.at, status: r.status, bytes: r.bytes, method: r.method, path: r.path }))));
  await lake.appendUsageEvents(phase.events.flatMap((e) => Array.from({ length: e.copies }, () => ({
    tenant_id: e.tenant, event_id: e.id, meter: e.meter, quantity: e.quantity, event_time: e.at * 1000, received_at: (e.at + 1000) * 1000, unique_value: null, properties: null, source: 'tenant',
  }))));
}

const renderAccessLog = compileAccessLogFormat();

/** The phase as Firehose records (API Gateway's access-log lines, the usage-events endpoint's records). */
function firehoseRecords(phase: Phase, arrival: number): LocalFirehoseRecord[] {
  const lines = [
    ...phase.requests.flatMap((r) => Array.from({ length: r.copies }, () => `${renderAccessLog({
      requestId: r.id, requestTimeEpoch: r.at, httpMethod: r.method, resourcePath: r.path, path: `/prod${r.path}`, status: r.status, protocol: 'HTTP/1.1',
      responseLength: r.bytes, sourceIp: '198.51.100.7', stage: 'prod', apiId: 'abc123', claims: { 'custom:tenant_id': r.tenant, 'cognito:username': `user-of-${r.tenant}` },
      responseLatency: 20, integrationLatency: 18,
    })}\n`)),
    ...phase.events.flatMap((e) => Array.from({ length: e.copies }, () => usageEventRecord({ index: 0, tenantId: e.tenant, id: e.id, meter: e.meter, quantity: e.quantity, eventTime: e.at }, e.at + 1000, 'tenant'))),
  ];
  return lines.map((line, i) => ({ recordId: `rec-${arrival}-${i}`, data: Buffer.from(line, 'utf8'), approximateArrivalTimestamp: arrival }));
}

// ---------------------------------------------------------------------------------------------------
// Variants, runs, states.

interface Variant {
  readonly name: string;
  readonly scenario: Scenario;
  /** The lake as each cycle sees it (phase p: everything delivered before cycle p). */
  readonly lakes: readonly DuckDbLake[];
  /** ThrottlingException burst at the start of each run of cycle `c` (the next N calls of the simulator). */
  readonly throttleBurst: (c: number) => number;
  /** Every distinct query any run of the variant sent to the engine, with the phase of the lake it read. */
  readonly queries: Map<string, { readonly phase: number; readonly query: UsageQuery }>;
}

/** One pipeline: a fresh usage table and a fresh simulator with its own clock. */
interface Run {
  readonly variant: Variant;
  readonly table: string;
  readonly store: DynamoDbUsageStore;
  readonly simulator: MarketplaceSimulator;
  readonly service: MeteringService;
  /** The run's simulated time: the jobs', the store writes' and the simulator's. */
  readonly clock: { now: number };
}

/** A Metering Service call of the clean run that was answered, replayed to bring a fresh simulator to a state. */
interface RecordedCall { readonly at: number; readonly records: readonly MeteringRecord[] }

/** The state of a run between two steps: the usage table's items and the Metering Service calls made. */
interface Snapshot {
  readonly items: readonly Record<string, AttributeValue>[];
  readonly calls: readonly RecordedCall[];
  /** Digest of everything (see {@link digests}). */
  readonly exact: string;
  /** Digest of what a later run can act on (see {@link digests}). */
  readonly state: string;
}

let dynamo: LocalDynamoDb;
let root: string;
const openLakes: DuckDbLake[] = [];
let tables = 0;

async function openRun(variant: Variant): Promise<Run> {
  const table = `usage-${++tables}`;
  await dynamo.createTable(usageTableDefinition(table));
  const clock = { now: SUBSCRIBED_AT };
  const simulator = await startMarketplaceSimulator({ now: () => clock.now });
  simulator.addProduct({ productCode: PRODUCT, dimensions: LISTING_DIMENSIONS });
  for (const tenantId of TENANTS) simulator.subscribe({ productCode: PRODUCT, ...identity(tenantId), subscribedAt: SUBSCRIBED_AT });
  return { variant, table, store: new DynamoDbUsageStore(dynamo.client, table), simulator, service: new AwsMeteringService(simulator.client()), clock };
}

async function closeRun(run: Run): Promise<void> {
  await run.simulator.close();
  await dynamo.client.send(new DeleteTableCommand({ TableName: run.table }));
}

/**
 * Runs the jobs of cycle `c` at `at` (or later, if the run's clock is past it): the variant's
 * throttling burst, then `runBillingCycle` on the lake of the cycle's phase. With `crash`, the store,
 * the engine and the service go through it.
 */
async function runCycle(run: Run, c: number, at: number, options: { crash?: CrashPoints; service?: MeteringService } = {}): Promise<BillingCycleReport> {
  run.clock.now = Math.max(run.clock.now, at);
  run.simulator.faults.set({ throttleNext: run.variant.throttleBurst(c) });
  const wrap = <T extends object>(name: string, dependency: T): T => (options.crash === undefined ? dependency : options.crash.wrap(name, dependency));
  const store: UsageStore = wrap('store', run.store);
  const phase = Math.min(c, HOURS - 1);
  const lakeEngine = new DuckDbUsageEngine(run.variant.lakes[phase]);
  const engine: UsageQueryEngine = wrap('engine', {
    name: lakeEngine.name,
    query: (query: UsageQuery) => {
      run.variant.queries.set(canonical([phase, query]), { phase, query });
      return lakeEngine.query(query);
    },
  });
  const service: MeteringService = wrap('service', options.service ?? run.service);
  const now = () => run.clock.now;
  const aggregation: AggregationDependencies = { engine, store, config: METERING, sql: SQL, ingestionDelaySeconds: INGESTION_DELAY_SECONDS, now, writeConcurrency: 1 };
  const metering: MeteringRunDependencies = {
    store,
    directory: { customerOf: async (tenantId) => customerOf(tenantId) },
    service,
    // As the local run: 8 calls a second on the simulated clock; waiting moves the clock.
    limiter: new RateLimiter(8, now, async (ms) => { run.clock.now += ms; }),
    listing: LISTING,
    now,
    sleep: async (ms) => { run.clock.now += ms; },
    // One call at a time, so that the steps come in the same order in every run.
    concurrency: 1,
  };
  return runBillingCycle(aggregation, metering, run.clock.now);
}

async function scanItems(run: Run): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamo.client.send(new ScanCommand({ TableName: run.table, ExclusiveStartKey: start, ConsistentRead: true }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

/** JSON with object keys sorted (and big integers as text), so equal values give equal text. */
function canonical(value: unknown): string {
  if (typeof value === 'bigint') return `"${value}n"`;
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Usage-table attributes whose value no later run acts on, only their presence: times written for
 * the record (`computedAt`, `pendingAt`, `sentAt`, the count `series`), the carry marker's counter
 * `changes` (a run compares it only with what it read itself, earlier in the same run), and `asOf`
 * (the start of the run that wrote it, compared only with the start of a later run, which is always
 * later). Two states that differ only there lead every later run to the same reads, writes and records.
 */
const TIMING_ATTRIBUTES = new Set(['computedAt', 'pendingAt', 'sentAt', 'series', 'changes', 'asOf']);

/**
 * `exact`: every item of the usage table, whole, and what the simulator billed. `state`: the same with
 * the {@link TIMING_ATTRIBUTES} reduced to their presence — what a restarted process can act on. (The
 * simulator's record ids and acceptance times are never read back; its pending faults are set afresh by
 * each run of a cycle.)
 */
function digests(items: readonly Record<string, AttributeValue>[], simulator: MarketplaceSimulator): { exact: string; state: string } {
  const ledger = simulator.ledger().map((e) => canonical([e.customerKey, e.dimension, e.hour, e.timestamp, e.quantity])).sort();
  const hash = (list: readonly unknown[]) => createHash('sha256').update(JSON.stringify([list.map(canonical).sort(), ledger])).digest('hex');
  const reduced = items.map((item) => Object.fromEntries(Object.entries(item).map(([name, value]) => [name, TIMING_ATTRIBUTES.has(name) ? 'present' : value])));
  return { exact: hash(items), state: hash(reduced) };
}

async function snapshot(run: Run, calls: readonly RecordedCall[]): Promise<Snapshot> {
  const items = await scanItems(run);
  return { items, calls: [...calls], ...digests(items, run.simulator) };
}

/** Brings a fresh run to a snapshot: the table's items written back, the answered calls replayed at their times. */
async function restore(run: Run, to: Snapshot): Promise<void> {
  for (let i = 0; i < to.items.length; i += 25) {
    let pending: Record<string, { PutRequest: { Item: Record<string, AttributeValue> } }[]> | undefined = { [run.table]: to.items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) };
    while (pending !== undefined && Object.keys(pending).length > 0) {
      const answer = await dynamo.client.send(new BatchWriteItemCommand({ RequestItems: pending }));
      pending = answer.UnprocessedItems as typeof pending;
    }
  }
  for (const call of to.calls) {
    run.clock.now = call.at;
    await run.service.batchMeterUsage(call.records);
  }
}

/** The Metering Service, noting each call that was answered (only those can have billed), with its time. */
function recording(run: Run, calls: RecordedCall[]): MeteringService {
  return {
    async batchMeterUsage(records) {
      const at = run.clock.now;
      const result = await run.service.batchMeterUsage(records);
      calls.push({ at, records: [...records] });
      return result;
    },
  };
}

/** Billed usage hours not yet sent: what the settling cycles wait for. */
async function unsettled(run: Run): Promise<number> {
  let count = 0;
  for (const tenantId of TENANTS) {
    for (const { dimension } of BILLED) count += (await run.store.readSeries({ tenantId, dimension })).filter((h) => h.sent === undefined).length;
  }
  return count;
}

// ---------------------------------------------------------------------------------------------------
// The checks: reconcile() and, independently, each property on its own.

async function verify(run: Run, reports: readonly BillingCycleReport[]): Promise<string[]> {
  const problems: string[] = [];
  const truth = run.variant.scenario.truth.hours();
  const series = new Map<string, StoredUsageHour[]>();
  const storedHours: StoredHour[] = [];
  for (const tenantId of TENANTS) {
    for (const dimension of DIMENSIONS) {
      const hours = await run.store.readSeries({ tenantId, dimension });
      series.set(`${tenantId} ${dimension}`, hours);
      for (const h of hours) storedHours.push({ tenantId, dimension, hour: h.hour, measured: h.measured, ...(h.sent === undefined ? {} : { sentQuantity: h.sent.quantity }) });
    }
  }
  const ledger = run.simulator.ledger();
  const ledgerLines: LedgerLine[] = ledger.map((e) => ({ customerKey: e.customerKey, dimension: e.dimension, hour: e.hour, quantity: e.quantity }));

  // The local run's reconciliation.
  const reconciliation = reconcile({ trueHours: truth, storedHours, ledger: ledgerLines, billed: BILLED, customerKeys: new Map(TENANTS.map((t) => [t, customerKey(t)])) });
  problems.push(...reconciliation.problems.map((p) => `reconcile: ${p}`));
  if (!reconciliation.exact && reconciliation.problems.length === 0) problems.push('reconcile: not exact');

  // Aggregated = true usage, hour by hour, both ways.
  const trueByHour = new Map(truth.map((h) => [`${h.tenantId} ${h.dimension} ${hourKey(h.hour)}`, h.quantity]));
  const storedByHour = new Map(storedHours.map((h) => [`${h.tenantId} ${h.dimension} ${hourKey(h.hour)}`, BigInt(h.measured)]));
  for (const key of new Set([...trueByHour.keys(), ...storedByHour.keys()])) {
    if ((trueByHour.get(key) ?? 0n) !== (storedByHour.get(key) ?? 0n)) problems.push(`${key}: true ${trueByHour.get(key) ?? 0n}, stored ${storedByHour.get(key) ?? 0n}`);
  }

  // One ledger entry per customer, listing dimension and hour, all of known customers.
  const keys = ledger.map((e) => `${e.customerKey} ${e.dimension} ${e.hour}`);
  if (new Set(keys).size !== keys.length) problems.push('the ledger holds two entries for one customer, listing dimension and hour');
  for (const e of ledger) if (!TENANTS.some((t) => customerKey(t) === e.customerKey)) problems.push(`ledger entry of an unknown customer ${e.customerKey}`);

  for (const { dimension, compiled } of BILLED) {
    const charge = LISTING_PLAN.charges.find((c) => c.dimension === dimension)!;
    const price = new Map(compiled.tiers.map((t) => [t.listingDimension, t.unitPriceMinor]));
    for (const tenantId of TENANTS) {
      const hours = series.get(`${tenantId} ${dimension}`)!;
      const trueHours = truth.filter((h) => h.tenantId === tenantId && h.dimension === dimension);
      // Every usage hour sent, and what was sent adds up to the true usage.
      for (const h of hours) if (h.sent === undefined) problems.push(`${tenantId} ${dimension} ${hourKey(h.hour)}: not sent (${h.pending === undefined ? 'unsent' : 'pending'})`);
      const sent = hours.reduce((sum, h) => sum + BigInt(h.sent?.quantity ?? 0), 0n);
      const trueTotal = trueHours.reduce((sum, h) => sum + h.quantity, 0n);
      if (sent !== trueTotal) problems.push(`${tenantId} ${dimension}: sent ${sent}, true ${trueTotal}`);
      // The ledger is exactly the tier split of the sent records, in hour order (a closed hour sends nothing).
      const expected: string[] = [];
      const running = new Map<number, bigint>();
      for (const h of hours) {
        if (h.sent === undefined) continue;
        const month = monthOf(h.hour).start;
        const closed = h.sent.quantity === 0 && h.sent.measured === 0 && h.sent.carriedIn.length === 0 && h.measured > 0;
        if (!closed) for (const share of tierQuantities(compiled.tiers, running.get(month) ?? 0n, h.sent.quantity)) expected.push(`${hourKey(h.hour)} ${share.listingDimension} ${share.quantity}`);
        running.set(month, (running.get(month) ?? 0n) + BigInt(h.sent.quantity));
      }
      const billed = ledger.filter((e) => e.customerKey === customerKey(tenantId) && price.has(e.dimension));
      const actual = billed.map((e) => `${hourKey(e.hour)} ${e.dimension} ${e.quantity}`);
      if (canonical([...actual].sort()) !== canonical([...expected].sort())) problems.push(`${tenantId} ${dimension}: ledger [${actual.join('; ')}], expected [${expected.join('; ')}]`);
      // Σ quantity × unit price = the rating engine's amount for the true usage, month by month.
      for (const month of new Set([...billed.map((e) => monthOf(e.hour).start), ...trueHours.map((h) => monthOf(h.hour).start)])) {
        const billedMinor = billed.filter((e) => monthOf(e.hour).start === month).reduce((sum, e) => sum + BigInt(e.quantity) * price.get(e.dimension)!, 0n);
        const used = trueHours.filter((h) => monthOf(h.hour).start === month).reduce((sum, h) => sum + h.quantity, 0n);
        const rated = rateCharge(charge, used, LISTING_PLAN).reduce((sum, line) => sum + line.amountMinor, 0n);
        if (billedMinor !== rated) problems.push(`${tenantId} ${dimension} ${hourKey(month).slice(0, 7)}: ledger ${billedMinor}, rating engine ${rated} (minor units)`);
      }
    }
  }

  problems.push(...checkCalls(run, reports));
  return problems;
}

/** What the Metering Service saw: every call accepted or throttled, and no resend differing from what was billed. */
function checkCalls(run: Run, reports: readonly BillingCycleReport[]): string[] {
  const problems: string[] = [];
  // Marketplace answers a different record of a billed customer, dimension and hour DuplicateRecord.
  const duplicates = reports.reduce((sum, r) => sum + r.metering.duplicate, 0);
  if (duplicates > 0) problems.push(`${duplicates} records answered DuplicateRecord: a resend differed from what was billed`);
  // None refused (timestamps out of bounds, unknown dimensions, malformed records).
  for (const call of run.simulator.calls().log) if (call.outcome !== 'Success' && call.outcome !== 'ThrottlingException') problems.push(`a ${call.operation} call was answered ${call.outcome}`);
  return problems;
}

// ---------------------------------------------------------------------------------------------------
// The clean run, and the crash cases.

interface CleanRun {
  /** `states[c][k]`: the state after step k of cycle c (`[c][0]`: at the cycle's start; without `everyStep`, only the start and the end). */
  readonly states: readonly (readonly Snapshot[])[];
  /** The steps of each cycle: the crash points. */
  readonly steps: readonly (readonly CrashStep[])[];
  readonly problems: readonly string[];
  readonly ledger: readonly LedgerLine[];
  readonly reports: readonly BillingCycleReport[];
  /** Sent records that carried late changes of earlier, already-billed hours. */
  readonly carryingRecords: number;
}

/** The scenario without crash, every cycle's steps counted and the state recorded after each. */
async function cleanRun(variant: Variant, options: { readonly everyStep: boolean } = { everyStep: true }): Promise<CleanRun> {
  const run = await openRun(variant);
  try {
    const states: Snapshot[][] = [];
    const steps: CrashStep[][] = [];
    const calls: RecordedCall[] = [];
    const reports: BillingCycleReport[] = [];
    for (let c = 0; c < CYCLES; c++) {
      const cycleStates = [await snapshot(run, calls)];
      const counter = new CrashPoints(options.everyStep ? { observe: async () => { cycleStates.push(await snapshot(run, calls)); } } : {});
      reports.push(await runCycle(run, c, cycleTime(c), { crash: counter, service: recording(run, calls) }));
      if (!options.everyStep) cycleStates.push(await snapshot(run, calls));
      states.push(cycleStates);
      steps.push([...counter.steps]);
    }
    const ledger = run.simulator.ledger().map((e) => ({ customerKey: e.customerKey, dimension: e.dimension, hour: e.hour, quantity: e.quantity }));
    let carryingRecords = 0;
    for (const tenantId of TENANTS) {
      for (const { dimension } of BILLED) carryingRecords += (await run.store.readSeries({ tenantId, dimension })).filter((h) => (h.sent?.carriedIn.length ?? 0) > 0).length;
    }
    return { states, steps, problems: await verify(run, reports), ledger, reports, carryingRecords };
  } finally {
    await closeRun(run);
  }
}

interface CrashPoint { readonly c: number; readonly step: CrashStep; readonly position: CrashPosition }

/** How the pipeline comes back after a crash in cycle c. */
type RestartMode =
  /** The scheduler's retry: cycle c again, a few minutes later, un-faulted. */
  | 'retry'
  /** No retry: the next hour's run, which also finds the data delivered meanwhile (late rows included). */
  | 'next hour';

interface CrashOutcome {
  /** Crash points in all, and the distinct states they leave. */
  readonly points: number;
  readonly states: number;
  /** Restarts run (one per state and mode), and those after which the state was the clean run's. */
  readonly modes: readonly RestartMode[];
  readonly restarts: number;
  readonly converged: number;
  /** Restarts that came back on the clean run's state a cycle or more later. */
  readonly rejoined: number;
  /** Restarts that reached, at a cycle's end, a state another restart had reached there (and went on from). */
  readonly joined: number;
  /** Crashes the code caught, after which the cycle still resolved (doing nothing more: the process was dead). */
  readonly absorbed: readonly string[];
  readonly problems: readonly string[];
}

const describePoint = (p: CrashPoint) => `cycle ${hourKey(H(p.c))} step ${p.step.index} (${p.step.target}.${p.step.method}) ${p.position}`;

/**
 * Every step of every cycle, before and after. The state a crash point leaves is the clean run's state
 * before or after that step (the calls are made one at a time, and nothing runs after a crash), so the
 * points are grouped by that state. For each group, on a fresh table and simulator brought to the
 * cycle's start, the cycle is crashed for real at the group's first point, and the state it leaves
 * must be exactly the predicted one. Then, from that state, each restart mode: if the restart leaves the
 * clean run's state at the end of the cycle it ran, what follows is the clean run's (checked on its
 * own); otherwise the remaining cycles run, billing settles, and the end result is checked.
 */
async function crashEveryStep(variant: Variant, clean: CleanRun, modes: readonly RestartMode[]): Promise<CrashOutcome> {
  if (clean.problems.length > 0) throw new Error(`the clean run of ${variant.name} is not exact: ${clean.problems.join('; ')}`);
  const groups = new Map<string, { c: number; state: Snapshot; points: CrashPoint[] }>();
  clean.steps.forEach((steps, c) => {
    for (const step of steps) {
      for (const position of CRASH_POSITIONS) {
        const state = clean.states[c][position === 'before' ? step.index - 1 : step.index];
        const key = `${c} ${state.state}`;
        const group = groups.get(key) ?? { c, state, points: [] };
        group.points.push({ c, step, position });
        groups.set(key, group);
      }
    }
  });
  const problems: string[] = [];
  const absorbed: string[] = [];
  let converged = 0;
  let rejoined = 0;
  let joined = 0;

  /**
   * The rest of the run from a state at a cycle's end, by that state: once a run reaches a state another
   * run reached at the same cycle's end, what follows is that run's (and so is its outcome).
   */
  const continuations = new Map<string, Promise<string[]>>();

  /** Brings the pipeline back after a crash in cycle c, runs it to the end, and checks the outcome. */
  async function restart(run: Run, c: number, mode: RestartMode, fail: (problem: string) => void): Promise<void> {
    const first = mode === 'retry' ? c : c + 1;
    const reports = [await runCycle(run, first, mode === 'retry' ? cycleTime(c) + RESTART_DELAY_MS : cycleTime(c + 1))];
    const shared: ((problems: string[]) => void)[] = [];
    let outcome: string[] | undefined;
    try {
      outcome = await runToTheEnd();
    } catch (error) {
      outcome = [`the run failed: ${String(error)}`];
    }
    for (const resolve of shared) resolve(outcome);
    for (const problem of outcome) fail(`after a restart (${mode}): ${problem}`);

    async function runToTheEnd(): Promise<string[]> {
      for (let cycle = first; ; cycle++) {
        const { state } = await snapshot(run, []);
        if (cycle < CYCLES && state === clean.states[cycle][clean.states[cycle].length - 1].state) {
          // Back on the clean run's state at the end of a cycle: from here on, the run is the clean run's.
          if (cycle === first) converged += 1;
          else rejoined += 1;
          return checkCalls(run, reports);
        }
        const key = `${cycle} ${state}`;
        const known = continuations.get(key);
        if (known !== undefined) {
          joined += 1;
          return [...checkCalls(run, reports), ...(await known)];
        }
        continuations.set(key, new Promise((resolve) => shared.push(resolve)));
        const next = cycle + 1;
        if (!(next < CYCLES || (next < CYCLES + 3 && (await unsettled(run)) > 0))) return verify(run, reports);
        reports.push(await runCycle(run, next, cycleTime(next)));
      }
    }
  }

  await forEachLimited([...groups.values()], POOL, async ({ c, state, points }) => {
    const first = points[0];
    const fail = (problem: string) => problems.push(`${variant.name}: ${describePoint(first)} (and ${points.length - 1} more points leaving the same state): ${problem}`);
    const crashed = await openRun(variant);
    try {
      const start = clean.states[c][0];
      await restore(crashed, start);
      if ((await snapshot(crashed, [])).exact !== start.exact) fail('the restored cycle start differs from the clean run');
      const crash = new CrashPoints({ crash: { step: first.step.index, position: first.position } });
      const failure = await runCycle(crashed, c, cycleTime(c), { crash }).then(() => undefined, (error: unknown) => error);
      if (failure === undefined) absorbed.push(describePoint(first));
      else if (!(failure instanceof CrashError)) fail(`the cycle failed otherwise than by the crash: ${String(failure)}`);
      if (crash.struck?.index !== first.step.index || crash.struck.position !== first.position) fail(`the crash did not strike as planned: ${JSON.stringify(crash.struck)}`);
      const taken = crash.steps.map((s) => `${s.target}.${s.method}`);
      if (canonical(taken) !== canonical(clean.steps[c].slice(0, first.step.index).map((s) => `${s.target}.${s.method}`))) fail('the steps up to the crash differ from the clean run');
      if ((await snapshot(crashed, [])).exact !== state.exact) fail('the crash left another state than predicted');
      await restart(crashed, c, modes[0], fail);
    } finally {
      await closeRun(crashed);
    }
    // The other modes start from the same state, brought to a fresh table and simulator.
    for (const mode of modes.slice(1)) {
      const run = await openRun(variant);
      try {
        await restore(run, state);
        if ((await snapshot(run, [])).exact !== state.exact) fail('the restored crash state differs from the predicted one');
        await restart(run, c, mode, fail);
      } finally {
        await closeRun(run);
      }
    }
  });
  const points = clean.steps.reduce((sum, s) => sum + s.length, 0) * CRASH_POSITIONS.length;
  return { points, states: groups.size, modes, restarts: groups.size * modes.length, converged, rejoined, joined, absorbed, problems };
}

// ---------------------------------------------------------------------------------------------------

/** Opens the lake of every phase: phase p holds every delivery up to p (each its own folder). */
async function phaseLakes(name: string, deliver: (lake: DuckDbLake, phase: number) => Promise<void>): Promise<DuckDbLake[]> {
  const lakes: DuckDbLake[] = [];
  let previous: string | undefined;
  for (let p = 0; p < HOURS; p++) {
    const folder = path.join(root, `${name}-${p}`);
    if (previous !== undefined) fs.cpSync(previous, folder, { recursive: true });
    const lake = await DuckDbLake.open(folder);
    openLakes.push(lake);
    await deliver(lake, p);
    lakes.push(lake);
    previous = folder;
  }
  return lakes;
}

const scenario = buildScenario();
let direct: Variant;
let throttled: Variant;
let firehose: Variant;
let firehoseDuplicates = 0;
let firehoseRejected = 0;
const started = Date.now();
const summary: string[] = [];

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  dynamo = await startLocalDynamoDb({ thread: true });
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'crash-restart-'));
  const directLakes = await phaseLakes('direct', (lake, p) => appendPhaseRows(lake, scenario.phases[p]));
  direct = { name: 'direct', scenario, lakes: directLakes, throttleBurst: () => 0, queries: new Map() };
  // Throttling: a burst at the start of every cycle's metering; at 09:10 one longer than the sender's
  // five tries, so 08:00's records stay pending until 10:10 (when late rows of 08:00 have arrived).
  throttled = { name: 'throttled', scenario, lakes: directLakes, throttleBurst: (c) => [2, 1, 6, 3][c] ?? 0, queries: new Map() };
  // Through the real transform, a seeded third of the records delivered twice by Firehose.
  const lakes = await phaseLakes('firehose', async (lake, p) => {
    const at = cycleTime(p) - 5 * 60_000;
    const delivery = new LocalLakeDelivery(lake, () => at);
    const faults = new DeliveryFaults((records) => delivery.deliver(records), { duplicate: 0.33, late: 0 }, seededRandom(100 + p));
    const records = firehoseRecords(scenario.phases[p], at);
    for (let i = 0; i < records.length; i += 500) await faults.processor(records.slice(i, i + 500));
    firehoseDuplicates += faults.counts().duplicatesDelivered;
    firehoseRejected += delivery.failed.length;
  });
  firehose = { name: 'firehose', scenario, lakes, throttleBurst: () => 0, queries: new Map() };
}, 60_000);

afterAll(async () => {
  for (const lake of openLakes) lake.close();
  await dynamo?.close();
  if (root !== undefined) fs.rmSync(root, { recursive: true, force: true });
  process.stdout.write(`crash-restart: ${summary.join('; ')}; ${((Date.now() - started) / 1000).toFixed(1)} s in all\n`);
});

const stepCount = (clean: CleanRun) => clean.steps.reduce((sum, steps) => sum + steps.length, 0);
const describeOutcome = (o: CrashOutcome) =>
  `${o.points} crash points (${o.points / 2} steps × before/after) leaving ${o.states} distinct states, each reached by a real crash (at its first point); ${o.restarts} restarts (${o.modes.join(', ')}): ${o.converged} back on the clean run's state at once, ${o.rejoined} after more cycles, ${o.joined} on another restart's path, ${o.restarts - o.converged - o.rejoined - o.joined} run to the end and checked; ${o.absorbed.length} crashes caught by the code`;
const stepLabels = (clean: CleanRun) => clean.steps.map((steps) => steps.map((s) => `${s.target}.${s.method}`));

describe('crash and restart at every step of the billing cycle', () => {
  /** The direct variant's clean run, shared by the tests (each can run alone). */
  let directCleanRun: Promise<CleanRun> | undefined;
  const directClean = () => (directCleanRun ??= cleanRun(direct));

  it('the clean run reconciles exactly, bills real money and meets every fault the scenario plans', async () => {
    const clean = await directClean();
    expect(clean.problems).toEqual([]);
    for (const tenantId of TENANTS) expect([tenantId, clean.ledger.some((e) => e.customerKey === customerKey(tenantId) && e.quantity > 0)]).toEqual([tenantId, true]);
    // Every tier of api_requests, and the reports tier, is billed for someone; some hours straddle two tiers.
    expect(new Set(clean.ledger.filter((e) => e.quantity > 0).map((e) => e.dimension))).toEqual(new Set(LISTING_DIMENSIONS));
    const perHour = new Map<string, number>();
    for (const e of clean.ledger) perHour.set(`${e.customerKey} ${e.hour}`, (perHour.get(`${e.customerKey} ${e.hour}`) ?? 0) + (e.dimension.startsWith('ApiRequests') ? 1 : 0));
    expect([...perHour.values()].some((n) => n > 1)).toBe(true);
    // Late data: changes of billed hours carried into later records, and an hour closed out of order.
    expect(clean.carryingRecords).toBeGreaterThanOrEqual(2);
    expect(clean.reports.reduce((sum, r) => sum + r.metering.closedOutOfOrder, 0)).toBeGreaterThanOrEqual(1);
    expect(clean.reports.some((r) => (r.aggregation?.outcomes.updated ?? 0) > 0)).toBe(true);
    // Duplicated deliveries: the lake holds some requests and events twice.
    const lake = direct.lakes[HOURS - 1];
    for (const sql of ['SELECT count(*) AS n, count(DISTINCT request_id) AS d FROM access_logs', 'SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM usage_events']) {
      const [counts] = await lake.query(sql);
      expect(Number(counts.n)).toBeGreaterThan(Number(counts.d));
    }
  }, 60_000);

  it('direct: a crash at any step, before or after the call, then a restart, keeps the reconciliation exact', async () => {
    const t0 = Date.now();
    const clean = await directClean();
    const outcome = await crashEveryStep(direct, clean, ['retry', 'next hour']);
    expect({ problems: outcome.problems.length, first: outcome.problems.slice(0, 20) }).toEqual({ problems: 0, first: [] });
    expect(outcome.points).toBe(stepCount(clean) * 2);
    summary.push(`direct: ${describeOutcome(outcome)}, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }, 600_000);

  it('throttled: the same through ThrottlingException bursts, one of them long enough to leave an hour pending to the next cycle', async () => {
    const t0 = Date.now();
    const clean = await cleanRun(throttled);
    expect(clean.problems).toEqual([]);
    const held = clean.reports.flatMap((r) => r.metering.heldBack).filter((h) => h.reason === 'unsent' && h.detail?.includes('ThrottlingException'));
    expect(held.length).toBeGreaterThan(0);
    expect(throttled.throttleBurst(2)).toBeGreaterThan(5); // the sender's tries
    const outcome = await crashEveryStep(throttled, clean, ['retry']);
    expect({ problems: outcome.problems.length, first: outcome.problems.slice(0, 20) }).toEqual({ problems: 0, first: [] });
    expect(outcome.points).toBe(stepCount(clean) * 2);
    expect(stepCount(clean)).toBeGreaterThan(stepCount(await directClean())); // the throttled calls are steps too
    summary.push(`throttled: ${describeOutcome(outcome)}, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }, 600_000);

  it('firehose duplicates: the same steps, states and answers as the rows appended directly, so every crash point is the direct case', async () => {
    expect([firehoseDuplicates > 0, firehoseRejected]).toEqual([true, 0]);
    const t0 = Date.now();
    const clean = await cleanRun(firehose, { everyStep: false });
    expect(clean.problems).toEqual([]);
    // The same calls, step for step, and the very same state at every cycle's start and end (every item, every timestamp, the ledger).
    const reference = await directClean();
    expect(stepLabels(clean)).toEqual(stepLabels(reference));
    const ends = (run: CleanRun) => run.states.map((states) => [states[0].exact, states[states.length - 1].exact]);
    expect(ends(clean)).toEqual(ends(reference));
    // Every query a run of the direct variant sent — clean, crashed, restarted, continued — gets the
    // same rows from the lake the transform wrote with duplicates; the lake is all a run reads of it.
    expect(direct.queries.size).toBeGreaterThan(0);
    for (const { phase, query } of direct.queries.values()) {
      const [fromDirect, fromFirehose] = await Promise.all([new DuckDbUsageEngine(direct.lakes[phase]).query(query), new DuckDbUsageEngine(firehose.lakes[phase]).query(query)]);
      expect(canonical(fromFirehose.rows)).toBe(canonical(fromDirect.rows));
    }
    const points = stepCount(clean) * CRASH_POSITIONS.length;
    summary.push(`firehose: ${firehoseDuplicates} records delivered twice; its ${points} crash points are direct's (same steps, same state at every cycle's start and end, same rows for all ${direct.queries.size} queries), ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }, 120_000);
});
