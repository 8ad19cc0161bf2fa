/**
 * The run report as one self-contained HTML page: inline style, inline SVG charts, no script and no
 * external asset (its Content-Security-Policy forbids loading any), so `report.html` opens from disk
 * anywhere. Every value is HTML-escaped. The page reads well from 320 px to wide screens: the body
 * never scrolls sideways; wide tables and charts scroll inside their own container.
 *
 * Every figure of the model sits in exactly one table cell that names it, so tests (and
 * `test/support/report-page.ts`) can read the page back and compare it with the model or the ledger:
 *
 * - usage hour: `data-field="usage"` with `data-tenant`, `data-dimension`, `data-hour` (and the derived
 *   `"usage-total"` per tenant and dimension);
 * - reconciliation: `"true"` (sent), `"aggregated"`, `"billed"`, `"ledger-amount"`, `"rated-amount"`,
 *   `"exact"`, each with `data-tenant` and `data-dimension`;
 * - invoices: `"line-quantity"` and `"line-amount"` with `data-tenant` and `data-line` (the line's
 *   index); `"invoice-subtotal"`, `"invoice-top-up"`, `"invoice-total"` with `data-tenant`;
 * - cost: `"revenue"`, `"cost"`, `"margin"`, `"margin-percent"` with `data-tenant`;
 *   `"unallocated-cost"`, `"total-cost"`; `"costs-absent"` when cost allocation did not run;
 * - the run: `"option-tenants"`, `"option-hours"`, `"option-requests"`, `"option-seed"`,
 *   `"tenant-requests"` (`data-tenant`), `"requests"`, `"duplicates-delivered"`, `"late-records"`,
 *   `"usage-events"`, `"rejected-records"`, `"status"` (`data-status`), `"step-millis"` (`data-step`).
 *
 * Charts are `<figure class="chart" id="chart-…">`; their bars and points carry `data-value` and the
 * same keys (`svg-charts.ts`).
 *
 * A numeric cell's `data-value` holds the exact figure (decimal integer, minor units for money); its
 * text is the figure for people (`1,234`, `12.34 USD`). A billed cell of a dimension not billed
 * through Marketplace has no `data-value` and `data-billed="none"`.
 */
import { htmlPage } from '../../core/html-page';
import { escapeHtml } from '../../core/marketplace/registration-escape';
import { groupDigits } from '../../core/pricing/invoice-render';
import { formatMinor } from '../../core/pricing/money';
import { dimensionsOf, hoursOf, shortTime, type InvoiceEntry, type RunReport } from './run-report';
import { barChart, CHART_STYLE, compactNumber, lineChart, seriesColor, type ChartSeries, type ChartValue } from './svg-charts';

const e = escapeHtml;

/** Attributes of a figure's cell: `data-field`, the keys, and `data-value` when there is a value. */
function figureAttributes(field: string, keys: Readonly<Record<string, string>>, value?: string): string {
  const named = Object.entries(keys).map(([name, v]) => ` data-${name}="${e(v)}"`).join('');
  return ` data-field="${field}"${named}${value === undefined ? '' : ` data-value="${e(value)}"`}`;
}

/** A numeric cell holding one figure. */
function numberCell(field: string, keys: Readonly<Record<string, string>>, value: string, text: string): string {
  return `<td class="num"${figureAttributes(field, keys, value)}>${e(text)}</td>`;
}

const quantity = (value: string) => groupDigits(BigInt(value));

/** `2026-11-03T10:00:00.000Z` → `10:00` (or `11-03 10:00` when the hours span several days). */
function hourLabel(iso: string, withDate: boolean): string {
  const match = /^\d{4}-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso);
  if (match === null) return iso;
  return withDate ? `${match[1]}-${match[2]} ${match[3]}:${match[4]}` : `${match[3]}:${match[4]}`;
}

/** An ISO time for people (`2026-11-03 10:00 UTC`) in a `<time>` element. */
function timeHtml(iso: string): string {
  return `<time datetime="${e(iso)}">${e(shortTime(iso))}</time>`;
}

function duration(millis: number): string {
  return millis < 10_000 ? `${groupDigits(BigInt(Math.round(millis)))} ms` : `${(millis / 1000).toFixed(1)} s`;
}

