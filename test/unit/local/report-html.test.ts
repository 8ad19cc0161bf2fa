/**
 * The run report's HTML page: every figure of the model in exactly one cell that names it (showing
 * the exact figure), the charts' marks adding up to the model, escaping of hostile names, the variants
 * without cost allocation and with problems, and a property over any report (numRuns 200).
 */
import fc from 'fast-check';
import { groupDigits } from '../../../core/pricing/invoice-render';
import { formatMinor } from '../../../core/pricing/money';
import { reportHtml } from '../../../local/report/report-html';
import type { RunReport } from '../../../local/report/run-report';
import { buildRunReportFixture, runReportArbitrary } from '../../fixtures/run-report';
import { checkFigureTexts, readReportHtml, reportFiguresOfHtml, tokenizeMarkup, type FigureCell, type MarkupToken } from '../../support/report-page';

/** What HTML drops from text (controls it forbids; lone surrogates become U+FFFD): keys come back this way. */
const asRendered = (text: string) =>
  // eslint-disable-next-line no-control-regex
  text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '').replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');

/** The cells the model's figures must occupy, derived from the model alone. */
function expectedCells(report: RunReport): FigureCell[] {
  const cells: FigureCell[] = [];
  const add = (field: string, keys: Record<string, string>, value: string | null, text: string) =>
    cells.push({ field, keys: Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, asRendered(v)])), value, text });
  const quantity = (field: string, keys: Record<string, string>, value: string | number) => add(field, keys, String(value), groupDigits(BigInt(value)));
  quantity('option-tenants', {}, report.options.tenants);
  quantity('option-hours', {}, report.options.hours);
  quantity('option-requests', {}, report.options.requests);
  quantity('option-seed', {}, report.options.seed);
  for (const t of report.tenants) quantity('tenant-requests', { tenant: t.tenantId }, t.requests);
  const { traffic } = report;
  quantity('requests', {}, traffic.requests);
  quantity('duplicates-delivered', {}, traffic.duplicatesDelivered);
  quantity('late-records', {}, traffic.lateRecords);
  quantity('usage-events', {}, traffic.usageEvents);
  quantity('rejected-records', {}, traffic.rejectedRecords);
  for (const [status, n] of Object.entries(traffic.byStatus)) quantity('status', { status }, n);
  for (const u of report.usageByHour) quantity('usage', { tenant: u.tenantId, dimension: u.dimension, hour: u.hour }, u.quantity);
  for (const r of report.reconciliation) {
    const keys = { tenant: r.tenantId, dimension: r.dimension };
    quantity('true', keys, r.trueQuantity);
    quantity('aggregated', keys, r.aggregated);
    if (r.billed === null) add('billed', keys, null, 'not via Marketplace');
    else quantity('billed', keys, r.billed);
    const amount = r.billedAmount ?? null;
    if (amount !== null) {
      add('ledger-amount', keys, amount.ledgerMinor, formatMinor(BigInt(amount.ledgerMinor), amount.minorUnitDigits, amount.currency));
      add('rated-amount', keys, amount.ratedMinor, formatMinor(BigInt(amount.ratedMinor), amount.minorUnitDigits, amount.currency));
    }
    add('exact', keys, String(r.exact), r.exact ? '✓ exact' : '✗ differs');
  }
  for (const i of report.invoices) {
    const money = (minor: string) => formatMinor(BigInt(minor), i.minorUnitDigits, i.currency);
    i.lines.forEach((line, n) => {
      quantity('line-quantity', { tenant: i.tenantId, line: String(n) }, line.quantity);
      add('line-amount', { tenant: i.tenantId, line: String(n) }, line.amountMinor, money(line.amountMinor));
    });
    add('invoice-subtotal', { tenant: i.tenantId }, i.subtotalMinor, money(i.subtotalMinor));
    add('invoice-top-up', { tenant: i.tenantId }, i.minimumTopUpMinor, money(i.minimumTopUpMinor));
    add('invoice-total', { tenant: i.tenantId }, i.totalMinor, money(i.totalMinor));
  }
  if (report.costs !== undefined) {
    const c = report.costs;
    const money = (minor: string) => formatMinor(BigInt(minor), c.minorUnitDigits, c.currency);
    for (const row of c.rows) {
      const keys = { tenant: row.tenantId };
      add('revenue', keys, row.revenueMinor, money(row.revenueMinor));
      add('cost', keys, row.costMinor, money(row.costMinor));
      add('margin', keys, row.marginMinor, money(row.marginMinor));
      add('margin-percent', keys, row.marginPercent, row.marginPercent === null ? 'no revenue' : `${row.marginPercent} %`);
    }
    add('unallocated-cost', {}, c.unallocatedMinor, money(c.unallocatedMinor));
    add('total-cost', {}, c.totalCostMinor, money(c.totalCostMinor));
  }
  return cells;
}

