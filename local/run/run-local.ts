/**
 * `npm start`: the whole metering and billing flow on local engines, hour by simulated hour.
 *
 *   engines   DuckDB lake, dynalite (usage and tenant tables), Marketplace simulator, local Firehose
 *   onboard   sample buyers through the subscription intake and the registration page (onboard-tenants.ts)
 *   serve     the metered API: real random-strings and usage-events handlers behind a local JWT authorizer;
 *             access logs in API Gateway's format to the local Firehose, whose batches go through the
 *             real transform into the lake, with duplicated and late deliveries injected (delivery-faults.ts)
 *   each hour at ten past: aggregation and Marketplace metering of what is due (billing-cycle.ts);
 *             the records held back are then delivered late; then the hour's traffic (traffic.ts)
 *   settle    the jobs after the last hour, until nothing is left to send
 *   rate      invoice previews of every tenant (rating engine, the tenant's plan)
 *   allocate  a day of sample AWS cost split by the tenants' consumption (run-costs.ts)
 *   reconcile true usage vs aggregated vs sent vs the ledger (reconcile.ts)
 */
import { DuckDbLake } from '../../adapters/duckdb/duckdb-lake';
import { DuckDbUsageEngine } from '../../adapters/duckdb/duckdb-usage-engine';
import { DynamoDbRegistrationSessions } from '../../adapters/dynamodb/dynamodb-registration-sessions';
import { DynamoDbTenantRegistry, tenantTableDefinition } from '../../adapters/dynamodb/dynamodb-tenant-registry';
import { DynamoDbUsageStore } from '../../adapters/dynamodb/dynamodb-usage-store';
import { RegistryCustomerDirectory } from '../../adapters/dynamodb/registry-customer-directory';
import { usageTableDefinition } from '../../adapters/dynamodb/usage-table-definition';
import { FirehoseDeliveryStream } from '../../adapters/firehose/firehose-delivery-stream';
import { AwsMeteringService } from '../../adapters/marketplace/aws-metering-service';
import { AwsCustomerResolver } from '../../adapters/marketplace/resolve-customer';
import { readMeteringConfigFile } from '../../config/metering-config-file';
import { readPricingConfigFile } from '../../config/pricing-config-file';
import { listingTargetOf, type ListingConfig } from '../../core/marketplace/listing-config';
import { createRegistrationFlow } from '../../core/marketplace/registration-flow';
import { RateLimiter } from '../../core/marketplace/rate-limiter';
import { buildInvoicePreview, type InvoicePreview } from '../../core/pricing/invoice';
import { monthOf } from '../../core/pricing/periods';
import { planOfTenant } from '../../core/pricing/plan-schema';
import { seededRandom } from '../../core/seeded-random';
import type { AggregationDependencies } from '../../core/usage/aggregation-job';
import { HOUR_MS, hourKey } from '../../core/usage/hours';
import { dimensionNamesOf } from '../../core/usage/metering-config';
import type { StoredUsageHour } from '../../core/usage/usage-store';
import type { MeteringRunDependencies } from '../../core/marketplace/metering-run';
import { createRegistrationHandler } from '../../functions/marketplace-registration/registration-handler';
import { readTenantConsumptionSql, readUsageSql } from '../../sql/sql-files';
import { startLocalDynamoDb, type LocalDynamoDb } from '../dynamodb/local-dynamodb';
import { startLocalFirehose, type LocalFirehose } from '../firehose/local-firehose';
import { LocalLakeDelivery } from '../lake/local-delivery';
import { startMarketplaceSimulator, type MarketplaceSimulator } from '../marketplace/marketplace-simulator';
import { InMemoryEventPublisher } from '../registration/in-memory-event-publisher';
import { MemoryLog } from '../registration/memory-log';
import { startRegistrationServer, type RegistrationServer } from '../registration/registration-server';
import { runBillingCycle } from './billing-cycle';
import { demoListing } from './demo-listing';
import { allocateRunCosts } from './run-costs';
import { CapturedEmfLines } from '../cost/emf-log-consumption';
import { CapacityCounter } from '../../core/cost/capacity-units';
import type { AllocationResult } from '../../core/cost/allocate-costs';
import { LakeConsumptionSource } from '../../core/cost/lake-consumption';
import { tenantCapacityRecorder, TenantMetrics } from '../../functions/commons/tenant-metrics';
import { DeliveryFaults } from './delivery-faults';
import { LocalUserDirectory } from './local-user-directory';
import { onboardTenant, sampleBuyer, type OnboardedTenant } from './onboard-tenants';
import { reconcile, type BilledDimension, type LedgerLine, type Reconciliation, type StoredHour } from './reconcile';
import { RunClock } from './run-clock';
import { LOCAL_METRICS_NAMESPACE, startRunApi, type RunApi } from './run-api';
import { TrafficDriver } from './traffic';
import { TrueUsage } from './true-usage';