/** Tick labels of a money axis: whole major units compactly (`1.5k`), otherwise the exact decimal. */
function moneyTick(minorUnitDigits: number): (value: bigint) => string {
  const unit = 10n ** BigInt(minorUnitDigits);
  return (value) => (value % unit === 0n ? compactNumber(value / unit) : formatMinor(value, minorUnitDigits, '').trim());
}

/** Every tenant the report names, in the tenant list's order, then any other in first-seen order. */
function tenantOrder(report: RunReport): string[] {
  return [...new Set([
    ...report.tenants.map((t) => t.tenantId),
    ...report.usageByHour.map((u) => u.tenantId),
    ...report.reconciliation.map((r) => r.tenantId),
    ...report.invoices.map((i) => i.tenantId),
    ...(report.costs?.rows ?? []).map((r) => r.tenantId),
  ])];
}

/** A table in its own horizontally scrolling container, labelled by its caption. */
function table(caption: string, head: string, body: string, foot = '', className = ''): string {
  return `<div class="table-scroll"><table${className === '' ? '' : ` class="${className}"`}>
<caption>${e(caption)}</caption>
<thead>${head}</thead>
<tbody>
${body}
</tbody>${foot === '' ? '' : `\n<tfoot>${foot}</tfoot>`}
</table></div>`;
}

const th = (text: string, numeric = false) => `<th scope="col"${numeric ? ' class="num"' : ''}>${e(text)}</th>`;

interface Context {
  readonly report: RunReport;
  readonly tenants: readonly string[];
  readonly tenantSeries: readonly ChartSeries[];
  readonly dimensions: readonly string[];
  readonly hours: readonly string[];
  readonly withDate: boolean;
}

function contextOf(report: RunReport): Context {
  const tenants = tenantOrder(report);
  const hours = hoursOf(report);
  return {
    report,
    tenants,
    tenantSeries: tenants.map((tenantId, i) => ({ key: tenantId, label: tenantId, color: seriesColor(i) })),
    dimensions: dimensionsOf(report),
    hours,
    withDate: new Set(hours.map((h) => h.slice(0, 10))).size > 1,
  };
}

function header(report: RunReport): string {
  const { verdict, options, period } = report;
  const banner = verdict.exact
    ? `<section class="verdict exact" role="status" aria-labelledby="verdict-title"><h2 id="verdict-title">Exact</h2><p>Every request was counted once and every billed figure equals what was aggregated.</p></section>`
    : `<section class="verdict inexact" role="alert" aria-labelledby="verdict-title"><h2 id="verdict-title">Not exact</h2><p>${e(`${verdict.problems.length} problem${verdict.problems.length === 1 ? '' : 's'}`)}:</p><ul>${verdict.problems.map((p) => `<li>${e(p)}</li>`).join('')}</ul></section>`;
  const facts: [string, string, string][] = [
    ['Tenants', 'option-tenants', String(options.tenants)],
    ['Hours', 'option-hours', String(options.hours)],
    ['Requests', 'option-requests', String(options.requests)],
    ['Seed', 'option-seed', String(options.seed)],
  ];
  return `<header>
<h1>Local run report</h1>
<p class="lead">Simulated hours from ${timeHtml(period.start)} to ${timeHtml(period.end)} (end excluded). Generated ${timeHtml(report.generatedAt)}; the run took ${e(duration(report.durationMs))}.</p>
${banner}
<dl class="facts">
${facts.map(([name, field, value]) => `<div><dt>${e(name)}</dt><dd${figureAttributes(field, {}, value)}>${e(groupDigits(BigInt(value)))}</dd></div>`).join('\n')}
</dl>
<nav aria-label="Sections"><ul>
<li><a href="#run">Run</a></li><li><a href="#usage">Usage per tenant per hour</a></li><li><a href="#reconciliation">Reconciliation</a></li><li><a href="#invoices">Invoices</a></li><li><a href="#costs">Cost and margin</a></li>
</ul></nav>
</header>`;
}