/** Cells that show derived figures or no figure: not the model's own. */
const DERIVED = new Set(['usage-total', 'step-millis', 'costs-absent']);
const canonical = (cells: readonly FigureCell[]) =>
  cells.filter((c) => !DERIVED.has(c.field)).map((c) => JSON.stringify([c.field, Object.entries(c.keys).sort(), c.value, c.text])).sort();

type StartToken = Extract<MarkupToken, { kind: 'start' }>;
const PAGE_ELEMENTS = new Set([
  'html', 'head', 'meta', 'title', 'style', 'body', 'main', 'header', 'footer', 'h1', 'h2', 'h3', 'p', 'section', 'nav', 'dl', 'dt', 'dd', 'div', 'ul', 'li', 'a',
  'table', 'caption', 'thead', 'tbody', 'tfoot', 'tr', 'th', 'td', 'span', 'time',
  'figure', 'figcaption', 'svg', 'desc', 'line', 'text', 'g', 'rect', 'circle', 'polyline',
]);

/**
 * Only the page's own elements, no event handler, no script, no link leaving the page; ids unique, and
 * every id an attribute refers to (aria-labelledby, aria-describedby, href="#…") present.
 */
function assertInert(html: string): void {
  const tokens = tokenizeMarkup(html).filter((t): t is StartToken => t.kind === 'start');
  const ids = tokens.flatMap((t) => (t.attributes.id === undefined ? [] : [t.attributes.id]));
  const duplicates = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (duplicates.length > 0) throw new Error(`ids used twice: ${duplicates.join(', ')}`);
  for (const token of tokens) {
    if (!PAGE_ELEMENTS.has(token.name)) throw new Error(`unexpected <${token.name}>`);
    for (const [name, value] of Object.entries(token.attributes)) {
      if (/^on/i.test(name) || name === 'src') throw new Error(`unexpected attribute ${name} on <${token.name}>`);
      if (name === 'href' && !value.startsWith('#')) throw new Error(`link out of the page: ${value}`);
      const references = name === 'href' ? [value.slice(1)] : name === 'aria-labelledby' || name === 'aria-describedby' ? value.split(' ') : [];
      for (const id of references) if (!ids.includes(id)) throw new Error(`${name} refers to a missing id ${id}`);
    }
  }
}