/** The listing's product code in the local run (the shipped configuration holds a placeholder). */
export const LOCAL_PRODUCT_CODE = 'prod-local-metering';
/** The access-log stream, named as the stack names it (`amazon-apigateway-<prefix>`). */
export const LOCAL_STREAM = 'amazon-apigateway-local-metering';
/** Seconds the hourly job waits for Firehose after an hour ends (the stack's buffering interval). */
const INGESTION_DELAY_SECONDS = 60;
/** The hourly jobs run at ten past. */
const JOBS_OFFSET_MS = 10 * 60_000;

export interface LocalRunOptions {
  readonly tenants: number;
  readonly hours: number;
  readonly requests: number;
  readonly seed: number;
  /** An empty folder for the DuckDB lake. */
  readonly lakeFolder: string;
  /** Start of the first simulated hour; @default the hours end at the start of the current hour */
  readonly firstHour?: number;
  /** Share of records delivered twice / late. @default 0.02 / 0.02 */
  readonly duplicateRate?: number;
  readonly lateRate?: number;
  /** Ports when the run keeps serving (`--serve`); 0 = any free port. */
  readonly apiPort?: number;
  /** Progress of the long steps. */
  readonly progress?: RunProgress;
}

/** Progress callbacks (a bar on a terminal). */
export interface RunProgress {
  start(step: string, total: number): void;
  tick(detail?: string): void;
  stop(): void;
}

export interface StepTiming {
  readonly name: string;
  readonly millis: number;
  readonly detail?: string;
}

/**
 * Marketplace bills the shipped listing's dimensions, priced by a demonstration plan with small
 * allowances (demo-listing.ts), so that a short run bills real money.
 */

/** Everything the run found, for the report and the tests. */
export interface LocalRunResult {
  readonly options: LocalRunOptions;
  readonly period: { readonly start: number; readonly end: number };
  readonly tenants: readonly OnboardedTenant[];
  readonly planOf: ReadonlyMap<string, string>;
  readonly traffic: TrafficDriver['counts'];
  readonly delivery: { duplicatesDelivered: number; heldLate: number; releasedLate: number; rejectedRecords: number; rows: Record<string, number> };
  readonly trueUsage: TrueUsage;
  readonly storedHours: readonly StoredHour[];
  readonly ledger: readonly LedgerLine[];
  readonly invoices: readonly InvoicePreview[];
  readonly reconciliation: Reconciliation;
  readonly steps: readonly StepTiming[];
  readonly marketplace: { readonly calls: number; readonly records: number; readonly heldBack: number };
  readonly listing: ListingConfig;
  /** The tenant metrics the hosted functions wrote (EMF lines, as CloudWatch Logs would hold them). */
  readonly tenantMetricLines: readonly string[];
  /** The currency of each dimension billed through Marketplace (its listing plan's). */
  readonly billedCurrency: ReadonlyMap<string, { readonly currency: string; readonly minorUnitDigits: number }>;
  /** Cost allocation: revenue (invoice totals) and allocated cost per tenant. */
  readonly costs?: {
    readonly currency: string;
    readonly minorUnitDigits: number;
    readonly rows: readonly { readonly tenantId: string; readonly revenueMinor: bigint; readonly costMinor: bigint }[];
    readonly unallocatedMinor: bigint;
    readonly allocation: AllocationResult;
  };
}

