import { htmlPage } from '../html-page';
import { escapeHtml } from '../marketplace/registration-escape';
import type { InvoicePreview } from './invoice';
import { formatMinor } from './money';

/**
 * The three forms of an invoice preview: JSON (for programs), CSV (for spreadsheets) and a
 * self-contained HTML page (for people). All are pure functions of the preview; amounts are shown both
 * exactly (integer minor units as decimal strings) and formatted with {@link formatMinor}
 * (`12.34 USD`). Unpriced usage appears in every form, with its quantity, an amount of 0 and a warning.
 */

/** An output format of `npm run invoice`. */
export type InvoiceFormat = 'json' | 'csv' | 'html';
export const INVOICE_FORMATS: readonly InvoiceFormat[] = ['json', 'csv', 'html'];

const money = (preview: InvoicePreview, amountMinor: bigint) => formatMinor(amountMinor, preview.minorUnitDigits, preview.currency);

const shareText = (preview: InvoicePreview) => `${preview.proration.numerator}/${preview.proration.denominator}`;

/** Why an unpriced dimension is listed at 0. */
const unpricedNote = (preview: InvoicePreview, dimension: string) => `${dimension} is not priced by plan ${preview.plan.id}: not charged`;

/** The preview as plain JSON values: every bigint as a decimal string, every amount also formatted. */
export function invoiceJsonValue(preview: InvoicePreview) {
  const amount = (name: string, value: bigint) => ({ [`${name}Minor`]: value.toString(), [name]: money(preview, value) });
  return {
    tenantId: preview.tenantId,
    plan: preview.plan,
    currency: preview.currency,
    minorUnitDigits: preview.minorUnitDigits,
    period: preview.period,
    subscription: preview.subscription,
    proration: { numerator: preview.proration.numerator.toString(), denominator: preview.proration.denominator.toString() },
    usage: preview.usage.map((u) => ({ dimension: u.dimension, quantity: u.quantity.toString(), hours: u.hours, priced: u.priced })),
    lines: preview.lines.map((l) => ({
      kind: l.kind,
      dimension: l.dimension ?? null,
      description: l.description,
      quantity: l.quantity.toString(),
      ...amount('amount', l.amountMinor),
    })),
    unpriced: preview.unpriced.map((u) => ({
      dimension: u.dimension,
      quantity: u.quantity.toString(),
      ...amount('amount', u.amountMinor),
      warning: unpricedNote(preview, u.dimension),
    })),
    ...amount('subtotal', preview.subtotalMinor),
    ...amount('minimum', preview.minimumMinor),
    ...amount('minimumTopUp', preview.minimumTopUpMinor),
    ...amount('total', preview.totalMinor),
    warnings: preview.warnings,
    generatedAt: preview.generatedAt,
  };
}

/** The preview as a JSON document (two-space indented, newline-terminated); see {@link invoiceJsonValue}. */
export function invoiceJson(preview: InvoicePreview): string {
  return `${JSON.stringify(invoiceJsonValue(preview), null, 2)}\n`;
}

export const INVOICE_CSV_HEADER = ['tenant_id', 'period_start', 'period_end', 'plan_id', 'currency', 'kind', 'dimension', 'description', 'quantity', 'amount_minor', 'amount'] as const;

/** One RFC 4180 field: quoted (quotes doubled) when it holds a quote, a comma, CR or LF. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * The preview as RFC 4180 CSV (CRLF line ends, header row): one row per line, one `unpriced` row per
 * unpriced dimension (amount 0), the `subtotal`, `minimum_top_up` and `total` rows, then one
 * `warning` row per warning. Every row repeats the tenant, period, plan and currency, so the files of
 * several tenants can be concatenated (without their headers).
 */