function runSection(context: Context): string {
  const { report } = context;
  const steps = report.steps
    .map((s) => `<tr><th scope="row">${e(s.name)}</th>${numberCell('step-millis', { step: s.name }, String(s.millis), duration(s.millis))}<td>${e(s.detail ?? '')}</td></tr>`)
    .join('\n');
  const tenants = report.tenants
    .map((t) => `<tr><th scope="row">${e(t.tenantId)}</th><td>${e(t.companyName)}</td><td>${e(t.planId)}</td><td>${t.marketplace ? 'yes' : 'no'}</td>${numberCell('tenant-requests', { tenant: t.tenantId }, String(t.requests), quantity(String(t.requests)))}</tr>`)
    .join('\n');
  const traffic = report.traffic;
  const counts: [string, string, number][] = [
    ['Requests sent', 'requests', traffic.requests],
    ['Records delivered twice', 'duplicates-delivered', traffic.duplicatesDelivered],
    ['Late records', 'late-records', traffic.lateRecords],
    ['Usage events accepted', 'usage-events', traffic.usageEvents],
    ['Records or events rejected', 'rejected-records', traffic.rejectedRecords],
  ];
  const statuses = Object.entries(traffic.byStatus).sort(([a], [b]) => a.localeCompare(b));
  return `<section id="run" aria-labelledby="run-title">
<h2 id="run-title">Run</h2>
${table('Tenants', `<tr>${th('Tenant')}${th('Company')}${th('Plan')}${th('AWS Marketplace')}${th('Requests', true)}</tr>`, tenants)}
<div class="grid">
${table('Steps', `<tr>${th('Step')}${th('Duration', true)}${th('Detail')}</tr>`, steps)}
${table('Traffic', `<tr>${th('Count')}${th('Value', true)}</tr>`, [
    ...counts.map(([name, field, value]) => `<tr><th scope="row">${e(name)}</th>${numberCell(field, {}, String(value), quantity(String(value)))}</tr>`),
    ...statuses.map(([status, value]) => `<tr><th scope="row">${e(`HTTP ${status}`)}</th>${numberCell('status', { status }, String(value), quantity(String(value)))}</tr>`),
  ].join('\n'))}
</div>
</section>`;
}

function usageSection(context: Context, chartIds: Map<string, number>): string {
  const { report, hours, withDate } = context;
  const parts: string[] = [];
  context.dimensions.forEach((dimension, d) => {
    const entries = report.usageByHour.filter((u) => u.dimension === dimension);
    if (entries.length === 0) return;
    const tenants = context.tenants.filter((t) => entries.some((u) => u.tenantId === t));
    const series = context.tenantSeries.filter((s) => tenants.includes(s.key));
    const values: ChartValue[] = entries.map((u) => ({ category: u.hour, series: u.tenantId, value: BigInt(u.quantity), data: { tenant: u.tenantId, dimension, hour: u.hour } }));
    const chart = lineChart({
      id: chartId(chartIds, `chart-usage-${d}`),
      title: `${dimension} per tenant per hour`,
      description: `Hourly ${dimension} of ${tenants.length} tenant${tenants.length === 1 ? '' : 's'} from ${hours[0] ?? ''} to ${hours[hours.length - 1] ?? ''} (UTC), as aggregated.`,
      xLabel: withDate ? 'Hour (UTC, month-day)' : `Hour (UTC, ${hours[0]?.slice(0, 10) ?? ''})`,
      yLabel: dimension,
      categories: hours.map((h) => ({ key: h, label: hourLabel(h, withDate) })),
      series,
      values,
    });
    const byKey = new Map(entries.map((u) => [`${u.tenantId}\u0000${u.hour}`, u]));
    const rows = tenants.map((tenantId) => {
      let total = 0n;
      const cells = hours.map((hour) => {
        const entry = byKey.get(`${tenantId}\u0000${hour}`);
        if (entry === undefined) return '<td class="num none">—</td>';
        total += BigInt(entry.quantity);
        return numberCell('usage', { tenant: tenantId, dimension, hour }, entry.quantity, quantity(entry.quantity));
      }).join('');
      return `<tr><th scope="row">${e(tenantId)}</th>${cells}${numberCell('usage-total', { tenant: tenantId, dimension }, total.toString(), quantity(total.toString()))}</tr>`;
    }).join('\n');
    const head = `<tr>${th('Tenant')}${hours.map((h) => `<th scope="col" class="num"><time datetime="${e(h)}">${e(hourLabel(h, withDate))}</time></th>`).join('')}${th('Total', true)}</tr>`;
    parts.push(`<section class="dimension" aria-labelledby="usage-${d}-title">
<h3 id="usage-${d}-title">${e(dimension)}</h3>
${chart}
${table(`${dimension} per tenant and hour (UTC)`, head, rows, '', 'wide')}
</section>`);
  });
  return `<section id="usage" aria-labelledby="usage-title">
<h2 id="usage-title">Usage per tenant per hour</h2>
${parts.length === 0 ? '<p class="note">No usage hours were stored.</p>' : `<div class="grid">\n${parts.join('\n')}\n</div>`}
</section>`;
}

