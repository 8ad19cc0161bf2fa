/**
 * Reconciliation of tiered plans billed through AWS Marketplace, end to end on local engines: usage
 * aggregated from a Parquet lake into a DynamoDB-compatible store, split between per-tier listing
 * dimensions by the tenant's running total of the month, sent with the real AWS SDK to the Marketplace
 * simulator. What the simulator's ledger bills (Σ quantity × the listing dimension's price) must equal
 * the rating engine's amount for the tenant's measured usage of the month, exactly — through crashes
 * between the tier records of an hour, partial outcomes, late changes, late hours and overlapping runs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDbLake } from '../../adapters/duckdb/duckdb-lake';
import { DuckDbUsageEngine } from '../../adapters/duckdb/duckdb-usage-engine';
import { DynamoDbUsageStore } from '../../adapters/dynamodb/dynamodb-usage-store';
import { usageTableDefinition } from '../../adapters/dynamodb/usage-table-definition';
import { AwsMeteringService } from '../../adapters/marketplace/aws-metering-service';
import { parseListingConfig } from '../../core/marketplace/listing-config';
import { meteringHours, unsendableHours } from '../../core/marketplace/metering-hours';
import { monthSpanOf, tierQuantities } from '../../core/marketplace/metering-records';
import { runMetering, type BillableCustomer, type MeteringRunDependencies, type MeteringRunReport } from '../../core/marketplace/metering-run';
import type { MeteringService } from '../../core/marketplace/metering-sender';
import { RateLimiter } from '../../core/marketplace/rate-limiter';
import { compileTieredDimension } from '../../core/pricing/marketplace-tiers';
import { monthOf } from '../../core/pricing/periods';
import { parsePlan } from '../../core/pricing/plan-schema';
import { rateUsage } from '../../core/pricing/rating';
import { runScheduledAggregation, type AggregationDependencies } from '../../core/usage/aggregation-job';
import { HOUR_MS } from '../../core/usage/hours';
import { parseMeteringConfig } from '../../core/usage/metering-config';
import { startLocalDynamoDb, type LocalDynamoDb } from '../../local/dynamodb/local-dynamodb';
import { startMarketplaceSimulator, type MarketplaceSimulator } from '../../local/marketplace/marketplace-simulator';
import { readUsageSql } from '../../sql/sql-files';
import { accessLogRow } from '../support/access-log-rows';

const PRODUCT = 'prod-tiers';
const TIER_NAMES = ['ApiRequestsTier1', 'ApiRequestsTier2', 'ApiRequestsTier3'];
const METERING = parseMeteringConfig({
  dimensions: [
    { name: 'api_requests', measure: 'requests', match: { resourcePaths: ['/random/strings'] } },
    { name: 'response_bytes', measure: 'response_bytes', match: { resourcePaths: ['*'] } },
  ],
  aggregation: { graceSeconds: 300, lookBackHours: 6, maxHoursPerRun: 48 },
});
/**
 * Small tiers, so that a few requests an hour cross every boundary: 5 free a month, then units 6-25 at
 * 7 cents, 26-55 at 3 cents, and beyond at 1 cent per 3 units (a fractional price, metered as charge).
 */
const PLAN = parsePlan({
  id: 'growth',
  name: 'Growth',
  currency: 'USD',
  charges: [{
    dimension: 'api_requests',
    kind: 'graduated',
    freeAllowance: 5,
    tiers: [{ upTo: 20, price: 7 }, { upTo: 50, price: 3 }, { upTo: null, price: { amountMinor: 1, per: 3 } }],
  }],
});
const LISTING = parseListingConfig(
  { productCode: PRODUCT, dimensions: { api_requests: { tiers: TIER_NAMES, plan: 'growth', fractionalPrices: 'meter-charge' }, response_bytes: null } },
  METERING,
  [PLAN],
);
const COMPILED = compileTieredDimension(PLAN.charges[0], TIER_NAMES, { fractionalPrices: 'meter-charge' });
const UNIT_PRICE = new Map(COMPILED.tiers.map((t) => [t.listingDimension, t.unitPriceMinor]));
const SERIES = { tenantId: 'acme', dimension: 'api_requests' };

