/**
 * `report.json`: the report survives a write and a read unchanged (fixture and any report, numRuns
 * 200), is written whole, and a malformed or incoherent report is refused with every problem named.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { parseRunReport, readRunReport, reportJson, runReportProblems, writeRunReport } from '../../../local/report/report-json';
import { RunReportError, type RunReport } from '../../../local/report/run-report';
import { buildRunReportFixture, runReportArbitrary } from '../../fixtures/run-report';

/** The report as JSON values (what a write then a read can give back at best). */
const plain = (report: RunReport) => JSON.parse(JSON.stringify(report)) as unknown;

let folder = '';
beforeAll(() => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'run-report-'));
});
afterAll(() => {
  fs.rmSync(folder, { recursive: true, force: true });
});

describe('round trip', () => {
  it('writes the fixture whole and reads it back unchanged', () => {
    for (const report of [buildRunReportFixture(), buildRunReportFixture({ costs: false, problem: true })]) {
      const file = path.join(folder, 'report.json');
      writeRunReport(file, report);
      expect(fs.readFileSync(file, 'utf8')).toBe(reportJson(report));
      expect(readRunReport(file)).toEqual(plain(report));
      expect(fs.readdirSync(folder)).toEqual(['report.json']);
    }
  });

  it('keeps figures beyond 2^53 exact', () => {
    const report = buildRunReportFixture();
    const big = (2n ** 64n + 1n).toString();
    const usageByHour = report.usageByHour.map((u, i) => (i === 0 ? { ...u, quantity: big } : u));
    const first = usageByHour[0];
    const reconciliation = report.reconciliation.map((r) => (r.tenantId === first.tenantId && r.dimension === first.dimension
      ? { ...r, trueQuantity: big, aggregated: big, billed: r.billed === null ? null : big, billedAmount: null, exact: true }
      : r));
    const parsed = parseRunReport(JSON.parse(reportJson({ ...report, usageByHour, reconciliation })));
    expect(parsed.usageByHour[0].quantity).toBe('18446744073709551617');
  });

  it('reads back any report unchanged (numRuns 200)', () => {
    fc.assert(
      fc.property(runReportArbitrary(), (report) => {
        expect(parseRunReport(JSON.parse(reportJson(report)))).toEqual(plain(report));
      }),
      { numRuns: 200 },
    );
  });
});

