/**
 * The local run end to end (`npm start`'s flow) with a small configuration: onboarding through the
 * real intake and registration page, traffic over HTTP through the local API, the real transform into
 * DuckDB with duplicated and late deliveries, aggregation and metering hour by hour against the
 * Marketplace simulator, rating and cost allocation. The reconciliation must be exact, and the test
 * re-derives the key figures itself from the engines instead of trusting the run's own verdict.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readRunReport, writeRunReport } from '../../local/report/report-json';
import { rateCharge } from '../../core/pricing/charges';
import { parsePlan, planById } from '../../core/pricing/plan-schema';
import { DEMO_LISTING_PLAN_FILE } from '../../local/run/demo-listing';
import { listingTargetOf } from '../../core/marketplace/listing-config';
import { readMeteringConfigFile } from '../../config/metering-config-file';
import { readPricingConfigFile } from '../../config/pricing-config-file';
import { HOUR_MS } from '../../core/usage/hours';
import { buildRunReport } from '../../local/run/run-report-builder';
import { runLocal, type LocalRunEnvironment, type LocalRunResult } from '../../local/run/run-local';

const FIRST_HOUR = Date.UTC(2026, 10, 18, 6);
let root: string;
let result: LocalRunResult;
let environment: LocalRunEnvironment;

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'local-run-'));
  // Generous fault rates so that a small run still has duplicates and late records.
  ({ result, environment } = await runLocal({ tenants: 3, hours: 4, requests: 40, seed: 7, lakeFolder: path.join(root, 'lake'), firstHour: FIRST_HOUR, duplicateRate: 0.1, lateRate: 0.1 }));
}, 120_000);

afterAll(async () => {
  await environment?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('the local run', () => {
  it('onboards every tenant active, with a user, through the real flow', () => {
    expect(result.tenants).toHaveLength(3);
    expect(new Set(result.tenants.map((t) => t.tenantId)).size).toBe(3);
    for (const tenant of result.tenants) {
      expect(tenant.tenantId).toMatch(/^mp-[0-9a-f]{24}$/);
      expect(tenant.user.tenantId).toBe(tenant.tenantId);
    }
  });

  it('exercised the faults it claims: errors, duplicated and late deliveries, resent and late events', () => {
    expect(result.traffic.byStatus['200']).toBeGreaterThan(0);
    for (const status of ['400', '401', '403']) expect(result.traffic.byStatus[status]).toBeGreaterThan(0);
    expect(result.delivery.duplicatesDelivered).toBeGreaterThan(0);
    expect(result.delivery.releasedLate).toBeGreaterThan(0);
    expect(result.delivery.releasedLate).toBe(result.delivery.heldLate);
    expect(result.traffic.eventsResent).toBeGreaterThan(0);
    expect(result.traffic.lateEvents).toBeGreaterThan(0);
    expect(result.traffic.eventsRejected).toBeGreaterThan(0);
  });

  it('reconciles exactly: aggregated = true usage hour by hour, sent = true usage, ledger = rating engine', () => {
    expect(result.reconciliation.problems).toEqual([]);
    expect(result.reconciliation.exact).toBe(true);
    const truth = result.trueUsage.hours();
    expect(truth.length).toBeGreaterThan(0);
    // Independently of reconcile(): every true hour is stored with exactly its quantity, and nothing else is stored.
    const stored = new Map(result.storedHours.map((h) => [`${h.tenantId}|${h.dimension}|${h.hour}`, h.measured]));
    for (const h of truth) expect([`${h.tenantId}|${h.dimension}|${h.hour}`, stored.get(`${h.tenantId}|${h.dimension}|${h.hour}`)]).toEqual([`${h.tenantId}|${h.dimension}|${h.hour}`, Number(h.quantity)]);
    expect(result.storedHours.filter((h) => h.measured > 0)).toHaveLength(truth.filter((h) => h.quantity > 0n).length);
    for (const h of truth) {
      expect(h.hour).toBeGreaterThanOrEqual(FIRST_HOUR);
      expect(h.hour).toBeLessThan(FIRST_HOUR + 4 * HOUR_MS);
    }
  });

  it('bills each tiered dimension on Marketplace at the rating engine\'s amount, from the simulator\'s own ledger', () => {
    const metering = readMeteringConfigFile();
    const pricing = readPricingConfigFile(metering);
    let billedDimensions = 0;
    for (const dimension of ['api_requests', 'reports_exported']) {
      const target = listingTargetOf(result.listing, dimension);
      if (target?.kind !== 'tiered') throw new Error(`${dimension} is not tiered in the shipped listing`);
      const plan = target.plan === 'local-demo' ? parsePlan(JSON.parse(fs.readFileSync(DEMO_LISTING_PLAN_FILE, 'utf8'))) : planById(pricing, target.plan);
      const charge = plan.charges.find((c) => c.dimension === dimension)!;
      const price = new Map(target.compiled.tiers.map((t) => [t.listingDimension, t.unitPriceMinor]));
      for (const tenant of result.tenants) {
        const key = tenant.identity.kind === 'license' ? `license:${tenant.identity.licenseArn}` : '';
        const ledgerMinor = result.ledger.filter((e) => e.customerKey === key && price.has(e.dimension)).reduce((sum, e) => sum + BigInt(e.quantity) * price.get(e.dimension)!, 0n);
        const trueUnits = result.trueUsage.hours().filter((h) => h.tenantId === tenant.tenantId && h.dimension === dimension).reduce((sum, h) => sum + h.quantity, 0n);
        const rated = rateCharge(charge, trueUnits, plan).reduce((sum, line) => sum + line.amountMinor, 0n);
        expect([tenant.tenantId, dimension, ledgerMinor]).toEqual([tenant.tenantId, dimension, rated]);
        if (dimension === 'api_requests') expect(ledgerMinor).toBeGreaterThan(0n);
        billedDimensions += 1;
      }
    }
    expect(billedDimensions).toBe(6);
    // One ledger entry per customer, listing dimension and hour (the simulator's rule), all of the run's customers.
    const keys = result.ledger.map((e) => `${e.customerKey}|${e.dimension}|${e.hour}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('allocates the sample cost to the cent: allocated + unallocated = the rounded cost, every tenant gets a share', () => {
    const costs = result.costs!;
    const allocated = costs.rows.reduce((sum, r) => sum + r.costMinor, 0n);
    expect(allocated + costs.unallocatedMinor).toBe(costs.allocation.totalMinor);
    expect(costs.allocation.unallocated.some((u) => u.service === 'AWSSecretsManager')).toBe(true);
    for (const row of costs.rows) expect(row.costMinor).toBeGreaterThan(0n);
    // The siloed resource goes to the last tenant only.
    const silo = costs.allocation.allocations.filter((a) => a.basis === 'silo');
    expect(silo.length).toBeGreaterThan(0);
    expect(new Set(silo.map((a) => a.tenantId))).toEqual(new Set([result.tenants[2].tenantId]));
    // Revenue is each tenant's invoice total.
    for (const invoice of result.invoices) expect(costs.rows.find((r) => r.tenantId === invoice.tenantId)?.revenueMinor).toBe(invoice.totalMinor);
  });

  it('writes a report whose figures agree with each other and with the run', () => {
    const report = buildRunReport(result, { generatedAt: Date.UTC(2026, 10, 18, 12), durationMs: 1234, seed: 7 });
    expect(report.verdict).toEqual({ exact: true, problems: [] });
    const file = path.join(root, 'report.json');
    writeRunReport(file, report);
    const back = readRunReport(file);
    expect(back.reconciliation).toHaveLength(result.reconciliation.rows.length);
    expect(back.invoices.map((i) => i.totalMinor)).toEqual(result.invoices.map((i) => i.totalMinor.toString()));
  });
});