/** A chart id unique in the page, whatever the names in the report. */
function chartId(used: Map<string, number>, base: string): string {
  const count = used.get(base) ?? 0;
  used.set(base, count + 1);
  return count === 0 ? base : `${base}-${count}`;
}

const RECONCILIATION_SERIES: readonly ChartSeries[] = [
  { key: 'true', label: 'Sent (ground truth)', color: '#57606a' },
  { key: 'aggregated', label: 'Aggregated', color: '#0072b2' },
  { key: 'billed', label: 'Billed by AWS Marketplace', color: '#e69f00' },
];

function reconciliationSection(context: Context, chartIds: Map<string, number>): string {
  const { report } = context;
  const charts = context.dimensions.map((dimension, d) => {
    const entries = report.reconciliation.filter((r) => r.dimension === dimension);
    if (entries.length === 0) return '';
    const values: ChartValue[] = entries.flatMap((r) => {
      const data = { tenant: r.tenantId, dimension };
      return [
        { category: r.tenantId, series: 'true', value: BigInt(r.trueQuantity), data },
        { category: r.tenantId, series: 'aggregated', value: BigInt(r.aggregated), data },
        ...(r.billed === null ? [] : [{ category: r.tenantId, series: 'billed', value: BigInt(r.billed), data }]),
      ];
    });
    const billedAny = entries.some((r) => r.billed !== null);
    return barChart({
      id: chartId(chartIds, `chart-reconciliation-${d}`),
      layout: 'grouped',
      title: `${dimension}: sent, aggregated and billed`,
      description: `For each tenant, the ${dimension} the load generator sent, the sum of the stored usage hours${billedAny ? ' and what AWS Marketplace billed' : ' (not billed through AWS Marketplace)'}.`,
      xLabel: 'Tenant',
      yLabel: dimension,
      categories: [...new Set(entries.map((r) => r.tenantId))].map((t) => ({ key: t, label: t })),
      series: billedAny ? RECONCILIATION_SERIES : RECONCILIATION_SERIES.slice(0, 2),
      values,
    });
  }).join('\n');
  const withAmounts = report.reconciliation.some((r) => (r.billedAmount ?? null) !== null);
  const rows = report.reconciliation.map((r) => {
    const keys = { tenant: r.tenantId, dimension: r.dimension };
    const billed = r.billed === null
      ? `<td class="num none"${figureAttributes('billed', keys)} data-billed="none">not via Marketplace</td>`
      : numberCell('billed', keys, r.billed, quantity(r.billed));
    const amount = r.billedAmount ?? null;
    const amounts = !withAmounts
      ? ''
      : amount === null
        ? '<td class="num none">—</td><td class="num none">—</td>'
        : numberCell('ledger-amount', keys, amount.ledgerMinor, formatMinor(BigInt(amount.ledgerMinor), amount.minorUnitDigits, amount.currency)) +
          numberCell('rated-amount', keys, amount.ratedMinor, formatMinor(BigInt(amount.ratedMinor), amount.minorUnitDigits, amount.currency));
    const status = `<td${figureAttributes('exact', keys, String(r.exact))}>${r.exact ? '<span class="ok">✓ exact</span>' : '<span class="bad">✗ differs</span>'}</td>`;
    return `<tr${r.exact ? '' : ' class="mismatch"'}><th scope="row">${e(r.tenantId)}</th><td>${e(r.dimension)}</td>${numberCell('true', keys, r.trueQuantity, quantity(r.trueQuantity))}${numberCell('aggregated', keys, r.aggregated, quantity(r.aggregated))}${billed}${amounts}${status}</tr>`;
  }).join('\n');
  return `<section id="reconciliation" aria-labelledby="reconciliation-title">
<h2 id="reconciliation-title">Reconciliation</h2>
<p class="note">Sent is what the load generator produced; aggregated is the sum of the stored usage hours; billed is what was metered to the AWS Marketplace simulator, in units of the dimension${withAmounts ? '; the ledger amount is what its ledger charges at the listing\'s prices, the rated amount what the rating engine charges for the sent usage' : ''}.</p>
<div class="grid">
${charts}
</div>
${table('Sent, aggregated and billed per tenant and dimension', `<tr>${th('Tenant')}${th('Dimension')}${th('Sent', true)}${th('Aggregated', true)}${th('Billed', true)}${withAmounts ? `${th('Ledger amount', true)}${th('Rated amount', true)}` : ''}${th('Status')}</tr>`, rows === '' ? `<tr><td colspan="${withAmounts ? 8 : 6}">Nothing to reconcile.</td></tr>` : rows)}
</section>`;
}