describe('the fixture report', () => {
  const report = buildRunReportFixture();
  let html = '';
  let figures: ReturnType<typeof reportFiguresOfHtml>;
  beforeAll(() => {
    html = reportHtml(report);
    figures = reportFiguresOfHtml(html);
  });

  it('is one self-contained, inert page', () => {
    expect(html).toMatch(/^<!DOCTYPE html>\n<html lang="en">/);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`);
    expect(html).not.toMatch(/<script|<link|<img|url\(|@import|https?:\/\/(?!www\.w3\.org\/2000\/svg")/);
    assertInert(html);
  });

  it('puts every figure of the model in exactly one cell that names it and shows it exactly', () => {
    expect(canonical(figures.cells)).toEqual(canonical(expectedCells(report)));
    // The model is not trivially small: every section has figures.
    for (const field of ['usage', 'billed', 'ledger-amount', 'line-amount', 'invoice-total', 'margin', 'total-cost']) {
      expect(figures.cells.filter((c) => c.field === field).length).toBeGreaterThan(0);
    }
  });

  it('gives the billed figures and invoice totals as the model has them', () => {
    expect(Object.fromEntries(figures.billed)).toEqual(Object.fromEntries(report.reconciliation.map((r) => [`${r.tenantId}|${r.dimension}`, r.billed])));
    expect(Object.fromEntries(figures.invoiceTotals)).toEqual(Object.fromEntries(report.invoices.map((i) => [i.tenantId, i.totalMinor])));
    expect(figures.verdict).toEqual({ exact: true, problems: [] });
  });

  it('totals each tenant\'s usage of a dimension over the hours, equal to the aggregated figure', () => {
    for (const cell of figures.cells.filter((c) => c.field === 'usage-total')) {
      const sum = report.usageByHour.filter((u) => u.tenantId === cell.keys.tenant && u.dimension === cell.keys.dimension).reduce((s, u) => s + BigInt(u.quantity), 0n);
      expect(cell.value).toBe(sum.toString());
      expect(cell.value).toBe(report.reconciliation.find((r) => r.tenantId === cell.keys.tenant && r.dimension === cell.keys.dimension)?.aggregated);
    }
  });

  it('draws charts whose marks add up to the model', () => {
    const byKind = (prefix: string) => figures.charts.filter((c) => c.id.startsWith(prefix));
    const dimensions = [...new Set(report.usageByHour.map((u) => u.dimension))];
    // Usage: one line chart per dimension, one point per usage hour with its exact quantity.
    expect(byKind('chart-usage-')).toHaveLength(dimensions.length);
    const points = byKind('chart-usage-').flatMap((c) => c.marks);
    expect(points.map((m) => JSON.stringify([m.data.tenant, m.data.dimension, m.data.hour, m.value])).sort())
      .toEqual(report.usageByHour.map((u) => JSON.stringify([u.tenantId, u.dimension, u.hour, u.quantity])).sort());
    for (const chart of byKind('chart-usage-')) {
      const dimension = chart.marks[0].data.dimension;
      expect(chart.marks.reduce((s, m) => s + BigInt(m.value), 0n)).toBe(report.usageByHour.filter((u) => u.dimension === dimension).reduce((s, u) => s + BigInt(u.quantity), 0n));
    }
    // Reconciliation: sent, aggregated and (when billed) billed per tenant × dimension.
    const reconciliationMarks = byKind('chart-reconciliation-').flatMap((c) => c.marks);
    expect(reconciliationMarks.map((m) => JSON.stringify([m.data.tenant, m.data.dimension, m.series, m.value])).sort()).toEqual(
      report.reconciliation.flatMap((r) => [
        [r.tenantId, r.dimension, 'true', r.trueQuantity],
        [r.tenantId, r.dimension, 'aggregated', r.aggregated],
        ...(r.billed === null ? [] : [[r.tenantId, r.dimension, 'billed', r.billed]]),
      ].map((x) => JSON.stringify(x))).sort(),
    );
    // Invoices: each tenant's stacked parts add up to its total.
    const invoiceMarks = byKind('chart-invoices-').flatMap((c) => c.marks);
    for (const invoice of report.invoices) {
      expect(invoiceMarks.filter((m) => m.data.tenant === invoice.tenantId).reduce((s, m) => s + BigInt(m.value), 0n)).toBe(BigInt(invoice.totalMinor));
    }
    // Cost: revenue, cost and margin per tenant.
    const costMarks = byKind('chart-costs').flatMap((c) => c.marks);
    expect(costMarks.map((m) => JSON.stringify([m.data.tenant, m.series, m.value])).sort()).toEqual(
      (report.costs?.rows ?? []).flatMap((r) => [[r.tenantId, 'revenue', r.revenueMinor], [r.tenantId, 'cost', r.costMinor], [r.tenantId, 'margin', r.marginMinor]].map((x) => JSON.stringify(x))).sort(),
    );
    // Chart ids are unique.
    expect(new Set(figures.charts.map((c) => c.id)).size).toBe(figures.charts.length);
  });

  it('shows a negative margin as a loss', () => {
    const loss = report.costs?.rows.find((r) => BigInt(r.marginMinor) < 0n);
    expect(loss).toBeDefined();
    expect(html).toContain(`<tr class="loss"><th scope="row">${loss?.tenantId}</th>`);
  });
});

describe('hostile names', () => {
  const hostile = ['<script>alert(1)</script>', 'a"b\'c`d', 'x&y<z>&amp;'];
  const report = buildRunReportFixture({ tenantIds: hostile });
  let html = '';
  beforeAll(() => {
    html = reportHtml(report);
  });

  it('escapes tenant ids and company names everywhere: the page stays inert and reads back the same names', () => {
    assertInert(html);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('a&quot;b&#39;c&#96;d');
    expect(html).toContain('x&amp;y&lt;z&gt;&amp;amp;');
    const figures = reportFiguresOfHtml(html);
    expect([...figures.invoiceTotals.keys()]).toEqual(hostile);
    expect(canonical(figures.cells)).toEqual(canonical(expectedCells(report)));
    const text = tokenizeMarkup(html).flatMap((t) => (t.kind === 'text' ? [t.text] : [])).join('\n');
    expect(text).toContain('Acme <script>alert("x")</script> & Sons');
    expect(text).toContain('Globex "Quoted" & Co\'s');
  });

  it('escapes problem sentences and step names', () => {
    const verdict = { exact: false, problems: ['<img src=x onerror=alert(1)> & "quoted"'] };
    const page = reportHtml({ ...report, verdict, steps: [{ name: '</td><script>', millis: 1, detail: '"&' }] });
    assertInert(page);
    expect(readReportHtml(page).verdict).toEqual(verdict);
  });
});

describe('variants', () => {
  it('says cost allocation was not run when the report has no costs', () => {
    const report = buildRunReportFixture({ costs: false });
    const html = reportHtml(report);
    expect(html).toContain('<p class="note" data-field="costs-absent">Cost allocation not run.</p>');
    const figures = reportFiguresOfHtml(html);
    expect(figures.costs).toBeNull();
    expect(figures.charts.some((c) => c.id === 'chart-costs')).toBe(false);
    expect(canonical(figures.cells)).toEqual(canonical(expectedCells(report)));
  });

  it('leads with "Not exact" and every problem, and marks the row that differs', () => {
    const report = buildRunReportFixture({ problem: true });
    expect(report.verdict.exact).toBe(false);
    const html = reportHtml(report);
    expect(html).toContain('<title>Local run report: not exact</title>');
    expect(html).toMatch(/<section class="verdict inexact" role="alert"/);
    const figures = reportFiguresOfHtml(html);
    expect(figures.verdict).toEqual({ exact: false, problems: report.verdict.problems });
    const wrong = report.reconciliation.find((r) => !r.exact);
    expect(wrong).toBeDefined();
    expect(figures.cells.find((c) => c.field === 'exact' && c.keys.tenant === wrong?.tenantId && c.keys.dimension === wrong?.dimension)?.text).toBe('✗ differs');
    expect(html).toContain(`<tr class="mismatch"><th scope="row">${wrong?.tenantId}</th><td>${wrong?.dimension}</td>`);
    expect(figures.billed.get(`${wrong?.tenantId}|${wrong?.dimension}`)).toBe(wrong?.billed);
  });

  it('gives each of many tenants its own colour, the same in every chart', () => {
    const report = buildRunReportFixture({ tenants: 24 });
    const html = reportHtml(report);
    expect(canonical(reportFiguresOfHtml(html).cells)).toEqual(canonical(expectedCells(report)));
    const colourOf = new Map<string, Set<string>>();
    for (const token of tokenizeMarkup(html)) {
      if (token.kind !== 'start' || token.name !== 'circle') continue;
      const tenant = token.attributes['data-tenant'];
      colourOf.set(tenant, (colourOf.get(tenant) ?? new Set()).add(token.attributes.fill));
    }
    expect(colourOf.size).toBe(24);
    for (const colours of colourOf.values()) expect(colours.size).toBe(1);
    expect(new Set([...colourOf.values()].map((c) => [...c][0])).size).toBe(24);
  });

  it('dates hour columns when the run spans several days', () => {
    const report = buildRunReportFixture({ hours: 26 });
    const html = reportHtml(report);
    expect(html).toContain('<time datetime="2026-11-04T11:00:00.000Z">11-04 11:00</time>');
    expect(canonical(reportFiguresOfHtml(html).cells)).toEqual(canonical(expectedCells(report)));
  });
});

describe('any report (numRuns 200)', () => {
  it('renders without throwing, stays inert, and shows every figure exactly once, exactly', () => {
    fc.assert(
      fc.property(runReportArbitrary(), (report) => {
        const html = reportHtml(report);
        assertInert(html);
        const reading = readReportHtml(html);
        checkFigureTexts(reading.cells);
        expect(canonical(reading.cells)).toEqual(canonical(expectedCells(report)));
        expect(reading.verdict.exact).toBe(report.verdict.exact);
        // Every mark of every chart carries an exact decimal integer.
        for (const chart of reading.charts) for (const mark of chart.marks) expect(mark.value).toMatch(/^-?\d+$/);
      }),
      { numRuns: 200 },
    );
  });
});
