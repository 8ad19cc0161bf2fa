/**
 * Exactly-once hourly metering end to end on local engines: usage hours aggregated from a Parquet lake
 * into a DynamoDB-compatible store, sent with the real AWS SDK to the Marketplace simulator, which
 * enforces the Metering Service's rules and keeps a ledger of what AWS would bill.
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
import { runFinalUsage } from '../../core/marketplace/final-usage';
import { runMetering, type BillableCustomer, type MeteringRunDependencies } from '../../core/marketplace/metering-run';
import { RateLimiter } from '../../core/marketplace/rate-limiter';
import { runScheduledAggregation, type AggregationDependencies } from '../../core/usage/aggregation-job';
import { HOUR_MS } from '../../core/usage/hours';
import { parseMeteringConfig } from '../../core/usage/metering-config';
import { startLocalDynamoDb, type LocalDynamoDb } from '../../local/dynamodb/local-dynamodb';
import { startMarketplaceSimulator, type MarketplaceSimulator } from '../../local/marketplace/marketplace-simulator';
import { readUsageSql } from '../../sql/sql-files';
import { accessLogRow } from '../support/access-log-rows';

const H10 = Date.UTC(2026, 10, 23, 10);
const H11 = H10 + HOUR_MS;
const PRODUCT = 'prod-abc123';
const LICENSE = 'arn:aws:license-manager::123456789012:license:l-0123456789abcdef0123456789abcdef';
const METERING = parseMeteringConfig({
  dimensions: [
    { name: 'api_requests', measure: 'requests', match: { resourcePaths: ['/random/strings'] } },
    { name: 'response_bytes', measure: 'response_bytes', match: { resourcePaths: ['*'] } },
    { name: 'errors', measure: 'requests', match: { resourcePaths: ['*'], statuses: [{ from: 500, to: 599 }] } },
  ],
  aggregation: { graceSeconds: 300, lookBackHours: 3, maxHoursPerRun: 48 },
});
const LISTING = parseListingConfig({ productCode: PRODUCT, dimensions: { api_requests: 'ApiRequests', response_bytes: null } }, METERING);

let dynamo: LocalDynamoDb;
let tables = 0;
beforeAll(async () => { dynamo = await startLocalDynamoDb(); });
afterAll(async () => { await dynamo.close(); });

describe('Marketplace metering', () => {
  let root: string;
  let lake: DuckDbLake;
  let store: DynamoDbUsageStore;
  let simulator: MarketplaceSimulator;
  let clock: number;
  let aggregation: AggregationDependencies;
  let metering: MeteringRunDependencies;
  const customers = new Map<string, BillableCustomer>();

  beforeEach(async () => {
    clock = H11 + HOUR_MS + 10 * 60_000; // 12:10
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-'));
    lake = await DuckDbLake.open(root);
    const table = `usage-m${++tables}`;
    await dynamo.createTable(usageTableDefinition(table));
    store = new DynamoDbUsageStore(dynamo.client, table);
    simulator = await startMarketplaceSimulator({ now: () => clock });
    simulator.addProduct({ productCode: PRODUCT, dimensions: ['ApiRequests'] });
    simulator.subscribe({ productCode: PRODUCT, customerIdentifier: 'cust-acme', subscribedAt: H10 - HOUR_MS });
    simulator.subscribe({ productCode: PRODUCT, customerAWSAccountId: '123456789012', licenseArn: LICENSE, subscribedAt: H10 + 30 * 60_000 });
    customers.clear();
    customers.set('acme', { productCode: PRODUCT, customer: { customerIdentifier: 'cust-acme' }, billable: true, subscribedAt: H10 - HOUR_MS });
    customers.set('globex', { productCode: PRODUCT, customer: { customerAWSAccountId: '123456789012', licenseArn: LICENSE }, billable: true, subscribedAt: H10 + 30 * 60_000 });
    aggregation = { engine: new DuckDbUsageEngine(lake), store, config: METERING, sql: readUsageSql(), ingestionDelaySeconds: 120, now: () => clock };
    metering = {
      store,
      directory: { customerOf: async (tenantId) => customers.get(tenantId) },
      service: new AwsMeteringService(simulator.client()),
      limiter: new RateLimiter(10, () => clock, async (ms) => { clock += ms; }),
      listing: LISTING,
      now: () => clock,
      sleep: async (ms) => { clock += ms; },
    };
  });

  afterEach(async () => {
    await simulator.close();
    lake.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  const requests = (tenant: string, hour: number, count: number, prefix = 'r') =>
    Array.from({ length: count }, (_, i) => accessLogRow({ id: `${prefix}-${tenant}-${hour}-${i}`, tenant, at: hour + 31 * 60_000 + i }));
  const billed = () => simulator.ledger().reduce((sum, e) => sum + e.quantity, 0);
  const billedFor = (hour: number) => simulator.ledger().filter((e) => e.hour === hour).map((e) => ({ customer: e.customerIdentifier ?? e.licenseArn, quantity: e.quantity }));

  it('bills each tenant\'s usage hour once, with both identities, and stamps the first hour no earlier than the subscription', async () => {
    await lake.appendAccessLogs([...requests('acme', H10, 3), ...requests('acme', H11, 2), ...requests('globex', H10, 4)]);
    await runScheduledAggregation(aggregation);
    const report = await runMetering(metering, [H10, H11]);
    expect(report).toMatchObject({ success: 3, duplicate: 0, quantitySent: 9, heldBack: [], notFinal: [] });
    expect(billedFor(H10)).toEqual(expect.arrayContaining([{ customer: 'cust-acme', quantity: 3 }, { customer: LICENSE, quantity: 4 }]));
    expect(billedFor(H11)).toEqual([{ customer: 'cust-acme', quantity: 2 }]);
    expect(simulator.ledger().find((e) => e.licenseArn === LICENSE)?.timestamp).toBe(H10 + 30 * 60_000);

    const again = await runMetering(metering, [H10, H11]);
    expect(again).toMatchObject({ calls: 0, success: 0 });
    expect(billed()).toBe(9);
  });

  it('does not send an hour that is not completely aggregated', async () => {
    await lake.appendAccessLogs(requests('acme', H10, 1));
    const report = await runMetering(metering, [H10]);
    expect(report.notFinal).toEqual(['2026-11-23T10']);
    expect(simulator.calls().batchMeterUsage).toBe(0);
  });

  it('never bills twice when the process dies between sending and marking sent', async () => {
    await lake.appendAccessLogs(requests('acme', H10, 5));
    await runScheduledAggregation(aggregation);
    const crashing = Object.create(store) as DynamoDbUsageStore;
    crashing.markSent = async () => { throw new Error('process killed'); };
    await expect(runMetering({ ...metering, store: crashing }, [H10])).rejects.toThrow('process killed');
    expect(billed()).toBe(5); // billed, but not marked sent

    const restart = await runMetering(metering, [H10]);
    expect(restart.success).toBe(1); // the same record again: Marketplace answers Success, bills nothing new
    expect(simulator.ledger()).toHaveLength(1);
    expect(billed()).toBe(5);
  });

  it('recovers from a lost response (server error after billing), throttling and unprocessed records', async () => {
    await lake.appendAccessLogs([...requests('acme', H10, 2), ...requests('globex', H10, 3)]);
    await runScheduledAggregation(aggregation);
    simulator.faults.set({ internalErrorAfterBilling: 1, throttleNext: 1, unprocessed: 1 });
    const report = await runMetering(metering, [H10]);
    expect(report).toMatchObject({ success: 2, heldBack: [] });
    expect(billed()).toBe(5);
    expect(simulator.ledger()).toHaveLength(2);
    expect(simulator.calls().batchMeterUsage).toBeGreaterThan(1);
  });

  it('keeps CustomerNotSubscribed, unknown tenants and unmapped dimensions unsent and visible', async () => {
    simulator.unsubscribe({ productCode: PRODUCT, customerIdentifier: 'cust-acme', at: H10 });
    customers.delete('globex');
    await lake.appendAccessLogs([...requests('acme', H10, 2), ...requests('globex', H10, 1), accessLogRow({ id: 'err', tenant: 'acme', at: H10 + 5, status: 503 })]);
    await runScheduledAggregation(aggregation);
    const report = await runMetering(metering, [H10]); // the listing maps no "errors" dimension
    expect(report.heldBack.map((h) => `${h.tenantId}/${h.dimension}:${h.reason}`).sort()).toEqual([
      'acme/api_requests:CustomerNotSubscribed',
      'acme/errors:unmapped-dimension',
      'globex/api_requests:unknown-tenant',
    ]);
    expect(simulator.ledger()).toEqual([]);
    expect((await store.unsentHours(H10)).filter((h) => h.dimension === 'api_requests')).toHaveLength(2);
  });

  it('carries usage that arrives after its hour was billed into the next hour, so the ledger equals the true total', async () => {
    await lake.appendAccessLogs([...requests('acme', H10, 3), ...requests('acme', H11, 1)]);
    await runScheduledAggregation(aggregation);
    await runMetering(metering, [H10]);
    await lake.appendAccessLogs(requests('acme', H10, 4, 'late'));
    clock += 10 * 60_000;
    await runScheduledAggregation(aggregation);
    await runMetering(metering, [H10, H11]);
    expect(billedFor(H10)).toEqual([{ customer: 'cust-acme', quantity: 3 }]);
    expect(billedFor(H11)).toEqual([{ customer: 'cust-acme', quantity: 5 }]);
    expect(billed()).toBe(8);
  });

  it('closes an hour it could not send in time and bills its usage with the next hour', async () => {
    await lake.appendAccessLogs([...requests('acme', H10, 3), ...requests('acme', H11, 1)]);
    await runScheduledAggregation(aggregation);
    simulator.faults.set({ apiDisabled: true });
    await expect(runMetering(metering, [H10])).rejects.toThrow(/DisabledApi/);
    simulator.faults.clear();
    // Much later 10:00 is too old to send: it is closed, and 11:00 carries its 3 requests.
    const report = await runMetering(metering, [H11], [H10]);
    expect(report).toMatchObject({ closedUnsendable: 2, success: 1 });
    expect(billedFor(H10)).toEqual([]);
    expect(billedFor(H11)).toEqual([{ customer: 'cust-acme', quantity: 4 }]);
  });

  it('reads a tenant\'s history only while a late change waits to be carried', async () => {
    await lake.appendAccessLogs([...requests('acme', H10, 3), ...requests('acme', H11, 1)]);
    await runScheduledAggregation(aggregation);
    let historyReads = 0;
    const counting = Object.create(store) as DynamoDbUsageStore;
    counting.readSeries = async (series) => { historyReads += 1; return store.readSeries(series); };
    await runMetering({ ...metering, store: counting }, [H10]);
    expect(historyReads).toBe(0);
    expect(await store.carryMarker({ tenantId: 'acme', dimension: 'api_requests' })).toBeUndefined();

    await lake.appendAccessLogs(requests('acme', H10, 2, 'late'));
    clock += 10 * 60_000;
    await runScheduledAggregation(aggregation);
    expect(await store.carryMarker({ tenantId: 'acme', dimension: 'api_requests' })).toBe(1);
    await runMetering({ ...metering, store: counting }, [H11]);
    expect(historyReads).toBeGreaterThan(0);
    expect(billedFor(H11)).toEqual([{ customer: 'cust-acme', quantity: 3 }]);
    expect(await store.carryMarker({ tenantId: 'acme', dimension: 'api_requests' })).toBeUndefined(); // settled
  });

  it('keeps the carry marker when a new late change arrives while it is being settled', async () => {
    const series = { tenantId: 'acme', dimension: 'api_requests' };
    await lake.appendAccessLogs([...requests('acme', H10, 1)]);
    await runScheduledAggregation(aggregation);
    await runMetering(metering, [H10]);
    await lake.appendAccessLogs(requests('acme', H10, 1, 'late'));
    clock += 60_000;
    await runScheduledAggregation(aggregation);
    const counter = await store.carryMarker(series);
    await lake.appendAccessLogs(requests('acme', H10, 1, 'later'));
    clock += 60_000;
    await runScheduledAggregation(aggregation); // another change after the counter was read
    await store.clearCarryMarker(series, counter!);
    expect(await store.carryMarker(series)).toBe(2);
  });

  it('sends a leaving tenant\'s usage, its open hour included, within the hour after unsubscribe-pending', async () => {
    // 12:10: hours up to 11:00 are aggregated and sent as usual.
    await lake.appendAccessLogs([...requests('acme', H11, 2), ...requests('globex', H11, 1)]);
    await runScheduledAggregation(aggregation);
    await runMetering(metering, [H10, H11]);
    const H12 = H11 + HOUR_MS;
    // acme's subscription ends: unsubscribe-pending at 12:20; it used the API at 12:05 and 12:15.
    await lake.appendAccessLogs([
      accessLogRow({ id: 'final-1', tenant: 'acme', at: H12 + 5 * 60_000 }),
      accessLogRow({ id: 'final-2', tenant: 'acme', at: H12 + 15 * 60_000 }),
      accessLogRow({ id: 'other', tenant: 'globex', at: H12 + 16 * 60_000 }),
    ]);
    customers.set('acme', { ...customers.get('acme')!, billable: true });
    clock = H12 + 35 * 60_000; // the delay queue hands the event over 15 minutes after 12:20
    const report = await runFinalUsage(aggregation, metering, 'acme', clock);
    expect(report).toMatchObject({ success: 1, heldBack: [] });
    expect(billedFor(H12)).toEqual([{ customer: 'cust-acme', quantity: 2 }]); // 12:35 < 13:20: inside the window
    expect(await store.hourAggregatedAsOf(H12)).toBeUndefined(); // the open hour is not marked complete for everyone

    // The hourly runs later complete 12:00 for everyone: globex is sent then, acme is not sent twice.
    clock = H12 + HOUR_MS + 15 * 60_000;
    await runScheduledAggregation(aggregation);
    await runMetering(metering, [H12]);
    expect(billedFor(H12)).toEqual(expect.arrayContaining([{ customer: 'cust-acme', quantity: 2 }, { customer: LICENSE, quantity: 1 }]));
    expect(simulator.ledger().filter((e) => e.customerIdentifier === 'cust-acme' && e.hour === H12)).toHaveLength(1);
  });

  it('bills once when two metering runs overlap', async () => {
    await lake.appendAccessLogs([...requests('acme', H10, 2), ...requests('globex', H10, 2)]);
    await runScheduledAggregation(aggregation);
    const outcomes = await Promise.allSettled([runMetering(metering, [H10]), runMetering(metering, [H10])]);
    expect(outcomes.every((o) => o.status === 'fulfilled')).toBe(true);
    expect(billed()).toBe(4);
    expect(simulator.ledger()).toHaveLength(2);
    expect(await runMetering(metering, [H10])).toMatchObject({ calls: 0 });
  });
});