const money = (invoice: Pick<InvoiceEntry, 'currency' | 'minorUnitDigits'>, minor: string) => formatMinor(BigInt(minor), invoice.minorUnitDigits, invoice.currency);

function invoicesSection(context: Context, chartIds: Map<string, number>): string {
  const { report } = context;
  const currencies = [...new Set(report.invoices.map((i) => `${i.currency}\u0000${i.minorUnitDigits}`))];
  const charts = currencies.map((key, c) => {
    const invoices = report.invoices.filter((i) => `${i.currency}\u0000${i.minorUnitDigits}` === key);
    const { currency, minorUnitDigits } = invoices[0];
    // Stacked by what is charged: the flat fee, each dimension, the top-up; each bar's height is the total.
    const parts = new Map<string, string>();
    const values: ChartValue[] = [];
    for (const invoice of invoices) {
      const amounts = new Map<string, bigint>();
      const add = (part: string, label: string, amount: bigint) => {
        parts.set(part, parts.get(part) ?? label);
        amounts.set(part, (amounts.get(part) ?? 0n) + amount);
      };
      for (const line of invoice.lines) {
        if (line.dimension === null) add(`kind:${line.kind}`, line.kind.replace(/_/g, ' '), BigInt(line.amountMinor));
        else add(`dimension:${line.dimension}`, line.dimension, BigInt(line.amountMinor));
      }
      add('top-up', 'minimum top-up', BigInt(invoice.minimumTopUpMinor));
      for (const [part, amount] of amounts) {
        if (amount === 0n) continue;
        values.push({ category: invoice.tenantId, series: part, value: amount, text: formatMinor(amount, minorUnitDigits, currency), data: { tenant: invoice.tenantId, part } });
      }
    }
    const drawn = [...parts].filter(([part]) => values.some((v) => v.series === part));
    return barChart({
      id: chartId(chartIds, `chart-invoices-${c}`),
      layout: 'stacked',
      title: `Invoice totals in ${currency}`,
      description: `Each tenant's invoice total in ${currency}, split into what it charges (flat fee, each dimension, minimum top-up).`,
      xLabel: 'Tenant',
      yLabel: `Amount (${currency})`,
      categories: [...new Set(invoices.map((i) => i.tenantId))].map((t) => ({ key: t, label: t })),
      series: drawn.map(([part, label], i) => ({ key: part, label, color: seriesColor(i) })),
      values,
      tickLabel: moneyTick(minorUnitDigits),
    });
  }).join('\n');
  const summary = report.invoices.map((i) => {
    const keys = { tenant: i.tenantId };
    return `<tr><th scope="row">${e(i.tenantId)}</th><td>${e(i.planId)}</td>${numberCell('invoice-subtotal', keys, i.subtotalMinor, money(i, i.subtotalMinor))}${numberCell('invoice-top-up', keys, i.minimumTopUpMinor, money(i, i.minimumTopUpMinor))}${numberCell('invoice-total', keys, i.totalMinor, money(i, i.totalMinor))}</tr>`;
  }).join('\n');
  const details = report.invoices.map((i) => {
    const lines = i.lines.map((line, n) => {
      const keys = { tenant: i.tenantId, line: String(n) };
      return `<tr${line.kind === 'unpriced' ? ' class="unpriced"' : ''}><td>${e(line.description)}</td><td>${e(line.kind)}</td>${numberCell('line-quantity', keys, line.quantity, quantity(line.quantity))}${numberCell('line-amount', keys, line.amountMinor, money(i, line.amountMinor))}</tr>`;
    }).join('\n');
    const foot = `<tr><th scope="row" colspan="3">Minimum top-up</th><td class="num">${e(money(i, i.minimumTopUpMinor))}</td></tr><tr class="total"><th scope="row" colspan="3">Total</th><td class="num">${e(money(i, i.totalMinor))}</td></tr>`;
    const warnings = i.warnings.length === 0 ? '' : `<ul class="warnings">${i.warnings.map((w) => `<li>${e(w)}</li>`).join('')}</ul>`;
    return `<section class="invoice" aria-label="${e(`Invoice of ${i.tenantId}`)}">
<h3>${e(i.tenantId)} <span class="sub">plan ${e(i.planId)}, ${timeHtml(i.period.start)} to ${timeHtml(i.period.end)}</span></h3>
${warnings}
${table(`Invoice lines of ${i.tenantId}`, `<tr>${th('Description')}${th('Kind')}${th('Quantity', true)}${th('Amount', true)}</tr>`, lines === '' ? '<tr><td colspan="4">No charges.</td></tr>' : lines, foot)}
</section>`;
  }).join('\n');
  return `<section id="invoices" aria-labelledby="invoices-title">
<h2 id="invoices-title">Invoices</h2>
${report.invoices.length === 0 ? '<p class="note">No invoice was rated.</p>' : `<div class="grid">
${charts}
</div>
${table('Invoice totals', `<tr>${th('Tenant')}${th('Plan')}${th('Subtotal', true)}${th('Minimum top-up', true)}${th('Total', true)}</tr>`, summary)}
<div class="grid wide-items">
${details}
</div>`}
</section>`;
}