/** The engines and servers of a run, kept open with `--serve`. */
export interface LocalRunEnvironment {
  readonly api: RunApi;
  readonly registration: RegistrationServer;
  readonly clock: RunClock;
  close(): Promise<void>;
}

const silent = { start() {}, tick() {}, stop() {} } satisfies RunProgress;

/** Runs the flow; the environment stays open until `close()` (the caller closes it, or serves). */
export async function runLocal(options: LocalRunOptions): Promise<{ result: LocalRunResult; environment: LocalRunEnvironment }> {
  const progress = options.progress ?? silent;
  const steps: StepTiming[] = [];
  let stepStart = Date.now();
  const done = (name: string, detail?: string) => {
    const now = Date.now();
    steps.push({ name, millis: now - stepStart, ...(detail === undefined ? {} : { detail }) });
    stepStart = now;
  };

  const metering = readMeteringConfigFile();
  const pricing = readPricingConfigFile(metering);
  const { listing, plan: listingPlan } = demoListing(metering, pricing, LOCAL_PRODUCT_CODE);
  const firstHour = options.firstHour ?? Math.floor(Date.now() / HOUR_MS) * HOUR_MS - options.hours * HOUR_MS;
  const lastHour = firstHour + (options.hours - 1) * HOUR_MS;
  const clock = new RunClock(firstHour - HOUR_MS);
  const random = seededRandom(options.seed);

  const closers: (() => Promise<void> | void)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close();
    closers.length = 0;
  };
  try {
    // Engines.
    const lake = await DuckDbLake.open(options.lakeFolder);
    closers.push(() => lake.close());
    const dynamo: LocalDynamoDb = await startLocalDynamoDb();
    closers.push(() => dynamo.close());
    await dynamo.createTable(usageTableDefinition('usage'));
    await dynamo.createTable(tenantTableDefinition('tenants'));
    // The tenant metrics of every hosted function, as EMF lines (the local stand-in for CloudWatch Logs).
    const emf = new CapturedEmfLines();
    const capacity = new CapacityCounter(tenantCapacityRecorder(new TenantMetrics({ serviceName: 'usage-aggregator', namespace: LOCAL_METRICS_NAMESPACE, write: emf.write, now: clock.now })));
    const store = new DynamoDbUsageStore(dynamo.client, 'usage', { onCapacity: (tenantId, operation, items) => capacity.count(tenantId, operation, items) });
    const registry = new DynamoDbTenantRegistry(dynamo.client, 'tenants');
    const simulator: MarketplaceSimulator = await startMarketplaceSimulator({ now: clock.now });
    closers.push(() => simulator.close());
    const listingDimensions = [...new Set(Object.keys(listing.dimensions).flatMap((d) => {
      const target = listingTargetOf(listing, d);
      return target?.kind === 'tiered' ? target.compiled.tiers.map((t) => t.listingDimension) : target?.kind === 'dimension' ? [target.listingDimension] : [];
    }))];
    simulator.addProduct({ productCode: LOCAL_PRODUCT_CODE, dimensions: listingDimensions });
    const delivery = new LocalLakeDelivery(lake, clock.now);
    const faults = new DeliveryFaults((records) => delivery.deliver(records), { duplicate: options.duplicateRate ?? 0.02, late: options.lateRate ?? 0.02 }, random);
    const firehose: LocalFirehose = await startLocalFirehose({ processor: faults.processor, deliveryStreams: [LOCAL_STREAM], now: clock.now });
    closers.push(() => firehose.close());
    done('start the local engines', 'DuckDB lake, dynalite, Marketplace simulator, local Firehose');

    // Onboarding.
    const publisher = new InMemoryEventPublisher();
    const log = new MemoryLog(false);
    const flow = createRegistrationFlow(
      { resolver: new AwsCustomerResolver(simulator.client()), sessions: new DynamoDbRegistrationSessions(dynamo.client, 'tenants'), registry, publisher, log },
      { now: clock.now, serviceName: 'Usage Metering (local run)' },
    );
    const registration = await startRegistrationServer(createRegistrationHandler(flow));
    closers.push(() => registration.close());
    const users = new LocalUserDirectory();
    const tenants: OnboardedTenant[] = [];
    progress.start('onboard tenants', options.tenants);
    for (let i = 0; i < options.tenants; i++) {
      tenants.push(await onboardTenant({ simulator, registry, publisher, registration, users, log, productCode: LOCAL_PRODUCT_CODE, now: clock.now, advance: (ms) => clock.advance(ms) }, sampleBuyer(i), i));
      progress.tick(tenants[i].companyName);
    }
    progress.stop();
    done('onboard tenants', `${tenants.length} through the subscription intake and the registration page`);

    // The API.
    const usageStream = new FirehoseDeliveryStream(firehose.client(), { deliveryStreamName: LOCAL_STREAM });
    const api = await startRunApi({ clock, firehose, streamName: LOCAL_STREAM, usageStream, metering, users, metrics: emf, port: options.apiPort ?? 0 });
    closers.push(() => api.close());
    done('serve the metered API', api.url);

    // Hour by hour.
    const truth = new TrueUsage(metering);
    const driver = new TrafficDriver(api.target, truth, clock, random, { tenants: tenants.map((t) => t.tenantId), requestsPerTenantHour: options.requests });
    const aggregation: AggregationDependencies = { engine: new DuckDbUsageEngine(lake), store, config: metering, sql: readUsageSql(), ingestionDelaySeconds: INGESTION_DELAY_SECONDS, now: clock.now };
    const meteringService = new AwsMeteringService(simulator.client());
    const meteringDeps = (): MeteringRunDependencies => ({
      store,
      // A directory lives for one run (it caches), as in the Lambda.
      directory: new RegistryCustomerDirectory(registry),
      service: meteringService,
      // The simulator admits 10 calls per second; its clock is the run's, so waiting moves the clock.
      limiter: new RateLimiter(8, clock.now, async (ms) => clock.advance(ms)),
      listing,
      now: clock.now,
      sleep: async (ms) => clock.advance(ms),
    });
    let heldBack = 0;
    progress.start('simulate hours', options.hours);
    for (let hour = firstHour; hour <= lastHour; hour += HOUR_MS) {
      clock.set(hour + JOBS_OFFSET_MS);
      await runBillingCycle(aggregation, meteringDeps(), clock.now());
      capacity.flush();
      // What Firehose held back arrives now, after its hour was aggregated and billed.
      await faults.releaseLate();
      // Nothing may arrive after the last hour's jobs: a late change needs a later record to ride on.
      if (hour === lastHour) faults.rates = { ...faults.rates, late: 0 };
      await driver.driveHour(hour, hour > firstHour);
      await api.flush();
      await firehose.flush();
      progress.tick(hourKey(hour));
    }
    progress.stop();
    done('simulate hours', `${options.hours} hours, ${driver.counts.requests} HTTP calls, jobs at ten past each hour`);

    // Settle: the jobs of the hours after the last, until nothing is left to send. The run reads the
    // store back through its own adapter: its reading is not a tenant's DynamoDB consumption.
    const dimensions = dimensionNamesOf(metering);
    const reader = new DynamoDbUsageStore(dynamo.client, 'usage');
    let series = await readAllSeries(reader, tenants, dimensions);
    for (let extra = 1; extra <= 3; extra++) {
      clock.set(lastHour + extra * HOUR_MS + JOBS_OFFSET_MS);
      const cycle = await runBillingCycle(aggregation, meteringDeps(), clock.now());
      capacity.flush();
      heldBack = cycle.metering.heldBack.length + cycle.metering.notFinal.length;
      series = await readAllSeries(reader, tenants, dimensions);
      if (heldBack === 0 && !series.some((h) => h.pending !== undefined && h.sent === undefined)) break;
    }
    done('settle billing', 'aggregation and metering until nothing is pending');

    const storedHours: StoredHour[] = series.map((h) => ({ tenantId: h.tenantId, dimension: h.dimension, hour: h.hour, measured: h.measured, ...(h.sent === undefined ? {} : { sentQuantity: h.sent.quantity }) }));
    const ledger: LedgerLine[] = simulator.ledger().map((e) => ({ customerKey: e.customerKey, dimension: e.dimension, hour: e.hour, quantity: e.quantity }));
    const billed: BilledDimension[] = dimensions.flatMap((dimension) => {
      const target = listingTargetOf(listing, dimension);
      return target?.kind === 'tiered' ? [{ dimension, compiled: target.compiled, plan: listingPlan }] : [];
    });
    const customerKeys = new Map(tenants.map((t) => [t.tenantId, t.identity.kind === 'license' ? `license:${t.identity.licenseArn}` : `customer:${t.identity.customerIdentifier}`]));
    const reconciliation = reconcile({ trueHours: truth.hours(), storedHours, ledger, billed, customerKeys });
    done('reconcile', reconciliation.exact ? 'exact' : `${reconciliation.problems.length} differences`);

    // Invoice previews (the month of the last hour), from what aggregation stored.
    const period = monthOf(lastHour);
    const planOf = new Map(tenants.map((t) => [t.tenantId, planOfTenant(pricing, t.tenantId).id]));
    const invoices = tenants.map((t) => buildInvoicePreview({
      tenantId: t.tenantId,
      plan: planOfTenant(pricing, t.tenantId),
      period,
      subscription: { start: t.subscribedAt },
      measurements: storedHours.filter((h) => h.tenantId === t.tenantId).map((h) => ({ tenantId: h.tenantId, dimension: h.dimension, hour: h.hour, quantity: h.measured })),
      generatedAt: clock.now(),
    }));
    done('rate usage', `${invoices.length} invoice previews for ${hourKey(period.start).slice(0, 7)}`);

    const costs = await allocateRunCosts({
      tenants: tenants.map((t) => t.tenantId),
      sources: [new LakeConsumptionSource(new DuckDbUsageEngine(lake), readTenantConsumptionSql()), emf.source({ namespace: LOCAL_METRICS_NAMESPACE })],
      period: { start: firstHour, end: lastHour + HOUR_MS },
      invoices,
    });
    done('allocate cost', `${costs.costLines.length} sample cost lines, ${costs.consumption.length} consumption figures`);

    const calls = simulator.calls();
    const result: LocalRunResult = {
      options,
      period: { start: firstHour, end: lastHour + HOUR_MS },
      tenants,
      planOf,
      traffic: driver.counts,
      delivery: { ...faults.counts(), rejectedRecords: delivery.failed.length, rows: Object.fromEntries(delivery.delivered) },
      trueUsage: truth,
      storedHours,
      ledger,
      invoices,
      reconciliation,
      steps,
      marketplace: { calls: calls.batchMeterUsage, records: calls.recordCounts.reduce((a, b) => a + b, 0), heldBack },
      listing,
      tenantMetricLines: emf.lines,
      billedCurrency: new Map(billed.map((b) => [b.dimension, { currency: b.plan.currency, minorUnitDigits: b.plan.minorUnitDigits }])),
      costs: {
        currency: costs.margins.currency,
        minorUnitDigits: costs.margins.minorUnitDigits,
        rows: costs.margins.rows.map((r) => ({ tenantId: r.tenantId, revenueMinor: r.revenueMinor, costMinor: r.costMinor })),
        unallocatedMinor: costs.margins.unallocatedCostMinor,
        allocation: costs.allocation,
      },
    };
    const environment: LocalRunEnvironment = { api, registration, clock, close: closeAll };
    return { result, environment };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** Every stored usage hour of the run's tenants. */
async function readAllSeries(store: DynamoDbUsageStore, tenants: readonly OnboardedTenant[], dimensions: readonly string[]): Promise<StoredUsageHour[]> {
  const hours: StoredUsageHour[] = [];
  for (const tenant of tenants) {
    for (const dimension of dimensions) hours.push(...(await store.readSeries({ tenantId: tenant.tenantId, dimension })));
  }
  return hours;
}