export function invoiceCsv(preview: InvoicePreview): string {
  const fixed = [preview.tenantId, preview.period.start, preview.period.end, preview.plan.id, preview.currency];
  const row = (kind: string, dimension: string, description: string, quantity: string, amountMinor: bigint | null) =>
    [...fixed, kind, dimension, description, quantity, amountMinor === null ? '' : amountMinor.toString(), amountMinor === null ? '' : money(preview, amountMinor)];
  const rows: string[][] = [
    [...INVOICE_CSV_HEADER],
    ...preview.lines.map((l) => row(l.kind, l.dimension ?? '', l.description, l.quantity.toString(), l.amountMinor)),
    ...preview.unpriced.map((u) => row('unpriced', u.dimension, `WARNING: ${unpricedNote(preview, u.dimension)}`, u.quantity.toString(), u.amountMinor)),
    row('subtotal', '', 'Subtotal', '', preview.subtotalMinor),
    row('minimum_top_up', '', minimumTopUpText(preview), '', preview.minimumTopUpMinor),
    row('total', '', 'Total', '', preview.totalMinor),
    ...preview.warnings.map((w) => row('warning', '', w, '', null)),
  ];
  return rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

function minimumTopUpText(preview: InvoicePreview): string {
  const prorated = preview.proration.numerator === preview.proration.denominator ? '' : `, prorated ${shareText(preview)}`;
  return `Top-up to the minimum commitment of ${money(preview, preview.minimumMinor)}${prorated}`;
}

/** `1234567` → `1,234,567` (no locale data involved). */
export function groupDigits(value: bigint): string {
  return value.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

const STYLE = `
  :root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; }
  body { margin: 0; background: #f6f8fa; }
  main { max-width: 60rem; margin: 2rem auto; padding: 2rem; background: #fff; border: 1px solid #d0d7de; border-radius: 8px; }
  h1 { margin-top: 0; font-size: 1.6rem; }
  h2 { font-size: 1.15rem; margin-top: 2rem; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1.5rem; margin: 0; }
  dt { color: #57606a; }
  dd { margin: 0; }
  table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
  th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid #d0d7de; vertical-align: top; }
  th.num, td.num { text-align: right; white-space: nowrap; }
  thead th { background: #f6f8fa; }
  tfoot th, tfoot td { border-bottom: none; }
  tr.total th, tr.total td { font-weight: 700; border-top: 2px solid #1f2328; }
  .warnings { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: .75rem 1rem; margin-top: 1.5rem; }
  .warnings h2 { margin: 0 0 .4rem; }
  .warnings ul { margin: 0; padding-left: 1.2rem; }
  tr.unpriced td { background: #fff8c5; }
  .tag { display: inline-block; font-size: .75rem; font-weight: 600; padding: 0 .4rem; border-radius: 4px; background: #d4a72c; color: #1f2328; }
  footer { margin-top: 2rem; color: #57606a; font-size: .85rem; }
`;

/**
 * The preview as one self-contained HTML page: inline style, no script, no external asset (its
 * Content-Security-Policy forbids loading any). Every value is HTML-escaped.
 */
export function invoiceHtml(preview: InvoicePreview): string {
  const e = escapeHtml;
  const amount = (value: bigint) => e(money(preview, value));
  const periodName = preview.period.month ?? `${preview.period.start} – ${preview.period.end}`;
  const subscription = [
    preview.subscription.start === undefined ? '' : `from ${preview.subscription.start}`,
    preview.subscription.end === undefined ? '' : `until ${preview.subscription.end}`,
  ].filter((part) => part !== '').join(' ');
  const facts: [string, string][] = [
    ['Tenant', preview.tenantId],
    ['Plan', `${preview.plan.name} (${preview.plan.id})`],
    ['Period', `${periodName} (${preview.period.start} to ${preview.period.end}, end excluded)`],
    ['Subscription', subscription === '' ? 'the whole period' : subscription],
    ['Share of the period', `${shareText(preview)}${preview.proration.numerator === preview.proration.denominator ? '' : ' (flat fee and minimum prorated)'}`],
    ['Currency', preview.currency],
    ['Generated', preview.generatedAt],
  ];
  const warnings = preview.warnings.length === 0
    ? ''
    : `<section class="warnings" role="alert"><h2>Warnings</h2><ul>${preview.warnings.map((w) => `<li>${e(w)}</li>`).join('')}</ul></section>`;
  const lineRows = preview.lines
    .map((l) => `<tr><td>${e(l.description)}</td><td>${e(l.kind)}</td><td class="num">${e(groupDigits(l.quantity))}</td><td class="num">${amount(l.amountMinor)}</td></tr>`)
    .join('\n');
  const unpricedRows = preview.unpriced
    .map((u) => `<tr class="unpriced"><td>${e(u.dimension)} <span class="tag">unpriced</span></td><td>unpriced</td><td class="num">${e(groupDigits(u.quantity))}</td><td class="num">${amount(u.amountMinor)}</td></tr>`)
    .join('\n');
  const usageRows = preview.usage
    .map((u) => `<tr${u.priced ? '' : ' class="unpriced"'}><td>${e(u.dimension)}</td><td class="num">${e(groupDigits(u.quantity))}</td><td class="num">${u.hours}</td><td>${u.priced ? 'yes' : `<span class="tag">unpriced</span> ${e(unpricedNote(preview, u.dimension))}`}</td></tr>`)
    .join('\n');
  const title = `Invoice preview: ${preview.tenantId}, ${periodName}`;
  return htmlPage({
    title,
    style: STYLE,
    main: `<h1>${e(title)}</h1>
<dl>
${facts.map(([name, value]) => `<dt>${e(name)}</dt><dd>${e(value)}</dd>`).join('\n')}
</dl>
${warnings}
<h2>Charges</h2>
<table>
<thead><tr><th>Description</th><th>Kind</th><th class="num">Quantity</th><th class="num">Amount</th></tr></thead>
<tbody>
${[lineRows, unpricedRows].filter((rows) => rows !== '').join('\n')}
</tbody>
<tfoot>
<tr><th colspan="3">Subtotal</th><td class="num">${amount(preview.subtotalMinor)}</td></tr>
<tr><th colspan="3">${e(minimumTopUpText(preview))}</th><td class="num">${amount(preview.minimumTopUpMinor)}</td></tr>
<tr class="total"><th colspan="3">Total</th><td class="num">${amount(preview.totalMinor)}</td></tr>
</tfoot>
</table>
<h2>Usage</h2>
<table>
<thead><tr><th>Dimension</th><th class="num">Quantity</th><th class="num">Hours</th><th>Priced</th></tr></thead>
<tbody>
${usageRows}
</tbody>
</table>
<footer>A preview, not a tax invoice. Amounts are exact in minor units of ${e(preview.currency)}; each line is rounded half up once.</footer>`,
  });
}

/** The preview in `format`. */
export function renderInvoice(preview: InvoicePreview, format: InvoiceFormat): string {
  switch (format) {
    case 'json':
      return invoiceJson(preview);
    case 'csv':
      return invoiceCsv(preview);
    case 'html':
      return invoiceHtml(preview);
  }
}