const COST_SERIES: readonly ChartSeries[] = [
  { key: 'revenue', label: 'Revenue', color: '#0072b2' },
  { key: 'cost', label: 'Allocated cost', color: '#d55e00' },
  { key: 'margin', label: 'Margin', color: '#009e73' },
];

function costsSection(context: Context, chartIds: Map<string, number>): string {
  const { costs } = context.report;
  if (costs === undefined) {
    return `<section id="costs" aria-labelledby="costs-title">
<h2 id="costs-title">Cost and margin</h2>
<p class="note" data-field="costs-absent">Cost allocation not run.</p>
</section>`;
  }
  const amount = (minor: string) => formatMinor(BigInt(minor), costs.minorUnitDigits, costs.currency);
  const values: ChartValue[] = costs.rows.flatMap((r) => {
    const data = { tenant: r.tenantId };
    return (['revenue', 'cost', 'margin'] as const).map((series) => {
      const minor = series === 'revenue' ? r.revenueMinor : series === 'cost' ? r.costMinor : r.marginMinor;
      return { category: r.tenantId, series, value: BigInt(minor), text: amount(minor), data };
    });
  });
  const chart = barChart({
    id: chartId(chartIds, 'chart-costs'),
    layout: 'grouped',
    title: `Revenue, cost and margin per tenant (${costs.currency})`,
    description: `For each tenant, the invoiced revenue, the AWS cost allocated to it and the margin (revenue minus cost, below zero when negative), in ${costs.currency}.`,
    xLabel: 'Tenant',
    yLabel: `Amount (${costs.currency})`,
    categories: [...new Set(costs.rows.map((r) => r.tenantId))].map((t) => ({ key: t, label: t })),
    series: COST_SERIES,
    values,
    tickLabel: moneyTick(costs.minorUnitDigits),
  });
  const rows = costs.rows.map((r) => {
    const keys = { tenant: r.tenantId };
    const negative = BigInt(r.marginMinor) < 0n;
    const percent = r.marginPercent === null
      ? `<td class="num none"${figureAttributes('margin-percent', keys)}>no revenue</td>`
      : numberCell('margin-percent', keys, r.marginPercent, `${r.marginPercent} %`);
    return `<tr${negative ? ' class="loss"' : ''}><th scope="row">${e(r.tenantId)}</th>${numberCell('revenue', keys, r.revenueMinor, amount(r.revenueMinor))}${numberCell('cost', keys, r.costMinor, amount(r.costMinor))}${numberCell('margin', keys, r.marginMinor, amount(r.marginMinor))}${percent}</tr>`;
  }).join('\n');
  const foot = `<tr><th scope="row">Unallocated (shared)</th><td></td>${numberCell('unallocated-cost', {}, costs.unallocatedMinor, amount(costs.unallocatedMinor))}<td colspan="2"></td></tr>
<tr class="total"><th scope="row">Total cost</th><td></td>${numberCell('total-cost', {}, costs.totalCostMinor, amount(costs.totalCostMinor))}<td colspan="2"></td></tr>`;
  return `<section id="costs" aria-labelledby="costs-title">
<h2 id="costs-title">Cost and margin</h2>
<div class="grid">
${chart}
</div>
${table(`Revenue, allocated cost and margin per tenant (${costs.currency})`, `<tr>${th('Tenant')}${th('Revenue', true)}${th('Cost', true)}${th('Margin', true)}${th('Margin %', true)}</tr>`, rows === '' ? '<tr><td colspan="5">No tenant.</td></tr>' : rows, foot)}
</section>`;
}

