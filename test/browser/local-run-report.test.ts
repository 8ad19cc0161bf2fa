/**
 * The report of a real local run in headless Chromium (Debian chromium through playwright-core): the
 * page renders without errors, its charts are present and visible, and the figures a reader sees equal
 * the Marketplace simulator's ledger (Σ quantity × listing unit price per tenant and dimension), the
 * usage store's sent quantities and the rating engine's invoices of the same run.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { listingTargetOf } from '../../core/marketplace/listing-config';
import { reportHtml } from '../../local/report/report-html';
import { buildRunReport } from '../../local/run/run-report-builder';
import { runLocal, type LocalRunEnvironment, type LocalRunResult } from '../../local/run/run-local';
import { readReportFigures } from '../support/report-page';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
let browser: Browser | undefined;
let folder = '';
let result: LocalRunResult;
let environment: LocalRunEnvironment;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install Debian chromium or set CHROMIUM_PATH`);
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  folder = mkdtempSync(path.join(tmpdir(), 'local-run-page-'));
  ({ result, environment } = await runLocal({ tenants: 3, hours: 3, requests: 60, seed: 11, lakeFolder: path.join(folder, 'lake'), firstHour: Date.UTC(2026, 10, 12, 9) }));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'], timeout: 10_000 });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await environment?.close();
  if (folder !== '') rmSync(folder, { recursive: true, force: true });
});

it('shows the run\'s figures, equal to the simulator\'s ledger, the usage store and the invoices', async () => {
  const report = buildRunReport(result, { generatedAt: Date.UTC(2026, 10, 12, 13), durationMs: 1000, seed: 11 });
  const file = path.join(folder, 'report.html');
  writeFileSync(file, reportHtml(report));
  const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => { if (message.type() === 'error') problems.push(message.text()); });
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(pathToFileURL(file).href);
  const figures = await readReportFigures(page);
  await page.screenshot({ path: '/tmp/local-run-report.png', fullPage: true });
  await context.close();
  expect(problems).toEqual([]);

  expect(figures.verdict).toEqual({ exact: true, problems: [] });
  // Charts: usage per dimension, reconciliation, invoices, cost and margin; every one drawn with marks.
  expect(figures.charts.length).toBeGreaterThanOrEqual(4);
  for (const chart of figures.charts) {
    expect(chart.width).toBeGreaterThan(0);
    expect(chart.marks.length).toBeGreaterThan(0);
  }

  // The ledger, straight from the simulator: Σ quantity × unit price per customer and billed dimension.
  let compared = 0;
  for (const tenant of result.tenants) {
    const customerKey = tenant.identity.kind === 'license' ? `license:${tenant.identity.licenseArn}` : '';
    for (const dimension of ['api_requests', 'reports_exported']) {
      const target = listingTargetOf(result.listing, dimension);
      if (target?.kind !== 'tiered') throw new Error(`${dimension} is not tiered`);
      const price = new Map(target.compiled.tiers.map((t) => [t.listingDimension, t.unitPriceMinor]));
      const ledgerMinor = result.ledger.filter((e) => e.customerKey === customerKey && price.has(e.dimension)).reduce((sum, e) => sum + BigInt(e.quantity) * price.get(e.dimension)!, 0n);
      expect([tenant.tenantId, dimension, figures.ledgerAmounts.get(`${tenant.tenantId}|${dimension}`)]).toEqual([tenant.tenantId, dimension, ledgerMinor.toString()]);
      const sent = result.storedHours.filter((h) => h.tenantId === tenant.tenantId && h.dimension === dimension).reduce((sum, h) => sum + (h.sentQuantity ?? 0), 0);
      expect(figures.billed.get(`${tenant.tenantId}|${dimension}`)).toBe(String(sent));
      compared += 1;
    }
  }
  expect(compared).toBe(6);
  expect([...figures.ledgerAmounts.values()].some((amount) => BigInt(amount) > 0n)).toBe(true);

  for (const invoice of result.invoices) expect(figures.invoiceTotals.get(invoice.tenantId)).toBe(invoice.totalMinor.toString());
  for (const row of result.costs!.rows) expect(figures.costs?.get(row.tenantId)).toMatchObject({ revenue: row.revenueMinor.toString(), cost: row.costMinor.toString() });
}, 60_000);