describe('refusals', () => {
  const good = () => plain(buildRunReportFixture()) as Record<string, any>;
  const problemsOf = (value: unknown): readonly string[] => {
    try {
      parseRunReport(value, 'test');
    } catch (error) {
      expect(error).toBeInstanceOf(RunReportError);
      return (error as RunReportError).problems;
    }
    throw new Error('accepted');
  };

  it.each<[string, (r: Record<string, any>) => void, RegExp]>([
    ['another version', (r) => { r.version = 2; }, /^version: must be 1/],
    ['a fractional quantity', (r) => { r.usageByHour[0].quantity = '1.5'; }, /^usageByHour\.0\.quantity: must be a non-negative decimal integer/],
    ['a negative quantity', (r) => { r.reconciliation[0].aggregated = '-1'; }, /^reconciliation\.0\.aggregated: must be a non-negative decimal integer/],
    ['a quantity as a number', (r) => { r.usageByHour[0].quantity = 12; }, /^usageByHour\.0\.quantity:/],
    ['an hour not on the hour', (r) => { r.usageByHour[0].hour = '2026-11-03T10:30:00.000Z'; }, /^usageByHour\.0\.hour: must be the start of an hour/],
    ['an impossible hour', (r) => { r.usageByHour[0].hour = '2026-02-30T10:00:00.000Z'; }, /^usageByHour\.0\.hour: must be a real hour/],
    ['an unknown field', (r) => { r.extra = 1; }, /^\(root\): Unrecognized key/],
    ['a money amount with a decimal point', (r) => { r.invoices[0].totalMinor = '41.47'; }, /^invoices\.0\.totalMinor: must be a decimal integer/],
    ['a figure of an unknown tenant', (r) => { r.usageByHour[0].tenantId = 'nobody'; }, /^usageByHour\.0\.tenantId: nobody is not one of the report's tenants/],
    ['a usage hour listed twice', (r) => { r.usageByHour.push({ ...r.usageByHour[0] }); }, /is listed twice/],
    ['a tenant listed twice', (r) => { r.tenants.push({ ...r.tenants[0] }); }, /^tenants\.3: tenant acme is listed twice/],
    ['an invoice whose lines do not add up', (r) => { r.invoices[0].lines[0].amountMinor = '1'; }, /^invoices\.0\.subtotalMinor: .* but the lines add up to/],
    ['an invoice whose total is not subtotal + top-up', (r) => { r.invoices[0].totalMinor = '1'; }, /^invoices\.0\.totalMinor: 1, but subtotal \+ top-up is/],
    ['a margin that is not revenue − cost', (r) => { r.costs.rows[0].marginMinor = '0'; }, /^costs\.rows\.0\.marginMinor: 0, but revenue − cost is/],
    ['a total cost that is not rows + unallocated', (r) => { r.costs.unallocatedMinor = '0'; }, /^costs\.totalCostMinor: .* add up to/],
    ['a percentage without revenue', (r) => { r.costs.rows[0].revenueMinor = '0'; r.costs.rows[0].marginMinor = `-${r.costs.rows[0].costMinor}`; }, /^costs\.rows\.0\.marginPercent: must be null exactly when there is no revenue/],
    ['a row marked exact whose figures differ', (r) => { r.reconciliation[0].billed = '1'; }, /^reconciliation\.0: acme api_requests is marked exact, but its figures differ/],
    ['an exact verdict with problems', (r) => { r.verdict.problems = ['lost'] ; }, /^verdict: exact, yet it lists problems/],
    ['a verdict not exact without problems', (r) => { r.verdict.exact = false; }, /^verdict: not exact, yet it lists no problem/],
    ['an exact verdict over an inexact row', (r) => { r.reconciliation[0].exact = false; }, /^verdict: exact, yet a reconciliation row is not/],
    ['a status that is not an HTTP status', (r) => { r.traffic.byStatus.abc = 1; }, /^traffic\.byStatus\.abc: must be an HTTP status code/],
    ['a negative count', (r) => { r.traffic.lateRecords = -1; }, /^traffic\.lateRecords:/],
  ])('refuses %s, naming it', (_, spoil, message) => {
    const report = good();
    spoil(report);
    expect(problemsOf(report)).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
  });

  it('names every problem at once', () => {
    const report = good();
    report.invoices[0].totalMinor = '1';
    report.costs.rows[0].marginMinor = '0';
    report.usageByHour[0].tenantId = 'nobody';
    expect(problemsOf(report)).toHaveLength(3);
    expect(runReportProblems(report as RunReport)).toHaveLength(3);
  });

  it('says which file could not be read, or was not JSON', () => {
    expect(() => readRunReport(path.join(folder, 'missing.json'))).toThrow(/missing\.json.*\n.*cannot be read: ENOENT/);
    const bad = path.join(folder, 'bad.json');
    fs.writeFileSync(bad, '{"version": 1,');
    expect(() => readRunReport(bad)).toThrow(/bad\.json.*\n.*is not valid JSON/);
  });

  it('refuses to write an incoherent report and leaves no file behind', () => {
    const report = good();
    report.invoices[0].totalMinor = '1';
    const file = path.join(folder, 'refused.json');
    expect(() => writeRunReport(file, report as RunReport)).toThrow(RunReportError);
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.readdirSync(folder).filter((f) => f.includes('refused'))).toEqual([]);
  });

  it('names the file it cannot write', () => {
    expect(() => writeRunReport(path.join(folder, 'no-such-folder', 'report.json'), buildRunReportFixture())).toThrow(/cannot write the run report .*no-such-folder.*ENOENT/);
  });
});
