/**
 * The terminal summary: the verdict first, one aligned row per tenant with figures from the model,
 * step timings, colours only when asked, and nothing a hostile name could make the terminal do
 * (property over any report, numRuns 200).
 */
import fc from 'fast-check';
import { groupDigits } from '../../../core/pricing/invoice-render';
import { formatMinor } from '../../../core/pricing/money';
import type { RunReport } from '../../../local/report/run-report';
import { terminalSafe, terminalSummary } from '../../../local/report/terminal-summary';
import { buildRunReportFixture, runReportArbitrary } from '../../fixtures/run-report';

// eslint-disable-next-line no-control-regex
const SGR = /\u001b\[[0-9;]*m/g;
const plainOf = (text: string) => text.replace(SGR, '');

/** The tenant table's rows: from the header line to the line after the last tenant. */
function tenantTable(text: string, report: RunReport): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith('Tenant'));
  return lines.slice(start, start + 1 + report.tenants.length);
}

describe('the fixture report', () => {
  const report = buildRunReportFixture();
  const text = terminalSummary(report, { color: false });

  it('starts with the verdict and the run in numbers', () => {
    const first = text.split('\n')[0];
    expect(first).toBe(`✔ EXACT  3 tenants · 3 hours · ${groupDigits(BigInt(report.traffic.requests))} requests · seed 7 · ${groupDigits(BigInt(report.durationMs))} ms`);
  });

  it('has one row per tenant with requests, billing, invoice total, cost and margin from the model', () => {
    const rows = tenantTable(text, report);
    expect(rows[0].split(/\s{2,}/)).toEqual(['Tenant', 'Requests', 'Billed', 'Invoice total', 'Cost', 'Margin']);
    report.tenants.forEach((tenant, i) => {
      const invoice = report.invoices.find((x) => x.tenantId === tenant.tenantId);
      const cost = report.costs?.rows.find((x) => x.tenantId === tenant.tenantId);
      const billed = report.reconciliation.filter((r) => r.tenantId === tenant.tenantId && r.billed !== null);
      const money = (minor: string) => formatMinor(BigInt(minor), 2, 'USD');
      expect(rows[i + 1].trim().split(/\s{2,}/)).toEqual([
        tenant.tenantId,
        groupDigits(BigInt(tenant.requests)),
        billed.length === 0 ? '—' : `${billed.filter((r) => r.exact).length}/${billed.length} exact`,
        formatMinor(BigInt(invoice?.totalMinor ?? ''), invoice?.minorUnitDigits ?? 0, invoice?.currency ?? ''),
        money(cost?.costMinor ?? ''),
        `${money(cost?.marginMinor ?? '')} (${cost?.marginPercent} %)`,
      ]);
    });
  });

  it('aligns the columns: text on the left, figures on the right', () => {
    const rows = tenantTable(text, report);
    const rightEdge = (line: string, value: string) => line.indexOf(value) + value.length;
    const header = rows[0];
    report.tenants.forEach((tenant, i) => {
      expect(rows[i + 1].indexOf(tenant.tenantId)).toBe(0);
      expect(rightEdge(rows[i + 1], groupDigits(BigInt(tenant.requests)))).toBe(rightEdge(header, 'Requests'));
    });
    expect(new Set(rows.map((r) => r.length)).size).toBe(1);
  });

  it('ends with the steps and their timings', () => {
    const lines = text.trimEnd().split('\n');
    const at = lines.indexOf('Steps');
    expect(lines.slice(at + 1).map((l) => l.trim().split(/\s{2,}/)[0])).toEqual(report.steps.map((s) => s.name));
    expect(lines.find((l) => l.includes('send traffic'))).toMatch(/send traffic\s+3,870 ms {2}\d+ requests, 3 tenants$/);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('colours only when asked, and the colours hide nothing', () => {
    expect(text).not.toMatch(SGR);
    const coloured = terminalSummary(report, { color: true });
    expect(coloured.startsWith('\u001b[32m✔ EXACT\u001b[0m')).toBe(true);
    expect(plainOf(coloured)).toBe(text);
  });
});

describe('variants', () => {
  it('leads with NOT EXACT and the problems, and marks the tenant whose billing differs', () => {
    const report = buildRunReportFixture({ problem: true, costs: false });
    const text = terminalSummary(report, { color: false });
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^✘ NOT EXACT {2}1 problem · 3 tenants/);
    expect(lines[1]).toBe(`  - ${report.verdict.problems[0]}`);
    const wrong = report.reconciliation.find((r) => !r.exact);
    const row = tenantTable(text, report).find((l) => l.startsWith(wrong?.tenantId ?? '?'));
    expect(row).toMatch(/1\/2 exact/);
    expect(text).toContain('Cost allocation not run.');
    expect(terminalSummary(report, { color: true })).toContain('\u001b[31m1/2 exact\u001b[0m');
  });

  it('lists at most maxProblems problems, then how many more', () => {
    const base = buildRunReportFixture();
    const problems = Array.from({ length: 14 }, (_, i) => `problem ${i}`);
    const text = terminalSummary({ ...base, verdict: { exact: false, problems } }, { color: false, maxProblems: 10 });
    expect(text).toContain('  - problem 9\n  … and 4 more (see the report)\n');
    expect(text).not.toContain('problem 10');
  });
});

describe('hostile text', () => {
  it('cannot move the cursor, recolour or reorder the terminal', () => {
    const report = buildRunReportFixture({ tenantIds: ['evil\u001b[2J\u001b[31m', 'line\nbreak\rreturn', 'bidi\u202eyxa'] });
    const withProblem = { ...report, verdict: { exact: false, problems: ['\u001b]0;title\u0007 \u009b31m'] }, steps: [{ name: 'step\u0008\u0008', millis: 1 }] };
    for (const color of [false, true]) {
      const text = terminalSummary(withProblem, { color });
      // Only SGR colour sequences remain, and only when colour is on.
      // eslint-disable-next-line no-control-regex
      expect(plainOf(text)).not.toMatch(/[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/);
      if (!color) expect(text).not.toContain('\u001b');
      expect(plainOf(text)).toContain('evil[2J[31m');
      expect(plainOf(text)).toContain('line break return');
    }
    expect(terminalSafe('a\tb\u0007c\u202ed')).toBe('a bcd');
  });

  it('for any report: one line per tenant, safe characters only, the same text without colours (numRuns 200)', () => {
    fc.assert(
      fc.property(runReportArbitrary(), fc.boolean(), (report, color) => {
        const text = terminalSummary(report, { color });
        const plain = plainOf(text);
        // eslint-disable-next-line no-control-regex
        expect(plain).not.toMatch(/[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/);
        expect(plain).toBe(terminalSummary(report, { color: false }));
        expect(plain.startsWith(report.verdict.exact ? '✔ EXACT' : '✘ NOT EXACT')).toBe(true);
        expect(tenantTable(plain, report)).toHaveLength(report.tenants.length + 1);
      }),
      { numRuns: 200 },
    );
  });
});
