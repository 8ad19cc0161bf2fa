/**
 * `npm run costs` as a user runs it: the CLI in a child process over a temporary Parquet lake read with
 * DuckDB, a cost file written here and a file of tenant metrics captured from `TenantMetrics`. The
 * figures are worked out by hand below (a proportional split, an even split, a silo line, unallocated
 * lines, the rounding difference), and the revenue is checked against what `npm run invoice` gives for
 * the same tenants. Also: the local cost file source, and the AWS sources with the SDK mocked (the
 * CUR table in its own database, the lake, Logs Insights over the log groups).
 */
import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand as AthenaResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { CloudWatchLogsClient, GetQueryResultsCommand as LogsResultsCommand, StartQueryCommand } from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDbLake } from '../../adapters/duckdb/duckdb-lake';
import { recordTenantInvocation, TenantMetrics } from '../../functions/commons/tenant-metrics';
import { CostFileSource } from '../../local/cost/cost-file-source';
import { PROJECT_ROOT } from '../../modules/project-paths';
import { openAthenaSources } from '../../scripts/costs/sources';
import { readCostLinesSql } from '../../sql/sql-files';
import { accessLogRow } from '../support/access-log-rows';
import { readCsv } from '../unit/pricing/read-csv';
import { runScript } from '../support/run-script';

const at = (day: number, hour: number, minute = 0, second = 0) => Date.UTC(2026, 10, day, hour, minute, second);
const NAMESPACE = 'SaaSMetering/Tenants';

const runCli = (args: readonly string[]) => runScript('scripts/costs.ts', args, { timeoutMs: 90_000 });

/**
 * metered (default): 10.00 USD a month, 0.10 per request, 0.07 per started 1000 response bytes.
 * bundle (globex): 50.00 USD a month, at least 200.00; requests ½¢ each; bytes not priced.
 */
const PRICING = {
  plans: [
    {
      id: 'metered',
      name: 'Metered',
      currency: 'USD',
      flatFeeMinor: 1000,
      charges: [
        { dimension: 'api_requests', kind: 'per_unit', price: { amountMinor: 10, per: 1 } },
        { dimension: 'response_bytes', kind: 'package', packageSize: 1000, priceMinor: 7 },
      ],
    },
    {
      id: 'bundle',
      name: 'Bundle',
      currency: 'USD',
      flatFeeMinor: 5000,
      minimumCommitmentMinor: 20000,
      charges: [{ dimension: 'api_requests', kind: 'per_unit', price: { amountMinor: 1, per: 2 } }],
    },
  ],
  defaultPlan: 'metered',
  tenantPlans: { globex: 'bundle' },
};

const ALLOCATION = {
  currency: 'USD',
  tenantTag: 'user_tenant_id',
  rules: [
    { service: 'AmazonApiGateway', split: 'proportional', stream: 'api_requests' },
    { service: 'AWSLambda', split: 'proportional', stream: 'lambda_duration_ms' },
    { service: 'AWSGlue', split: 'even' },
    { service: 'AmazonKinesisFirehose', split: 'proportional', stream: 'response_bytes' },
  ],
};

const costLine = (start: string, service: string, amount: string, tags?: Record<string, string>) => ({ start, service, amount, ...(tags === undefined ? {} : { tags }) });

/**
 * The cost of the period, by hand (cents):
 * - 11-01 AmazonApiGateway, pooled: 0.6 + 0.4149 = 1.0149 → 101, by requests acme 3 : globex 1 →
 *   75.75 / 25.25 → 75 / 25, the cent left to the larger remainder → acme 76, globex 25;
 * - 11-02 AWSLambda, pooled: 80 by function duration acme 150 ms : initech 50 ms → 60 / 20;
 * - 11-01 AWSGlue, even: 5 between acme, globex, initech → 1 each, the 2 left to the first ids → 2 / 2 / 1;
 * - 11-02 AmazonS3 tagged globex (silo): 0.4449 → 44;
 * - unallocated: 11-01 AmazonS3 tagged for an unknown tenant 10, 11-02 AWSSecretsManager (no rule) 30,
 *   11-03 AmazonKinesisFirehose (no response bytes that day) 20;
 * - 10-31 and 12-01: outside the period.
 * acme 138, globex 71, initech 21: allocated 230, unallocated 60, total 290; exact 2.9098 (−0.0098 by rounding).
 */