let dynamo: LocalDynamoDb;
let tables = 0;
beforeAll(async () => { dynamo = await startLocalDynamoDb(); });
afterAll(async () => { await dynamo.close(); });

describe('tiered plans on AWS Marketplace', () => {
  let root: string;
  let lake: DuckDbLake;
  let store: DynamoDbUsageStore;
  let simulator: MarketplaceSimulator;
  let clock: number;
  let aggregation: AggregationDependencies;
  let metering: MeteringRunDependencies;
  let reports: MeteringRunReport[];
  let generated: number;

  async function setUp(subscribedAt: number) {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-tiers-'));
    lake = await DuckDbLake.open(root);
    const table = `usage-t${++tables}`;
    await dynamo.createTable(usageTableDefinition(table));
    store = new DynamoDbUsageStore(dynamo.client, table);
    simulator = await startMarketplaceSimulator({ now: () => clock });
    simulator.addProduct({ productCode: PRODUCT, dimensions: TIER_NAMES });
    simulator.subscribe({ productCode: PRODUCT, customerIdentifier: 'cust-acme', subscribedAt });
    const customer: BillableCustomer = { productCode: PRODUCT, customer: { customerIdentifier: 'cust-acme' }, billable: true, subscribedAt };
    aggregation = { engine: new DuckDbUsageEngine(lake), store, config: METERING, sql: readUsageSql(), ingestionDelaySeconds: 120, now: () => clock };
    metering = {
      store,
      directory: { customerOf: async (tenantId) => (tenantId === 'acme' ? customer : undefined) },
      service: new AwsMeteringService(simulator.client()),
      limiter: new RateLimiter(10, () => clock, async (ms) => { clock += ms; }),
      listing: LISTING,
      now: () => clock,
      sleep: async (ms) => { clock += ms; },
    };
    reports = [];
    generated = 0;
  }

  afterEach(async () => {
    await simulator.close();
    lake.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  /** `count` successful API calls of acme in `hour` (ids distinct per `prefix`). */
  async function use(hour: number, count: number, prefix = 'r') {
    generated += count;
    await lake.appendAccessLogs(Array.from({ length: count }, (_, i) => accessLogRow({ id: `${prefix}-${hour}-${i}`, tenant: 'acme', at: hour + 20 * 60_000 + i })));
  }

  /** The scheduled jobs of the hour after `hour`: aggregation, then metering of the send window. */
  async function hourlyJobs(hour: number, deps: MeteringRunDependencies = metering): Promise<MeteringRunReport> {
    clock = hour + HOUR_MS + 10 * 60_000;
    await runScheduledAggregation(aggregation);
    return meter(deps);
  }

  async function meter(deps: MeteringRunDependencies = metering): Promise<MeteringRunReport> {
    const report = await runMetering(deps, meteringHours(clock), unsendableHours(clock));
    reports.push(report);
    return report;
  }

  const ledger = () => simulator.ledger().filter((e) => e.customerIdentifier === 'cust-acme');
  const billedFor = (hour: number) => ledger().filter((e) => e.hour === hour).map((e) => ({ dimension: e.dimension, quantity: e.quantity }));

  /** What the ledger bills for the month containing `hour`, in minor units. */
  function ledgerAmount(hour: number): bigint {
    const month = monthSpanOf(hour);
    return ledger()
      .filter((e) => e.hour >= month.start && e.hour < month.end)
      .reduce((sum, e) => sum + BigInt(e.quantity) * UNIT_PRICE.get(e.dimension)!, 0n);
  }

  /** The ledger as it must be: every sent hour of the month split at the running total of the ones before. */
  async function expectedLedger(hour: number) {
    const month = monthSpanOf(hour);
    let running = 0n;
    const entries: { hour: number; dimension: string; quantity: number }[] = [];
    for (const h of (await store.readSeries(SERIES)).filter((s) => s.hour >= month.start && s.hour < month.end && s.sent !== undefined)) {
      // Closed hours (sent with nothing of their own) sent no record.
      const closed = h.sent!.quantity === 0 && h.sent!.measured === 0 && h.sent!.carriedIn.length === 0 && h.measured > 0;
      if (!closed) for (const share of tierQuantities(COMPILED.tiers, running, h.sent!.quantity)) entries.push({ hour: h.hour, dimension: share.listingDimension, quantity: share.quantity });
      running += BigInt(h.sent!.quantity);
    }
    return entries;
  }

  async function measuredIn(hour: number): Promise<number> {
    const month = monthSpanOf(hour);
    return (await store.readSeries(SERIES)).filter((s) => s.hour >= month.start && s.hour < month.end).reduce((sum, s) => sum + s.measured, 0);
  }

  it('bills exactly what the rating engine gives for the month, through a crash between tier records, partial outcomes, late usage and overlapping runs', async () => {
    const start = Date.UTC(2026, 10, 10, 0);
    const H = (i: number) => start + i * HOUR_MS;
    await setUp(start - 24 * HOUR_MS);
    const counts = [3, 4, 9, 0, 12, 1, 15, 12, 2, 20, 5, 8, 1, 7];

    // 00:00-02:00: 3 requests (all free: one zero record), then 4 and 9 (crossing into tier 1).
    for (const i of [0, 1, 2]) {
      await use(H(i), counts[i]);
      await hourlyJobs(H(i));
    }
    expect(billedFor(H(0))).toEqual([{ dimension: 'ApiRequestsTier1', quantity: 0 }]);
    expect(billedFor(H(1))).toEqual([{ dimension: 'ApiRequestsTier1', quantity: 2 }]); // units 4-7: 6 and 7 billed
    expect(billedFor(H(2))).toEqual([{ dimension: 'ApiRequestsTier1', quantity: 9 }]); // units 8-16

    // 03:00 has no usage. 04:00: 12 requests (units 17-28) straddle tiers 1 and 2. The process dies
    // after Marketplace billed the tier-1 record and before the tier-2 record went out.
    await hourlyJobs(H(3));
    await use(H(4), counts[4]);
    const crashing: MeteringService = {
      async batchMeterUsage(records) {
        if (records.length === 1) return metering.service.batchMeterUsage(records);
        await metering.service.batchMeterUsage(records.slice(0, 1));
        throw new Error('connection reset');
      },
    };
    await expect(hourlyJobs(H(4), { ...metering, service: crashing, sleep: async () => { throw new Error('process killed'); } })).rejects.toThrow('process killed');
    expect(billedFor(H(4))).toEqual([{ dimension: 'ApiRequestsTier1', quantity: 9 }]);
    expect((await store.readUsageHour(SERIES, H(4)))?.pending?.quantity).toBe(12);
    // Restart: the same split from the same history; tier 1 again (not billed twice), tier 2 billed.
    const restart = await meter();
    expect(restart).toMatchObject({ success: 2, duplicate: 0, heldBack: [] });
    expect(billedFor(H(4))).toEqual([{ dimension: 'ApiRequestsTier1', quantity: 9 }, { dimension: 'ApiRequestsTier2', quantity: 3 }]);

    // 05:00: 1 request.
    await use(H(5), counts[5]);
    await hourlyJobs(H(5));

    // 06:00: 15 requests; meanwhile 2 requests of 03:00 arrive late — an hour with no record yet, while
    // later hours of the month are billed: it is closed and carried into 06:00's record, not sent
    // out of order.
    await use(H(6), counts[6]);
    await use(H(3), 2, 'late');
    const six = await hourlyJobs(H(6));
    expect(six.closedOutOfOrder).toBe(1);
    expect(billedFor(H(3))).toEqual([]);
    expect((await store.readUsageHour(SERIES, H(6)))?.sent).toMatchObject({ quantity: 17, measured: 15, carriedIn: [{ fromHour: H(3), amount: 2 }] });

    // 07:00: 12 requests (units 47-58) straddle tiers 2 and 3; Marketplace leaves the tier-3 record
    // unprocessed, twice: 07:00 stays pending, and 08:00 waits behind it.
    await use(H(7), counts[7]);
    simulator.faults.set({ unprocessed: (r) => r.Dimension === 'ApiRequestsTier3' && r.Timestamp * 1000 === H(7) });
    const seven = await hourlyJobs(H(7), { ...metering, maxAttempts: 1 });
    expect(seven.heldBack).toEqual([expect.objectContaining({ hour: '2026-11-10T07', reason: 'unsent', detail: expect.stringContaining('1 of 2 records confirmed') })]);
    await use(H(8), counts[8]);
    const eight = await hourlyJobs(H(8), { ...metering, maxAttempts: 1 });
    expect(eight.heldBack.map((h) => `${h.hour}:${h.reason}`)).toEqual(['2026-11-10T07:unsent', '2026-11-10T08:earlier-hour-unsent']);
    expect(billedFor(H(8))).toEqual([]);
    simulator.faults.clear();

    // 09:00: 20 requests; 4 late requests of 05:00 (already billed) are carried into the next record.
    await use(H(9), counts[9]);
    await use(H(5), 4, 'late');
    const nine = await hourlyJobs(H(9));
    expect(nine.heldBack).toEqual([]);
    expect(billedFor(H(7))).toEqual([{ dimension: 'ApiRequestsTier2', quantity: 9 }, { dimension: 'ApiRequestsTier3', quantity: 1 }]);
    expect((await store.readUsageHour(SERIES, H(8)))?.sent).toMatchObject({ quantity: 6, carriedIn: [{ fromHour: H(5), amount: 4 }] });

    // 10:00-13:00, with two runs overlapping at 11:00.
    for (const i of [10, 11, 12, 13]) {
      await use(H(i), counts[i]);
      clock = H(i) + HOUR_MS + 10 * 60_000;
      await runScheduledAggregation(aggregation);
      if (i === 11) await Promise.all([meter(), meter()]);
      else await meter();
    }
    await hourlyJobs(H(14)); // nothing new: everything is sent

    const measured = await measuredIn(start);
    expect(measured).toBe(generated);
    expect(generated).toBe(counts.reduce((a, b) => a + b, 0) + 2 + 4);
    // Every hour is sent; nothing billed twice or with a changed split (no DuplicateRecord ever).
    expect((await store.readSeries(SERIES)).every((h) => h.sent !== undefined)).toBe(true);
    expect(reports.reduce((sum, r) => sum + r.duplicate, 0)).toBe(0);
    expect(ledger().map((e) => ({ hour: e.hour, dimension: e.dimension, quantity: e.quantity }))).toEqual(expect.arrayContaining(await expectedLedger(start)));
    expect(ledger()).toHaveLength((await expectedLedger(start)).length);

    // The reconciliation: what Marketplace bills is the rating engine's amount for the month's usage.
    const rated = rateUsage(PLAN, { api_requests: BigInt(measured) }, monthOf(start));
    expect(ledgerAmount(start)).toBe(rated.totalMinor);
    // (5 free, 20 × 7, 30 × 3, and the rest at 1 cent per 3 units, rounded once.)
    expect(rated.totalMinor).toBe(20n * 7n + 30n * 3n + (BigInt(measured) - 55n + 1n) / 3n);
  });

  it('never bills an hour on a running total that misses an earlier hour appearing while it is being planned', async () => {
    const start = Date.UTC(2026, 10, 12, 0);
    const H = (i: number) => start + i * HOUR_MS;
    await setUp(start - 24 * HOUR_MS);
    await use(H(0), 30);
    await hourlyJobs(H(0));
    await use(H(2), 5);
    // While this run writes 02:00 pending, a concurrent aggregation records 01:00 (4 late requests):
    // the read after the pending write sees it, so 02:00 waits instead of going out at running total 30.
    const racing = Object.create(store) as DynamoDbUsageStore;
    racing.recordPendingSend = async (series, plan, at) => {
      const written = await store.recordPendingSend(series, plan, at);
      if (plan.hour === H(2)) {
        await use(H(1), 4, 'late');
        await store.recordMeasurement({ ...SERIES, hour: H(1), quantity: 4 }, clock + 1, clock + 1);
      }
      return written;
    };
    const raced = await hourlyJobs(H(2), { ...metering, store: racing });
    expect(raced.heldBack.map((h) => `${h.hour}:${h.reason}`)).toEqual(['2026-11-12T02:earlier-hour-unsent']);
    expect(billedFor(H(2))).toEqual([]);
    // Next run: 01:00 can no longer go first (02:00's record is fixed), so it is closed and carried;
    // 02:00 goes out at the running total of what was sent before it.
    const next = await meter();
    expect(next).toMatchObject({ closedOutOfOrder: 1, heldBack: [] });
    expect(billedFor(H(1))).toEqual([]);
    expect(billedFor(H(2))).toEqual([{ dimension: 'ApiRequestsTier2', quantity: 5 }]);
    await use(H(3), 1);
    await hourlyJobs(H(3));
    expect((await store.readUsageHour(SERIES, H(3)))?.sent).toMatchObject({ quantity: 5, carriedIn: [{ fromHour: H(1), amount: 4 }] });
    expect(await measuredIn(start)).toBe(40);
    expect(ledgerAmount(start)).toBe(rateUsage(PLAN, { api_requests: 40n }, monthOf(start)).totalMinor);
  });

  it('starts the running total again with each UTC month; a late change carried into the next month bills at that month\'s running total', async () => {
    const lastHour = Date.UTC(2026, 10, 30, 22);
    const H = (i: number) => lastHour + i * HOUR_MS; // H(2) is 2026-12-01T00
    await setUp(lastHour - 24 * HOUR_MS);
    await use(H(0), 30); // units 1-30: 5 free, 20 in tier 1, 5 in tier 2
    await hourlyJobs(H(0));
    await use(H(1), 10);
    await hourlyJobs(H(1));
    expect(billedFor(H(1))).toEqual([{ dimension: 'ApiRequestsTier2', quantity: 10 }]);

    // December: the first 5 units are free again, then tier 1.
    await use(H(2), 8);
    await use(H(1), 3, 'late'); // November's last hour, already billed: carried into December
    await hourlyJobs(H(2));
    expect(billedFor(H(2))).toEqual([{ dimension: 'ApiRequestsTier1', quantity: 6 }]); // 8 + 3 carried = 11: 5 free, 6 billed
    await use(H(3), 2);
    await hourlyJobs(H(3));

    // Each month's ledger is the rating of what was SENT in it; November's 3 late requests are billed in
    // December's tiers (here: at 7 cents instead of November's 3 cents — the documented limit).
    const sentIn = async (hour: number) => {
      const month = monthSpanOf(hour);
      return (await store.readSeries(SERIES)).filter((s) => s.hour >= month.start && s.hour < month.end).reduce((sum, s) => sum + (s.sent?.quantity ?? 0), 0);
    };
    expect(await sentIn(H(0))).toBe(40);
    expect(await sentIn(H(2))).toBe(13);
    expect(ledgerAmount(H(0))).toBe(rateUsage(PLAN, { api_requests: 40n }, monthOf(H(0))).totalMinor);
    expect(ledgerAmount(H(2))).toBe(rateUsage(PLAN, { api_requests: 13n }, monthOf(H(2))).totalMinor);
    expect(ledgerAmount(H(0)) + ledgerAmount(H(2))).toBe(20n * 7n + 15n * 3n + 8n * 7n);
  });
});