const STYLE = `
  :root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; }
  *, *::before, *::after { box-sizing: border-box; }
  body { margin: 0; background: #f6f8fa; overflow-wrap: break-word; }
  main { max-width: 76rem; margin: 1.5rem auto; padding: 1.5rem 2rem; background: #fff; border: 1px solid #d0d7de; border-radius: 8px; min-width: 0; }
  h1 { margin: 0 0 .5rem; font-size: 1.6rem; }
  h2 { font-size: 1.3rem; margin: 2.2rem 0 .8rem; padding-bottom: .3rem; border-bottom: 1px solid #d0d7de; }
  h3 { font-size: 1.05rem; margin: 1.6rem 0 .5rem; }
  h3 .sub { font-weight: 400; color: #57606a; font-size: .9rem; }
  .lead, .note { color: #57606a; }
  .verdict { border-radius: 6px; padding: .75rem 1rem; margin: 1rem 0; border: 1px solid; }
  .verdict h2 { margin: 0 0 .3rem; border: none; padding: 0; font-size: 1.2rem; }
  .verdict p { margin: 0; }
  .verdict ul { margin: .4rem 0 0; padding-left: 1.2rem; }
  .verdict.exact { background: #dafbe1; border-color: #1a7f37; }
  .verdict.inexact { background: #ffebe9; border-color: #cf222e; }
  dl.facts { display: flex; flex-wrap: wrap; gap: .5rem 2rem; margin: 0 0 1rem; }
  dl.facts dt { color: #57606a; font-size: .85rem; }
  dl.facts dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; }
  nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: .3rem 1.2rem; padding: 0; margin: 0; }
  a { color: #0969da; }
  .table-scroll { overflow-x: auto; max-width: 100%; margin: .5rem 0 1.2rem; }
  table { border-collapse: collapse; font-variant-numeric: tabular-nums; min-width: 100%; }
  table.wide th, table.wide td { white-space: nowrap; }
  caption { text-align: left; font-weight: 600; padding: .3rem 0; }
  th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #d0d7de; vertical-align: top; overflow-wrap: normal; }
  th.num, td.num { text-align: right; white-space: nowrap; }
  thead th { background: #f6f8fa; }
  tbody th { font-weight: 600; }
  td.none { color: #57606a; }
  tr.total th, tr.total td { font-weight: 700; border-top: 2px solid #1f2328; }
  tr.mismatch td, tr.mismatch th, tr.loss td, tr.loss th { background: #ffebe9; }
  tr.unpriced td { background: #fff8c5; }
  .ok { color: #1a7f37; font-weight: 600; }
  .bad { color: #cf222e; font-weight: 600; }
  ul.warnings { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: .5rem 1rem .5rem 2rem; margin: .5rem 0; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 30rem), 1fr)); gap: 0 2rem; }
  .grid.wide-items { grid-template-columns: repeat(auto-fill, minmax(min(100%, 34rem), 1fr)); }
  .grid > * { min-width: 0; }
  footer { margin-top: 2rem; color: #57606a; font-size: .85rem; }
  @media (max-width: 40rem) {
    main { margin: 0; padding: 1rem .75rem; border: none; border-radius: 0; }
    h1 { font-size: 1.35rem; }
  }
${CHART_STYLE}`;

/** The report as one self-contained HTML page (see the module comment for the cells' attributes). */
export function reportHtml(report: RunReport): string {
  const context = contextOf(report);
  const chartIds = new Map<string, number>();
  const title = `Local run report: ${report.verdict.exact ? 'exact' : 'not exact'}`;
  return htmlPage({
    title,
    style: STYLE,
    main: `${header(report)}
${runSection(context)}
${usageSection(context, chartIds)}
${reconciliationSection(context, chartIds)}
${invoicesSection(context, chartIds)}
${costsSection(context, chartIds)}
<footer>Figures are exact: quantities are whole units and amounts whole minor units; charts are drawn to scale from the same figures. Times are UTC.</footer>`,
  });
}