const COSTS = {
  currency: 'USD',
  lines: [
    costLine('2026-11-01T00:00:00Z', 'AmazonApiGateway', '0.6'),
    costLine('2026-11-01T00:00:00Z', 'AmazonApiGateway', '0.4149', { user_service: 'metered-api' }),
    costLine('2026-11-02T00:00:00Z', 'AWSLambda', '0.80'),
    costLine('2026-11-01T00:00:00Z', 'AWSGlue', '0.05'),
    costLine('2026-11-02T00:00:00Z', 'AmazonS3', '0.4449', { user_tenant_id: 'globex' }),
    costLine('2026-11-02T00:00:00Z', 'AWSSecretsManager', '0.30'),
    costLine('2026-11-01T00:00:00Z', 'AmazonS3', '0.10', { user_tenant_id: 'umbrella' }),
    costLine('2026-10-31T00:00:00Z', 'AmazonApiGateway', '5.00'),
    costLine('2026-12-01T00:00:00Z', 'AWSGlue', '7.00'),
    costLine('2026-11-03T00:00:00Z', 'AmazonKinesisFirehose', '0.20'),
  ],
};

let root: string;
let lakeDir: string;
let outDir: string;
let pricingFile: string;
let allocationFile: string;
let costsFile: string;
let metricsFile: string;

/** Tenant metrics as the functions write them, captured through `write`, one EMF object per line. */
function metricLines(): string[] {
  const lines: string[] = [];
  let now = 0;
  // Powertools warns that CloudWatch would skip metrics of a past month; the lines are what counts here.
  const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
  const metrics = new TenantMetrics({ serviceName: 'random-strings', namespace: NAMESPACE, write: (line) => lines.push(line), logger, now: () => now });
  const elsewhere = new TenantMetrics({ serviceName: 'other-product', namespace: 'OtherProduct/Tenants', write: (line) => lines.push(line), logger, now: () => now });
  const record = (target: TenantMetrics, time: number, tenant: string, durationMs: number) => {
    now = time;
    recordTenantInvocation(target, tenant, durationMs);
  };
  record(metrics, at(2, 10), 'acme', 120);
  record(metrics, at(2, 10, 20), 'acme', 30);
  record(metrics, at(2, 11), 'initech', 50);
  record(metrics, Date.UTC(2026, 11, 1, 0, 0, 30), 'acme', 999); // December
  record(elsewhere, at(1, 9), 'globex', 500); // another namespace
  lines.push('START RequestId: 6c3a Version: $LATEST'); // not EMF
  const bad = JSON.parse(lines[0]);
  bad.TenantDurationMs = -1;
  lines.push(JSON.stringify(bad)); // a tenant metric line that cannot be read
  return lines;
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'costs-cli-'));
  lakeDir = path.join(root, 'lake');
  outDir = path.join(root, 'out');
  fs.mkdirSync(outDir);
  pricingFile = path.join(root, 'pricing.json');
  fs.writeFileSync(pricingFile, JSON.stringify(PRICING));
  allocationFile = path.join(root, 'allocation.json');
  fs.writeFileSync(allocationFile, JSON.stringify(ALLOCATION));
  costsFile = path.join(root, 'costs.json');
  fs.writeFileSync(costsFile, JSON.stringify(COSTS));
  metricsFile = path.join(root, 'metrics.ndjson');
  fs.writeFileSync(metricsFile, metricLines().join('\n') + '\n\n');
  const lake = await DuckDbLake.open(lakeDir);
  try {
    await lake.appendAccessLogs([
      // acme on 11-01: 3 requests, 400 bytes.
      accessLogRow({ id: 'a1', tenant: 'acme', at: at(1, 10, 0, 1), bytes: 100 }),
      accessLogRow({ id: 'a1', tenant: 'acme', at: at(1, 10, 0, 1), bytes: 100 }), // delivered twice: counted once
      accessLogRow({ id: 'a2', tenant: 'acme', at: at(1, 10, 30), bytes: 250 }),
      accessLogRow({ id: 'a3', tenant: 'acme', at: at(1, 15), bytes: 50 }),
      // globex: 1 request on 11-01, 2 on 11-02; 1200 bytes.
      accessLogRow({ id: 'g1', tenant: 'globex', at: at(1, 3), bytes: 1000 }),
      accessLogRow({ id: 'g2', tenant: 'globex', at: at(2, 4), bytes: 100 }),
      accessLogRow({ id: 'g3', tenant: 'globex', at: at(2, 5), bytes: 100 }),
      accessLogRow({ id: 'anon', tenant: null, at: at(1, 5), status: 401 }), // nobody's
      accessLogRow({ id: 'oct', tenant: 'acme', at: Date.UTC(2026, 9, 31, 23, 59, 59), bytes: 7777 }), // October
      accessLogRow({ id: 'dec', tenant: 'hooli', at: Date.UTC(2026, 11, 1), bytes: 8888 }), // December
    ]);
  } finally {
    lake.close();
  }
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

