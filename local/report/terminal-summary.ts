/**
 * The run report in a few lines for the terminal `npm start` runs in: the verdict first (what a
 * newcomer looks for), then one row per tenant (requests, Marketplace billing, invoice total, cost,
 * margin) and the steps' timings. The full figures are in `report.html` and `report.json`.
 *
 * ANSI colours only when asked (a TTY without NO_COLOR, the caller decides). Text from the report
 * (tenant ids, problems, step names) is stripped of control and bidirectional-override characters, so
 * a hostile name cannot move the cursor, recolour the terminal or reorder what is shown.
 */
import { groupDigits } from '../../core/pricing/invoice-render';
import { formatMinor } from '../../core/pricing/money';
import { shortTime, type RunReport } from './run-report';

/** Options of {@link terminalSummary}. */
export interface TerminalSummaryOptions {
  /** Whether to colour with ANSI escape sequences. */
  readonly color: boolean;
  /** Problems listed before "… and N more". @default 10 */
  readonly maxProblems?: number;
}

const ANSI = { bold: '1', dim: '2', red: '31', green: '32', yellow: '33' } as const;
type Style = keyof typeof ANSI;

/** Removes what a terminal would interpret rather than show: C0/C1 controls, DEL, bidi overrides; tabs and line breaks become spaces. */
export function terminalSafe(text: string): string {
  return text
    .replace(/[\t\n\r]/g, ' ')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g, '');
}

const width = (text: string) => [...text].length;

interface Cell {
  readonly text: string;
  readonly style?: Style;
}

/** A table with a header, left-aligned first column, right-aligned others, two spaces between. */
function renderTable(head: readonly string[], rows: readonly (readonly Cell[])[], paint: (text: string, style?: Style) => string): string[] {
  const widths = head.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i].text))));
  const align = (text: string, i: number) => {
    const pad = ' '.repeat(widths[i] - width(text));
    return i === 0 ? text + pad : pad + text;
  };
  const line = (cells: readonly Cell[]) => cells.map((c, i) => paint(align(c.text, i), c.style)).join('  ').trimEnd();
  return [line(head.map((text) => ({ text, style: 'dim' as const }))), ...rows.map(line)];
}

function duration(millis: number): string {
  return millis < 10_000 ? `${groupDigits(BigInt(Math.round(millis)))} ms` : `${(millis / 1000).toFixed(1)} s`;
}

/**
 * The summary as text (lines joined with `\n`, newline-terminated). Per tenant: requests sent; billed
 * as `k/n exact` over the tenant's dimensions billed through Marketplace (`—` when none); the
 * invoice total; allocated cost and margin (with its percentage) when cost allocation ran.
 */
export function terminalSummary(report: RunReport, options: TerminalSummaryOptions): string {
  // Colour wraps the text, not the padding around it, so lines end the same with and without colour.
  const paint = (text: string, style?: Style) => {
    if (!options.color || style === undefined) return text;
    const [, lead, core, trail] = /^(\s*)(.*?)(\s*)$/su.exec(text) ?? ['', '', text, ''];
    return core === '' ? text : `${lead}\u001b[${ANSI[style]}m${core}\u001b[0m${trail}`;
  };
  const safe = terminalSafe;
  const maxProblems = options.maxProblems ?? 10;
  const { verdict, options: run } = report;
  const lines: string[] = [];

  const facts = `${run.tenants} tenant${run.tenants === 1 ? '' : 's'} · ${run.hours} hour${run.hours === 1 ? '' : 's'} · ${groupDigits(BigInt(report.traffic.requests))} requests · seed ${run.seed} · ${duration(report.durationMs)}`;
  if (verdict.exact) {
    lines.push(`${paint('✔ EXACT', 'green')}  ${facts}`);
  } else {
    lines.push(`${paint('✘ NOT EXACT', 'red')}  ${verdict.problems.length} problem${verdict.problems.length === 1 ? '' : 's'} · ${facts}`);
    for (const problem of verdict.problems.slice(0, maxProblems)) lines.push(`  ${paint('-', 'red')} ${safe(problem)}`);
    if (verdict.problems.length > maxProblems) lines.push(`  … and ${verdict.problems.length - maxProblems} more (see the report)`);
  }
  lines.push(`Hours ${safe(shortTime(report.period.start))} to ${safe(shortTime(report.period.end))} (end excluded)`);
  lines.push('');

  const invoices = new Map(report.invoices.map((i) => [i.tenantId, i]));
  const costs = new Map((report.costs?.rows ?? []).map((r) => [r.tenantId, r]));
  const cost = (minor: string) => (report.costs === undefined ? '—' : formatMinor(BigInt(minor), report.costs.minorUnitDigits, report.costs.currency));
  const rows = report.tenants.map((tenant): Cell[] => {
    const billedRows = report.reconciliation.filter((r) => r.tenantId === tenant.tenantId && r.billed !== null);
    const billedExact = billedRows.filter((r) => r.exact).length;
    const billed: Cell = billedRows.length === 0
      ? { text: '—' }
      : { text: `${billedExact}/${billedRows.length} exact`, style: billedExact === billedRows.length ? 'green' : 'red' };
    const invoice = invoices.get(tenant.tenantId);
    const row = costs.get(tenant.tenantId);
    const negative = row !== undefined && BigInt(row.marginMinor) < 0n;
    return [
      { text: safe(tenant.tenantId) },
      { text: groupDigits(BigInt(tenant.requests)) },
      billed,
      { text: invoice === undefined ? '—' : formatMinor(BigInt(invoice.totalMinor), invoice.minorUnitDigits, invoice.currency) },
      { text: row === undefined ? '—' : cost(row.costMinor) },
      {
        text: row === undefined ? '—' : `${cost(row.marginMinor)}${row.marginPercent === null ? '' : ` (${row.marginPercent} %)`}`,
        style: negative ? 'red' : undefined,
      },
    ];
  });
  lines.push(...renderTable(['Tenant', 'Requests', 'Billed', 'Invoice total', 'Cost', 'Margin'], rows, paint));
  if (report.costs === undefined) lines.push(paint('Cost allocation not run.', 'yellow'));
  else lines.push(`Unallocated cost ${cost(report.costs.unallocatedMinor)} · total cost ${cost(report.costs.totalCostMinor)}`);
  lines.push('');

  lines.push(paint('Steps', 'bold'));
  const stepRows = report.steps.map((s): Cell[] => [{ text: `  ${safe(s.name)}` }, { text: duration(s.millis) }, { text: safe(s.detail ?? '') }]);
  const stepWidths = [0, 1].map((i) => Math.max(0, ...stepRows.map((r) => width(r[i].text))));
  for (const [stepName, millis, detail] of stepRows) {
    lines.push(`${stepName.text}${' '.repeat(stepWidths[0] - width(stepName.text))}  ${' '.repeat(stepWidths[1] - width(millis.text))}${millis.text}  ${paint(detail.text, 'dim')}`.trimEnd());
  }
  return `${lines.join('\n')}\n`;
}
