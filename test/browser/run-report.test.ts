/**
 * The run report in a real browser (Debian Chromium driven by playwright-core), opened from a file as
 * `npm start` leaves it: it renders without a console error or a network request, every chart is
 * there and visible, the figures read from the page (reconciliation, invoices, usage, cost) equal the
 * model's, nothing overflows at 320 px, and hostile names stay text. Screenshots go to /tmp.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { reportHtml } from '../../local/report/report-html';
import { pairKey, type RunReport } from '../../local/report/run-report';
import { buildRunReportFixture } from '../fixtures/run-report';
import { overflowsHorizontally, readReportFigures } from '../support/report-page';

/** Debian's Chromium by default; CI runners without it point CHROMIUM_PATH at their Chrome. */
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const SCREENSHOTS = { wide: '/tmp/run-report-1280.png', narrow: '/tmp/run-report-320.png' };

declare const document: { querySelectorAll(selector: string): ArrayLike<unknown> };

jest.setTimeout(30_000);

let browser: Browser | undefined;
let folder = '';

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install Debian chromium (apt-get install -y chromium) or set CHROMIUM_PATH to run the browser tests`);
  }
  folder = mkdtempSync(path.join(tmpdir(), 'run-report-page-'));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 10_000,
  });
});

afterAll(async () => {
  await browser?.close();
  if (folder !== '') rmSync(folder, { recursive: true, force: true });
});

interface Opened {
  readonly page: Page;
  /** Console errors, page errors, dialogs and any request but the report file itself. */
  readonly problems: string[];
  close(): Promise<void>;
}

/** Writes the report's page to a file and opens it, recording anything that should not happen. */
async function open(report: RunReport, name: string, width: number): Promise<Opened> {
  if (browser === undefined) throw new Error('setup failed');
  const file = path.join(folder, `${name}.html`);
  writeFileSync(file, reportHtml(report));
  const url = pathToFileURL(file).href;
  const context = await browser.newContext({ viewport: { width, height: 900 }, javaScriptEnabled: true });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('request', (request) => {
    if (request.url() !== url) problems.push(`request: ${request.url()}`);
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, problems, close: () => context.close() };
}

const entries = <V>(map: ReadonlyMap<string, V>) => [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
const sorted = <V>(pairs: readonly (readonly [string, V])[]) => [...pairs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

it('renders the report with every chart visible and the figures of the model, at 1280 and 320 px', async () => {
  const report = buildRunReportFixture();
  const { page, problems, close } = await open(report, 'report', 1280);
  try {
    await expect(page.locator('h1').textContent()).resolves.toBe('Local run report');
    await expect(page.title()).resolves.toBe('Local run report: exact');

    // Every chart: one per dimension for usage and for reconciliation, one per invoice currency, one for cost.
    const dimensions = new Set(report.usageByHour.map((u) => u.dimension)).size;
    const reconciled = new Set(report.reconciliation.map((r) => r.dimension)).size;
    const currencies = new Set(report.invoices.map((i) => i.currency)).size;
    const charts = page.locator('svg.chart-svg');
    await expect(charts.count()).resolves.toBe(dimensions + reconciled + currencies + 1);
    for (let i = 0; i < (await charts.count()); i += 1) {
      const chart = charts.nth(i);
      await chart.scrollIntoViewIfNeeded();
      await expect(chart.isVisible()).resolves.toBe(true);
      const box = await chart.boundingBox();
      expect(box?.width).toBeGreaterThan(300);
      expect(box?.height).toBeGreaterThan(150);
      await expect(chart.getAttribute('role')).resolves.toBe('img');
      expect(await chart.getAttribute('aria-label')).not.toBe('');
    }

    const figures = await readReportFigures(page);
    expect(figures.verdict).toEqual({ exact: true, problems: [] });
    expect(entries(figures.billed)).toEqual(sorted(report.reconciliation.map((r) => [pairKey(r.tenantId, r.dimension), r.billed])));
    expect(entries(figures.invoiceTotals)).toEqual(sorted(report.invoices.map((i) => [i.tenantId, i.totalMinor])));
    expect(entries(figures.sent)).toEqual(sorted(report.reconciliation.map((r) => [pairKey(r.tenantId, r.dimension), r.trueQuantity])));
    expect(entries(figures.aggregated)).toEqual(sorted(report.reconciliation.map((r) => [pairKey(r.tenantId, r.dimension), r.aggregated])));
    expect(entries(figures.ledgerAmounts)).toEqual(sorted(report.reconciliation.flatMap((r) => (r.billedAmount ? [[pairKey(r.tenantId, r.dimension), r.billedAmount.ledgerMinor] as const] : []))));
    expect(entries(figures.usage)).toEqual(sorted(report.usageByHour.map((u) => [`${u.tenantId}|${u.dimension}|${u.hour}`, u.quantity])));
    expect(entries(figures.costs ?? new Map())).toEqual(sorted((report.costs?.rows ?? []).map((r) => [r.tenantId, { revenue: r.revenueMinor, cost: r.costMinor, margin: r.marginMinor }])));

    // The charts, read from the DOM, add up to the model.
    for (const chart of figures.charts.filter((c) => c.kind === 'line')) {
      const dimension = chart.marks[0].data.dimension;
      const drawn = chart.marks.reduce((sum, mark) => sum + BigInt(mark.value), 0n);
      expect(drawn).toBe(report.usageByHour.filter((u) => u.dimension === dimension).reduce((sum, u) => sum + BigInt(u.quantity), 0n));
    }
    const invoiceMarks = figures.charts.filter((c) => c.id.startsWith('chart-invoices-')).flatMap((c) => c.marks);
    for (const invoice of report.invoices) {
      expect(invoiceMarks.filter((m) => m.data.tenant === invoice.tenantId).reduce((sum, m) => sum + BigInt(m.value), 0n)).toBe(BigInt(invoice.totalMinor));
    }

    await expect(overflowsHorizontally(page)).resolves.toBe(false);
    await page.screenshot({ path: SCREENSHOTS.wide, fullPage: true });

    // A phone-sized window: the page itself never scrolls sideways; charts and tables scroll in their containers.
    await page.setViewportSize({ width: 320, height: 720 });
    await expect(overflowsHorizontally(page)).resolves.toBe(false);
    await expect(charts.first().isVisible()).resolves.toBe(true);
    await page.screenshot({ path: SCREENSHOTS.narrow, fullPage: true });
    expect((await readReportFigures(page)).invoiceTotals).toEqual(figures.invoiceTotals);

    expect(problems).toEqual([]);
  } finally {
    await close();
  }
});

it('leads with the problems when the run is not exact, and says cost allocation was not run', async () => {
  const report = buildRunReportFixture({ problem: true, costs: false });
  const { page, problems, close } = await open(report, 'problem', 1024);
  try {
    const verdict = page.getByRole('alert');
    await expect(verdict.isVisible()).resolves.toBe(true);
    await expect(verdict.locator('h2').textContent()).resolves.toBe('Not exact');
    const figures = await readReportFigures(page);
    expect(figures.verdict).toEqual({ exact: false, problems: report.verdict.problems });
    const wrong = report.reconciliation.find((r) => !r.exact);
    if (wrong === undefined) throw new Error('the fixture has no inexact row');
    expect(figures.billed.get(pairKey(wrong.tenantId, wrong.dimension))).toBe(wrong.billed);
    expect(wrong.billed).not.toBe(wrong.aggregated);
    expect(figures.costs).toBeNull();
    await expect(page.getByText('Cost allocation not run.').isVisible()).resolves.toBe(true);
    await expect(page.locator('svg.chart-svg').count()).resolves.toBe(new Set(report.usageByHour.map((u) => u.dimension)).size + new Set(report.reconciliation.map((r) => r.dimension)).size + 1);
    expect(problems).toEqual([]);
  } finally {
    await close();
  }
});

it('stays readable with 24 tenants: wide charts scroll in their own container, the page does not', async () => {
  const report = buildRunReportFixture({ tenants: 24 });
  const { page, problems, close } = await open(report, 'many', 1280);
  try {
    const figures = await readReportFigures(page);
    expect(entries(figures.invoiceTotals)).toEqual(sorted(report.invoices.map((i) => [i.tenantId, i.totalMinor])));
    expect(entries(figures.billed)).toEqual(sorted(report.reconciliation.map((r) => [pairKey(r.tenantId, r.dimension), r.billed])));
    for (const width of [1280, 320]) {
      await page.setViewportSize({ width, height: 800 });
      await expect(overflowsHorizontally(page)).resolves.toBe(false);
      const costs = page.locator('#costs svg.chart-svg');
      await costs.scrollIntoViewIfNeeded();
      await expect(costs.isVisible()).resolves.toBe(true);
    }
    // The legend lists every tenant of a usage chart.
    await expect(page.locator('#chart-usage-0 ul.chart-legend li').count()).resolves.toBe(24);
    // The inline min-width of wide charts is allowed by the page's policy: no violation reported.
    expect(problems).toEqual([]);
  } finally {
    await close();
  }
});

it('shows hostile tenant and company names as text, running nothing', async () => {
  // The last is as long as a tenant id may be, without a space: it must not push the page sideways.
  const hostile = ['<script>alert(1)</script>', '"><img src=x onerror=alert(2)>', `x&y${'-long'.repeat(12)}z`];
  const report = buildRunReportFixture({ tenantIds: hostile });
  const { page, problems, close } = await open(report, 'hostile', 1280);
  try {
    expect(await page.evaluate(() => document.querySelectorAll('script, img, iframe, object').length)).toBe(0);
    const figures = await readReportFigures(page);
    expect([...figures.invoiceTotals.keys()]).toEqual(hostile);
    await expect(page.locator('td', { hasText: 'Acme <script>alert("x")</script> & Sons' }).count()).resolves.toBe(1);
    await page.setViewportSize({ width: 320, height: 720 });
    await expect(overflowsHorizontally(page)).resolves.toBe(false);
    expect(problems).toEqual([]);
  } finally {
    await close();
  }
});