const local = () => ['--lake', lakeDir, '--costs', costsFile, '--metrics', metricsFile, '--pricing', pricingFile, '--allocation', allocationFile];
const lines = (text: string) => text.split('\n').filter((line) => line !== '');
const cells = (line: string) => line.trim().split(/\s+/);

describe('npm run costs on DuckDB', () => {
  it('reports the month as JSON: revenue from the rating engine, cost allocated by the rules', async () => {
    const run = await runCli(['--period', '2026-11', '--format', 'json', ...local()]);
    expect(run).toMatchObject({ code: 0 });
    expect(JSON.parse(run.stdout)).toEqual({
      currency: 'USD',
      minorUnitDigits: 2,
      rows: [
        // 1000 + 3 requests × 10 + 1 package of bytes × 7 = 1037, against 76 + 60 + 2.
        { tenantId: 'acme', revenueMinor: '1037', revenue: '10.37', costMinor: '138', cost: '1.38', marginMinor: '899', margin: '8.99', marginPercent: '86.7' },
        // 5000 + 3 × ½ (rounded up) = 5002, topped up to 20000, against 25 + 2 + 44.
        { tenantId: 'globex', revenueMinor: '20000', revenue: '200.00', costMinor: '71', cost: '0.71', marginMinor: '19929', margin: '199.29', marginPercent: '99.6' },
        // No usage, consumption only (Lambda duration): the flat fee, against 20 + 1.
        { tenantId: 'initech', revenueMinor: '1000', revenue: '10.00', costMinor: '21', cost: '0.21', marginMinor: '979', margin: '9.79', marginPercent: '97.9' },
      ],
      unallocated: { costMinor: '60', cost: '0.60' },
      totals: { revenueMinor: '22037', revenue: '220.37', costMinor: '290', cost: '2.90', marginMinor: '21747', margin: '217.47', marginPercent: '98.7' },
    });
    const err = lines(run.stderr);
    expect(err).toContain(`costs: cost file ${costsFile}: 8 lines of the period, 2 of other days left out`);
    expect(err).toContain(`costs: tenant metrics ${metricsFile}: 3 of 7 lines counted, 1 of other days, 2 not tenant metrics of namespace ${NAMESPACE}, 1 malformed`);
    expect(err).toContain(`costs: warning: ${metricsFile} line 7 skipped: TenantDurationMs value is not a finite number ≥ 0: -1`);
    expect(err).toContain('costs: warning: unallocated 0.10 USD of AmazonS3 on 2026-11-01: tag user_tenant_id names unknown tenant "umbrella" (1 cost line)');
    expect(err).toContain('costs: warning: unallocated 0.30 USD of AWSSecretsManager on 2026-11-02: no rule for service AWSSecretsManager (1 cost line)');
    expect(err).toContain('costs: warning: unallocated 0.20 USD of AmazonKinesisFirehose on 2026-11-03: no response_bytes consumption on 2026-11-03 (1 cost line)');
    expect(err).toContain("costs: warning: rounding each day and service's cost to whole minor units changed the total by -0.0098 USD (exact 2.9098 USD, reported 2.90 USD)");
    expect(err).toContain('costs: warning: Usage of response_bytes (1200 units) is not priced by plan bundle: listed as unpriced and not charged. (tenant "globex")');
    expect(err).not.toContainEqual(expect.stringContaining('no tenant metrics'));
    expect(err).not.toContainEqual(expect.stringContaining('one billing period'));
    expect(err.at(-1)).toBe('costs: 2026-11: 3 tenants, revenue 220.37 USD, cost 2.90 USD (allocated 2.30 USD, unallocated 0.60 USD), margin 217.47 USD (98.7%)');
  });

  it('takes each tenant\'s revenue from the same invoice previews as npm run invoice', async () => {
    const [report, ...invoices] = await Promise.all([
      runCli(['--period', '2026-11', '--format', 'json', ...local()]),
      ...['acme', 'globex', 'initech'].map((tenant) => runScript('scripts/invoice.ts', ['--tenant', tenant, '--period', '2026-11', '--lake', lakeDir, '--pricing', pricingFile])),
    ]);
    expect([report.code, ...invoices.map((i) => i.code)]).toEqual([0, 0, 0, 0]);
    const revenue = JSON.parse(report.stdout).rows.map((row: { tenantId: string; revenueMinor: string }) => [row.tenantId, row.revenueMinor]);
    expect(revenue).toEqual(invoices.map((i) => [JSON.parse(i.stdout).tenantId, JSON.parse(i.stdout).totalMinor]));
  }, 90_000);

  it('writes CSV', async () => {
    const run = await runCli(['--period', '2026-11', '--format', 'csv', ...local()]);
    expect(run.code).toBe(0);
    expect(readCsv(run.stdout)).toEqual([
      ['row', 'tenant_id', 'currency', 'revenue_minor', 'cost_minor', 'margin_minor', 'margin_percent', 'revenue', 'cost', 'margin'],
      ['tenant', 'acme', 'USD', '1037', '138', '899', '86.7', '10.37', '1.38', '8.99'],
      ['tenant', 'globex', 'USD', '20000', '71', '19929', '99.6', '200.00', '0.71', '199.29'],
      ['tenant', 'initech', 'USD', '1000', '21', '979', '97.9', '10.00', '0.21', '9.79'],
      ['unallocated', '', 'USD', '', '60', '', '', '', '0.60', ''],
      ['total', '', 'USD', '22037', '290', '21747', '98.7', '220.37', '2.90', '217.47'],
    ]);
  });

  it('writes the text table to --out whole, in the format of its extension, leaving no temporary file', async () => {
    const out = path.join(outDir, 'margins.txt');
    fs.writeFileSync(out, 'old content that must go\n');
    const run = await runCli(['--period', '2026-11', '--out', out, ...local()]);
    expect(run).toMatchObject({ code: 0, stdout: '' });
    expect(run.stderr).toContain(`margin 217.47 USD (98.7%); text written to ${out}`);
    const table = lines(fs.readFileSync(out, 'utf8'));
    expect(table.map(cells)).toEqual([
      ['Tenant', 'Revenue', 'USD', 'Cost', 'USD', 'Margin', 'USD', 'Margin', '%'],
      [expect.stringMatching(/^-+$/)],
      ['acme', '10.37', '1.38', '8.99', '86.7'],
      ['globex', '200.00', '0.71', '199.29', '99.6'],
      ['initech', '10.00', '0.21', '9.79', '97.9'],
      ['(unallocated)', '0.60'],
      [expect.stringMatching(/^-+$/)],
      ['Total', '220.37', '2.90', '217.47', '98.7'],
    ]);
    expect(fs.readdirSync(outDir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    fs.rmSync(out);
  });

  it('reports a range of days, rating it as one billing period (the flat fee and the minimum whole)', async () => {
    const run = await runCli(['--from', '2026-11-01', '--to', '2026-11-01', '--format', 'json', ...local()]);
    expect(run.code).toBe(0);
    // 11-01 only: the tenants are acme and globex (initech's consumption is on 11-02). API Gateway as
    // for the month (76 / 25); Glue 5 evenly between two → 2.5 each, the odd cent to acme (3 / 2);
    // the unknown tenant's 10 unallocated. Revenue: acme 1000 + 30 + 7; globex 5000 + ½ → 5001, topped up to 20000.
    expect(JSON.parse(run.stdout)).toEqual({
      currency: 'USD',
      minorUnitDigits: 2,
      rows: [
        { tenantId: 'acme', revenueMinor: '1037', revenue: '10.37', costMinor: '79', cost: '0.79', marginMinor: '958', margin: '9.58', marginPercent: '92.4' },
        { tenantId: 'globex', revenueMinor: '20000', revenue: '200.00', costMinor: '27', cost: '0.27', marginMinor: '19973', margin: '199.73', marginPercent: '99.9' },
      ],
      unallocated: { costMinor: '10', cost: '0.10' },
      totals: { revenueMinor: '21037', revenue: '210.37', costMinor: '116', cost: '1.16', marginMinor: '20921', margin: '209.21', marginPercent: '99.4' },
    });
    expect(run.stderr).toContain(`costs: cost file ${costsFile}: 4 lines of the period, 6 of other days left out`);
    expect(run.stderr).toContain('costs: warning: revenue rates 2026-11-01..2026-11-01 (1 day) as one billing period: flat fees and minimum commitments are charged whole, free allowances and tiers start from zero');
    expect(run.stderr).toContain('costs: 2026-11-01..2026-11-01: 2 tenants, revenue 210.37 USD, cost 1.16 USD (allocated 1.06 USD, unallocated 0.10 USD), margin 209.21 USD (99.4%)');
  });

  it('says which rules have no consumption without tenant metrics', async () => {
    const run = await runCli(['--period', '2026-11', '--format', 'json', '--lake', lakeDir, '--costs', costsFile, '--pricing', pricingFile, '--allocation', allocationFile]);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    // Without the metrics initech is no tenant, and Lambda's 80 has no duration to split by.
    expect(report.rows.map((r: { tenantId: string; costMinor: string }) => [r.tenantId, r.costMinor])).toEqual([['acme', '79'], ['globex', '71']]);
    expect(report.unallocated).toEqual({ costMinor: '140', cost: '1.40' });
    expect(run.stderr).toContain('costs: warning: no tenant metrics (--metrics <file>): no consumption for the rules of AWSLambda (lambda_duration_ms)');
    expect(run.stderr).toContain('costs: warning: unallocated 0.80 USD of AWSLambda on 2026-11-02: no lambda_duration_ms consumption on 2026-11-02 (1 cost line)');
  });

  it('works with the shipped allocation rules and pricing on the sample cost file', async () => {
    const sample = path.join(PROJECT_ROOT, 'local', 'cost', 'sample-costs.json');
    const [run, ...invoices] = await Promise.all([
      runCli(['--period', '2026-11', '--format', 'json', '--lake', lakeDir, '--costs', sample, '--metrics', metricsFile]),
      ...['acme', 'globex', 'initech'].map((tenant) => runScript('scripts/invoice.ts', ['--tenant', tenant, '--period', '2026-11', '--lake', lakeDir])),
    ]);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.rows.map((r: { tenantId: string; revenueMinor: string }) => [r.tenantId, r.revenueMinor])).toEqual(invoices.map((i) => [JSON.parse(i.stdout).tenantId, JSON.parse(i.stdout).totalMinor]));
    // The sample's export bucket is tagged initech: 0.0456789012 + 0.0461234567 + 0.0465678901, each day rounded to 0.05.
    expect(BigInt(report.rows.find((r: { tenantId: string }) => r.tenantId === 'initech').costMinor)).toBeGreaterThanOrEqual(15n);
    const costs = report.rows.reduce((sum: bigint, r: { costMinor: string }) => sum + BigInt(r.costMinor), BigInt(report.unallocated.costMinor));
    expect(costs).toBe(BigInt(report.totals.costMinor));
    expect(run.stderr).toContain('costs: warning: unallocated 0.01 USD of AWSSecretsManager on 2026-11-01: no rule for service AWSSecretsManager (1 cost line)');
  }, 90_000);

  it('refuses bad input with exit code 2 and one line on stderr, writing nothing', async () => {
    const existing = path.join(outDir, 'keep.json');
    fs.writeFileSync(existing, 'keep me');
    const write = (name: string, value: unknown) => {
      const file = path.join(root, name);
      fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
      return file;
    };
    const badCosts = write('bad-costs.json', { currency: 'USD', lines: [{ start: '2026-11-01T00:00:00Z', service: 'AWSLambda', amount: '1,5' }, { start: '2026-11-31T00:00:00Z', service: 'AWSLambda', amount: '1', tag: {} }] });
    const notJson = write('not-json.json', '{ "currency": "USD", ');
    const euroCosts = write('euro-costs.json', { ...COSTS, currency: 'EUR' });
    const badAllocation = write('bad-allocation.json', { ...ALLOCATION, rules: [{ service: 'AWSLambda', split: 'by-usage' }] });
    const euroPricing = write('euro-pricing.json', { ...PRICING, plans: [{ ...PRICING.plans[0], currency: 'EUR' }, PRICING.plans[1]] });
    const missing = (name: string) => path.join(root, name);
    const base = ['--period', '2026-11', '--out', existing];
    const options = (overrides: Record<string, string>) => {
      const values: Record<string, string> = { lake: lakeDir, costs: costsFile, metrics: metricsFile, pricing: pricingFile, allocation: allocationFile, ...overrides };
      return Object.entries(values).filter(([, value]) => value !== '').flatMap(([name, value]) => [`--${name}`, value]);
    };
    const cases: [string[], string][] = [
      [[...base, ...local(), '--costz', 'x'], "costs: Unknown option '--costz'."],
      [['--period', '2026-13', ...local()], 'costs: Invalid --period: "2026-13" is not a month: the month must be 01 to 12.'],
      [['--period', '2026-11-01', ...local()], 'costs: Invalid --period: "2026-11-01" is not a month: write YYYY-MM'],
      [['--period', '2026-11', '--from', '2026-11-01', ...local()], 'costs: Give either --period or --from/--to, not both'],
      [['--from', '2026-11-08', '--to', '2026-11-01', ...local()], 'costs: --from 2026-11-08 is after --to 2026-11-01.'],
      [['--from', '2026-11-01', '--to', '2027-02-02', ...local()], 'costs: --from 2026-11-01 to --to 2027-02-02 is 94 days; at most 93 per report: split the range.'],
      [[...base, ...options({ costs: '' })], 'costs: Missing option --costs (the cost file'],
      [[...base, ...options({ costs: missing('none.json') })], `costs: cannot read --costs ${missing('none.json')}: no such file`],
      [[...base, ...options({ costs: badCosts })], `costs: Invalid cost file (${badCosts}): lines.0.amount: `],
      [[...base, ...options({ costs: notJson })], `costs: Invalid cost file (${notJson}): is not valid JSON`],
      [[...base, ...options({ costs: euroCosts })], `costs: the cost file ${euroCosts} is in EUR, --allocation ${allocationFile} in USD: cost lines are never converted`],
      [[...base, ...options({ allocation: badAllocation })], `costs: Invalid cost allocation configuration (${badAllocation}): rules.0`],
      [[...base, ...options({ allocation: missing('none.json') })], `costs: cannot read --allocation ${missing('none.json')}: no such file`],
      [[...base, ...options({ pricing: euroPricing })], `costs: plan metered bills in EUR, the cost is in USD: revenue and cost must be in one currency (amounts are never converted) (--pricing ${euroPricing}, --allocation ${allocationFile})`],
      [[...base, ...options({ metrics: missing('none.ndjson') })], `costs: cannot read --metrics ${missing('none.ndjson')}: no such file`],
      [[...base, ...options({ pricing: missing('none.json') })], `costs: cannot read --pricing ${missing('none.json')}: no such file`],
      [[...base, ...options({}), '--metering', notJson], `costs: --metering ${notJson} is not valid JSON`],
      [[...base, ...options({ lake: missing('nowhere') })], `costs: no access-log lake at ${missing('nowhere')}`],
      [['--period', '2026-11', '--out', path.join(root, 'missing-dir', 'x.json'), ...local()], `costs: cannot write --out ${path.join(root, 'missing-dir', 'x.json')}: its folder does not exist`],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(args)));
    runs.forEach((run, index) => {
      expect({ args: cases[index][0], code: run.code, stdout: run.stdout }).toEqual({ args: cases[index][0], code: 2, stdout: '' });
      expect(lines(run.stderr)).toEqual([expect.stringContaining(cases[index][1])]);
      expect(run.stderr).not.toMatch(/^\s+at /m); // no stack trace
    });
    // Every problem of the cost file on its one line.
    expect(runs[8].stderr).toContain('lines.1.start: must be an ISO 8601 time with an offset');
    expect(runs[8].stderr).toContain('; lines.1: ');
    expect(fs.existsSync(missing('nowhere'))).toBe(false); // the lake was not created
    expect(fs.readFileSync(existing, 'utf8')).toBe('keep me');
    expect(fs.existsSync(path.join(root, 'missing-dir'))).toBe(false);
    expect(fs.readdirSync(outDir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    fs.rmSync(existing);
  }, 180_000);

  it('fails with exit code 1 when the lake cannot be read, leaving --out untouched', async () => {
    const broken = path.join(root, 'broken-lake');
    fs.mkdirSync(path.join(broken, 'access_logs', 'hour=2026-11-05-10'), { recursive: true });
    fs.writeFileSync(path.join(broken, 'access_logs', 'hour=2026-11-05-10', 'part-1.parquet'), 'not parquet');
    const out = path.join(outDir, 'broken.json');
    fs.writeFileSync(out, 'previous report');
    const run = await runCli(['--period', '2026-11', '--lake', broken, '--costs', costsFile, '--pricing', pricingFile, '--allocation', allocationFile, '--out', out]);
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(lines(run.stderr)).toEqual([expect.stringMatching(/^costs: failed: /)]);
    expect(fs.readFileSync(out, 'utf8')).toBe('previous report');
    expect(fs.readdirSync(outDir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    fs.rmSync(out);
  });

  it('prints its help with exit code 0', async () => {
    const run = await runCli(['--period', 'nonsense', '-h']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain('Usage: npm run costs -- (--period <YYYY-MM> | --from <YYYY-MM-DD> --to <YYYY-MM-DD>) [options]');
  });
});

describe('CostFileSource', () => {
  const DAY = 86_400_000;
  const day = (n: number) => Date.UTC(2026, 10, 1) + n * DAY;

  it('reads the lines of the days asked for, by the UTC day of their start, and counts the others', async () => {
    const source = CostFileSource.fromFile(costsFile);
    expect(source.currencies).toEqual(['USD']);
    const lines = await source.read({ start: day(1), end: day(3) });
    expect(lines.map((l) => [new Date(l.start).toISOString().slice(0, 10), l.service, l.amount])).toEqual([
      ['2026-11-02', 'AWSLambda', '0.80'],
      ['2026-11-02', 'AmazonS3', '0.4449'],
      ['2026-11-02', 'AWSSecretsManager', '0.30'],
      ['2026-11-03', 'AmazonKinesisFirehose', '0.20'],
    ]);
    expect(source.lastRead).toEqual({ inRange: 4, outsideRange: 6 });
    await expect(source.read({ start: day(1) + 3_600_000, end: day(3) })).rejects.toThrow('is not the start of a UTC day');
    expect(() => CostFileSource.fromFile(path.join(root, 'none.json'))).toThrow(`Invalid cost file (${path.join(root, 'none.json')})`);
  });

  it('splits a file exactly: the reads of adjacent ranges are the read of their union (property, 200 runs)', async () => {
    const line = fc.record({
      minute: fc.integer({ min: -5 * 1440, max: 40 * 1440 - 1 }),
      cents: fc.integer({ min: -500, max: 500 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 30 }), fc.integer({ min: 0, max: 10 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 10 }), async (raw, first, left, right) => {
        const source = new CostFileSource(raw.map((r) => ({ start: day(0) + r.minute * 60_000, service: 'AWSLambda', tags: {}, amount: (r.cents / 100).toFixed(2), currency: 'USD' })), 'generated');
        const whole = await source.read({ start: day(first), end: day(first + left + right) });
        const wholeSummary = source.lastRead;
        const a = await source.read({ start: day(first), end: day(first + left) });
        const b = await source.read({ start: day(first + left), end: day(first + left + right) });
        expect([...a, ...b].sort((x, y) => x.start - y.start)).toEqual([...whole].sort((x, y) => x.start - y.start));
        expect(wholeSummary.inRange + wholeSummary.outsideRange).toBe(raw.length);
        for (const l of whole) expect(l.start >= day(first) && l.start < day(first + left + right)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('the AWS sources (SDK mocked)', () => {
  const athena = mockClient(AthenaClient);
  const logs = mockClient(CloudWatchLogsClient);
  afterEach(() => {
    athena.reset();
    logs.reset();
  });
  afterAll(() => {
    athena.restore();
    logs.restore();
  });
  const target = {
    engine: 'athena' as const,
    workgroup: 'usage-lake',
    database: 'saas_metering',
    costDatabase: 'billing',
    costTable: 'my_cur_export',
    logGroups: ['/aws/lambda/meter-random-strings', '/aws/lambda/meter-usage-events'],
    region: 'eu-west-1',
  };
  const settings = { tenantTag: 'user_tenant_id', namespace: NAMESPACE };
  const sleep = async () => undefined;
  const varchar = (names: string[]) => names.map((Name) => ({ Name, Type: 'varchar' }));
  const result = (names: string[], rows: (string | undefined)[][]) => ({
    ResultSet: {
      ResultSetMetadata: { ColumnInfo: varchar(names) },
      Rows: [names, ...rows].map((row) => ({ Data: row.map((VarCharValue) => (VarCharValue === undefined ? {} : { VarCharValue })) })),
    },
  });

  beforeEach(() => {
    athena.on(StartQueryExecutionCommand).callsFake((input: { QueryString?: string }) => ({ QueryExecutionId: input.QueryString?.includes('line_item_') ? 'q-cur' : 'q-lake' }));
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' }, Statistics: { DataScannedInBytes: 10_485_760 } } });
    athena.on(AthenaResultsCommand, { QueryExecutionId: 'q-cur' }).resolves(result(['usage_day', 'service', 'resource_id', 'tenant_tag', 'currency', 'amount'], [
      ['2026-11-01 00:00:00.000', 'AWSLambda', undefined, undefined, 'USD', '0.8000000000'],
      ['2026-11-02 00:00:00.000', 'AmazonS3', 'bucket-of-globex', 'globex', 'USD', '0.4449000000'],
    ]));
    athena.on(AthenaResultsCommand, { QueryExecutionId: 'q-lake' }).resolves(result(['tenant_id', 'period_start', 'requests', 'response_bytes'], [['acme', '2026-11-01 00:00:00.000', '3', '400']]));
    logs.on(StartQueryCommand).resolves({ queryId: 'q-logs' });
    logs.on(LogsResultsCommand).resolves({
      status: 'Complete',
      statistics: { bytesScanned: 2048 },
      results: [[
        { field: 'tenant_id', value: 'initech' },
        { field: 'namespace', value: NAMESPACE },
        { field: 'period', value: '2026-11-02 00:00:00.000' },
        { field: 'invocations', value: '2' },
        { field: 'duration_micros_sum', value: '150000000' },
      ]],
    });
  });

  const range = { start: Date.UTC(2026, 10, 1), end: Date.UTC(2026, 11, 1) };

  it('reads the CUR table of its own database and name, the lake, and the tenant metrics of the log groups', async () => {
    const sources = await openAthenaSources(target, settings, { sleep });
    try {
      expect(await sources.costLines.read(range)).toEqual([
        { start: Date.UTC(2026, 10, 1), service: 'AWSLambda', tags: {}, amount: '0.8000000000', currency: 'USD' },
        { start: Date.UTC(2026, 10, 2), service: 'AmazonS3', resourceId: 'bucket-of-globex', tags: { user_tenant_id: 'globex' }, amount: '0.4449000000', currency: 'USD' },
      ]);
      expect(await sources.consumption.read(range, 'DAILY')).toEqual([
        { tenantId: 'acme', stream: 'api_requests', granularity: 'DAILY', start: Date.UTC(2026, 10, 1), value: '3' },
        { tenantId: 'acme', stream: 'response_bytes', granularity: 'DAILY', start: Date.UTC(2026, 10, 1), value: '400' },
        { tenantId: 'initech', stream: 'lambda_duration_ms', granularity: 'DAILY', start: Date.UTC(2026, 10, 2), value: '150' },
        { tenantId: 'initech', stream: 'lambda_invocations', granularity: 'DAILY', start: Date.UTC(2026, 10, 2), value: '2' },
      ]);
    } finally {
      await sources.close();
    }
    const [cur, lake] = athena.commandCalls(StartQueryExecutionCommand).map((call) => call.args[0].input);
    expect(cur.QueryExecutionContext).toEqual({ Database: 'billing', Catalog: undefined });
    expect(cur.QueryString).toBe(readCostLinesSql().replace('FROM cur2_cost_and_usage', 'FROM "my_cur_export"'));
    expect(cur.ExecutionParameters).toEqual(["'user_tenant_id'", "'2026-11'", "'2026-11'", "'2026-11-01 00:00:00.000'", "'2026-12-01 00:00:00.000'"]);
    expect(cur.WorkGroup).toBe('usage-lake');
    expect(lake.QueryExecutionContext).toEqual({ Database: 'saas_metering', Catalog: undefined });
    expect(lake.QueryString).toMatch(/FROM access_logs/);
    expect(lake.ExecutionParameters).toEqual(["'2026-11-01 00:00:00.000'", "'2026-12-01 00:00:00.000'", "'day'"]);
    expect(logs.commandCalls(StartQueryCommand)[0].args[0].input.logGroupIdentifiers).toEqual(target.logGroups);
    expect(sources.tenantMetrics).toBe(true);
    expect(sources.scanned()).toEqual({ athenaBytes: 20_971_520, logsInsightsBytes: 2048 });
    expect(sources.notes()).toEqual(['CUR table billing.my_cur_export: 2 cost lines of the period', 'tenant metrics: 1 Logs Insights query']);
    expect(sources.description).toBe('Athena (workgroup usage-lake, lake saas_metering, CUR billing.my_cur_export, eu-west-1) and Logs Insights over 2 log groups');
  });

  it('reads no tenant metrics without log groups', async () => {
    const sources = await openAthenaSources({ ...target, logGroups: [], costTable: 'cur2_cost_and_usage' }, settings, { sleep });
    try {
      await sources.costLines.read(range);
      expect(await sources.consumption.read(range, 'DAILY')).toHaveLength(2);
    } finally {
      await sources.close();
    }
    expect(athena.commandCalls(StartQueryExecutionCommand)[0].args[0].input.QueryString).toBe(readCostLinesSql());
    expect(logs.commandCalls(StartQueryCommand)).toHaveLength(0);
    expect(sources.tenantMetrics).toBe(false);
    expect(sources.scanned()).toEqual({ athenaBytes: 20_971_520 });
  });
});
