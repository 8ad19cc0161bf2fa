import { csvField } from '../pricing/invoice-render';
import { formatDecimal } from './decimal-amount';
import type { MarginFigures, TenantMarginReport } from './tenant-margin';

/**
 * The three forms of a tenant margin report: a fixed-width text table (for a terminal), RFC 4180 CSV
 * (for spreadsheets) and JSON (for programs, every bigint as a decimal string). All are pure functions
 * of the report. Amounts appear as exact minor units and as decimal amounts of the report's currency
 * (`12.34`); a margin percentage that does not exist (revenue 0) is `n/a` in the table, empty in CSV
 * and null in JSON.
 */

/** An output format of the margin report. */
export type MarginFormat = 'text' | 'csv' | 'json';
export const MARGIN_FORMATS: readonly MarginFormat[] = ['text', 'csv', 'json'];

/** Minor units as a decimal amount without currency: `1234n` → `12.34` (USD), `-5n` → `-0.05`. */
const amountText = (report: TenantMarginReport, minor: bigint) => formatDecimal(minor, report.minorUnitDigits);

/** The report as plain JSON values: every bigint as a decimal string, every amount also as a decimal amount. */
export function marginJsonValue(report: TenantMarginReport) {
  const amount = (name: string, minor: bigint) => ({ [`${name}Minor`]: minor.toString(), [name]: amountText(report, minor) });
  const figures = (f: MarginFigures) => ({ ...amount('revenue', f.revenueMinor), ...amount('cost', f.costMinor), ...amount('margin', f.marginMinor), marginPercent: f.marginPercent });
  return {
    currency: report.currency,
    minorUnitDigits: report.minorUnitDigits,
    rows: report.rows.map((r) => ({ tenantId: r.tenantId, ...figures(r) })),
    unallocated: amount('cost', report.unallocatedCostMinor),
    totals: figures(report.totals),
  };
}

/** The report as a JSON document (two-space indented, newline-terminated); see {@link marginJsonValue}. */
export function marginJson(report: TenantMarginReport): string {
  return `${JSON.stringify(marginJsonValue(report), null, 2)}\n`;
}

export const MARGIN_CSV_HEADER = ['row', 'tenant_id', 'currency', 'revenue_minor', 'cost_minor', 'margin_minor', 'margin_percent', 'revenue', 'cost', 'margin'] as const;

/**
 * The report as RFC 4180 CSV (CRLF line ends, header row): one `tenant` row per tenant, one
 * `unallocated` row (cost only) and the `total` row. Fields holding a quote, comma, CR or LF are quoted.
 */
export function marginCsv(report: TenantMarginReport): string {
  const row = (kind: string, tenantId: string, f: Partial<MarginFigures>) => [
    kind,
    tenantId,
    report.currency,
    f.revenueMinor?.toString() ?? '',
    f.costMinor?.toString() ?? '',
    f.marginMinor?.toString() ?? '',
    f.marginPercent ?? '',
    f.revenueMinor === undefined ? '' : amountText(report, f.revenueMinor),
    f.costMinor === undefined ? '' : amountText(report, f.costMinor),
    f.marginMinor === undefined ? '' : amountText(report, f.marginMinor),
  ];
  const rows = [
    [...MARGIN_CSV_HEADER],
    ...report.rows.map((r) => row('tenant', r.tenantId, r)),
    row('unallocated', '', { costMinor: report.unallocatedCostMinor }),
    row('total', '', report.totals),
  ];
  return rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/**
 * The report as a fixed-width text table: tenant column left-aligned, figures right-aligned, a rule
 * above the total. Control characters in tenant ids are shown as `\uXXXX` so that no id can break a row.
 */
export function marginTable(report: TenantMarginReport): string {
  const figures = (f: Partial<MarginFigures>) => [
    f.revenueMinor === undefined ? '' : amountText(report, f.revenueMinor),
    f.costMinor === undefined ? '' : amountText(report, f.costMinor),
    f.marginMinor === undefined ? '' : amountText(report, f.marginMinor),
    f.revenueMinor === undefined ? '' : (f.marginPercent ?? 'n/a'),
  ];
  const header = ['Tenant', `Revenue ${report.currency}`, `Cost ${report.currency}`, `Margin ${report.currency}`, 'Margin %'];
  const body = [
    ...report.rows.map((r) => [printable(r.tenantId), ...figures(r)]),
    ['(unallocated)', ...figures({ costMinor: report.unallocatedCostMinor })],
  ];
  const total = ['Total', ...figures(report.totals)];
  const widths = header.map((_, column) => Math.max(...[header, ...body, total].map((cells) => cells[column].length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ').trimEnd();
  const rule = '-'.repeat(widths.reduce((sum, w) => sum + w, 0) + 2 * (widths.length - 1));
  return [line(header), rule, ...body.map(line), rule, line(total)].join('\n') + '\n';
}

/** The report in `format`. */
export function renderMargins(report: TenantMarginReport, format: MarginFormat): string {
  switch (format) {
    case 'text':
      return marginTable(report);
    case 'csv':
      return marginCsv(report);
    case 'json':
      return marginJson(report);
  }
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
