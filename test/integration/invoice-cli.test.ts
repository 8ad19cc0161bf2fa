/**
 * `npm run invoice` as a user runs it: the CLI in a child process, measuring a temporary Parquet lake
 * (access logs and custom usage events) with DuckDB and rating it under a pricing file written here
 * (and once under config/pricing.json).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDbLake } from '../../adapters/duckdb/duckdb-lake';
import { accessLogRow } from '../support/access-log-rows';
import { readCsv } from '../unit/pricing/read-csv';
import { runScript } from '../support/run-script';

const at = (day: number, hour: number, minute = 0, second = 0) => Date.UTC(2026, 10, day, hour, minute, second);

const runCli = (args: readonly string[]) => runScript('scripts/invoice.ts', args, { timeoutMs: 40_000 });

/** A usage-event row as the transform writes it (times in epoch µs). */
function usageEvent(fields: { id: string; tenant: string; meter: string; quantity: string; at: number }) {
  return {
    tenant_id: fields.tenant,
    event_id: fields.id,
    meter: fields.meter,
    quantity: fields.quantity,
    event_time: fields.at * 1000,
    received_at: (fields.at + 1000) * 1000,
    unique_value: null,
    properties: null,
    source: 'tenant',
  };
}

/**
 * metered (default): 10.00 USD a month; api_requests 1 free, then 2 at 1.00 and the rest at 0.10;
 * response_bytes 0.07 USD per started 1000; tokens 1¢ per 100.
 * bundle (globex): 50.00 USD a month, at least 200.00; api_requests ½¢ each; response_bytes and tokens not priced.
 */
const PRICING = {
  plans: [
    {
      id: 'metered',
      name: 'Metered',
      currency: 'USD',
      flatFeeMinor: 1000,
      charges: [
        { dimension: 'api_requests', kind: 'graduated', freeAllowance: 1, tiers: [{ upTo: 2, price: 100 }, { upTo: null, price: 10 }] },
        { dimension: 'response_bytes', kind: 'package', packageSize: 1000, priceMinor: 7 },
        { dimension: 'tokens', kind: 'per_unit', price: { amountMinor: 1, per: 100 } },
      ],
    },
    {
      id: 'bundle',
      name: 'Bundle <"all-in">',
      currency: 'USD',
      flatFeeMinor: 5000,
      minimumCommitmentMinor: 20000,
      charges: [{ dimension: 'api_requests', kind: 'per_unit', price: { amountMinor: 1, per: 2 } }],
    },
  ],
  defaultPlan: 'metered',
  tenantPlans: { globex: 'bundle' },
};

let root: string;
let lakeDir: string;
let pricingFile: string;
let outDir: string;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'invoice-cli-'));
  lakeDir = path.join(root, 'lake');
  outDir = path.join(root, 'out');
  fs.mkdirSync(outDir);
  pricingFile = path.join(root, 'pricing.json');
  fs.writeFileSync(pricingFile, JSON.stringify(PRICING));
  const lake = await DuckDbLake.open(lakeDir);
  try {
    await lake.appendAccessLogs([
      // acme in November: 4 requests of GET /random/strings (3 hours), 2000 bytes returned by successful calls.
      accessLogRow({ id: 'a1', tenant: 'acme', at: at(1, 10, 0, 1), bytes: 100 }),
      accessLogRow({ id: 'a1', tenant: 'acme', at: at(1, 10, 0, 1), bytes: 100 }), // delivered twice: counted once
      accessLogRow({ id: 'a2', tenant: 'acme', at: at(1, 10, 30), bytes: 250 }),
      accessLogRow({ id: 'a3', tenant: 'acme', at: at(15, 8), bytes: 50 }),
      accessLogRow({ id: 'a4', tenant: 'acme', at: at(30, 23, 59, 59), bytes: 600 }), // the month's last second
      accessLogRow({ id: 'a5', tenant: 'acme', at: at(15, 9), status: 500, bytes: 4000 }), // failed: bills nothing
      accessLogRow({ id: 'a6', tenant: 'acme', at: at(20, 12), method: 'POST', path: '/jobs', status: 201, bytes: 1000 }), // bytes only
      accessLogRow({ id: 'oct', tenant: 'acme', at: Date.UTC(2026, 9, 31, 23, 59, 59), bytes: 7777 }), // October
      accessLogRow({ id: 'dec', tenant: 'acme', at: Date.UTC(2026, 11, 1), bytes: 8888 }), // December
      // globex in November: 2 requests, 1,000,099 bytes.
      accessLogRow({ id: 'g1', tenant: 'globex', at: at(2, 3), bytes: 999_999 }),
      accessLogRow({ id: 'g2', tenant: 'globex', at: at(3, 4), bytes: 100 }),
      accessLogRow({ id: 'anon', tenant: null, at: at(2, 5), status: 401 }),
    ]);
    await lake.appendUsageEvents([
      // acme's tokens in November: 4000 in 2 hours.
      usageEvent({ id: 'e1', tenant: 'acme', meter: 'tokens', quantity: '1500', at: at(2, 10) }),
      usageEvent({ id: 'e1', tenant: 'acme', meter: 'tokens', quantity: '1500', at: at(2, 10) }), // resent: counted once
      usageEvent({ id: 'e2', tenant: 'acme', meter: 'tokens', quantity: '500', at: at(2, 10, 30) }),
      usageEvent({ id: 'e3', tenant: 'acme', meter: 'tokens', quantity: '2000', at: at(9, 0) }),
      usageEvent({ id: 'e4', tenant: 'acme', meter: 'tokens', quantity: '99999', at: Date.UTC(2026, 11, 1, 0) }), // December
      usageEvent({ id: 'e5', tenant: 'globex', meter: 'tokens', quantity: '7', at: at(3, 0) }),
      usageEvent({ id: 'e6', tenant: 'acme', meter: 'gpu_seconds', quantity: '60', at: at(4, 0) }), // no such meter configured
    ]);
  } finally {
    lake.close();
  }
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

const local = () => ['--lake', lakeDir, '--pricing', pricingFile];
const lines = (text: string) => text.split('\n').filter((line) => line !== '');

describe('npm run invoice', () => {
  it('previews a tenant\'s month as JSON, measured from the lake and rated under its plan', async () => {
    const run = await runCli(['--tenant', 'acme', '--period', '2026-11', ...local()]);
    expect(run).toMatchObject({ code: 0 });
    const invoice = JSON.parse(run.stdout);
    expect(invoice).toMatchObject({
      tenantId: 'acme',
      plan: { id: 'metered', name: 'Metered' },
      currency: 'USD',
      period: { start: '2026-11-01T00:00:00.000Z', end: '2026-12-01T00:00:00.000Z', month: '2026-11' },
      usage: [
        { dimension: 'api_requests', quantity: '4', hours: 3, priced: true },
        { dimension: 'response_bytes', quantity: '2000', hours: 4, priced: true },
        { dimension: 'tokens', quantity: '4000', hours: 2, priced: true },
      ],
      unpriced: [],
      // 1000 + (1 free; 2 × 100 + 1 × 10) + 2 packages × 7 + 4000 / 100 = 1264.
      subtotalMinor: '1264',
      minimumTopUpMinor: '0',
      totalMinor: '1264',
      total: '12.64 USD',
    });
    expect(invoice.lines.map((l: { kind: string; quantity: string; amountMinor: string }) => [l.kind, l.quantity, l.amountMinor])).toEqual([
      ['flat_fee', '1', '1000'],
      ['free_allowance', '1', '0'],
      ['graduated_tier', '2', '200'],
      ['graduated_tier', '1', '10'],
      ['package', '2000', '14'],
      ['per_unit', '4000', '40'],
    ]);
    expect(run.stderr).toContain('invoice: acme 2026-11, plan metered: total 12.64 USD (6 lines, 0 unpriced)');
    expect(run.stderr).toContain('invoice: warning: 1 tenant-meter-hours (all tenants) of meters that config/metering.json does not configure were left out');
  });

  it('uses tenantPlans, and lists usage the plan does not price as unpriced with a warning', async () => {
    const run = await runCli(['--tenant', 'globex', '--period', '2026-11', ...local()]);
    expect(run.code).toBe(0);
    const invoice = JSON.parse(run.stdout);
    // 5000 + 2 × ½ = 5001, topped up to 20000.
    expect(invoice).toMatchObject({
      plan: { id: 'bundle' },
      usage: [
        { dimension: 'api_requests', quantity: '2', priced: true },
        { dimension: 'response_bytes', quantity: '1000099', priced: false },
        { dimension: 'tokens', quantity: '7', priced: false },
      ],
      unpriced: [
        { dimension: 'response_bytes', quantity: '1000099', amountMinor: '0', amount: '0.00 USD' },
        { dimension: 'tokens', quantity: '7', amountMinor: '0', amount: '0.00 USD' },
      ],
      subtotalMinor: '5001',
      minimumTopUpMinor: '14999',
      totalMinor: '20000',
    });
    expect(invoice.warnings).toContain('Usage of response_bytes (1000099 units) is not priced by plan bundle: listed as unpriced and not charged.');
    expect(run.stderr).toContain('invoice: warning: Usage of response_bytes (1000099 units) is not priced by plan bundle');
  });

  it('rates under --plan and writes CSV', async () => {
    const run = await runCli(['--tenant', 'acme', '--period', '2026-11', '--plan', 'bundle', '--format', 'csv', ...local()]);
    expect(run.code).toBe(0);
    const rows = readCsv(run.stdout);
    expect(rows[0]).toEqual(['tenant_id', 'period_start', 'period_end', 'plan_id', 'currency', 'kind', 'dimension', 'description', 'quantity', 'amount_minor', 'amount']);
    const byKind = (kind: string) => rows.filter((row) => row[5] === kind).map((row) => [row[6], row[8], row[9], row[10]]);
    expect(byKind('per_unit')).toEqual([['api_requests', '4', '2', '0.02 USD']]);
    expect(byKind('unpriced')).toEqual([['response_bytes', '2000', '0', '0.00 USD'], ['tokens', '4000', '0', '0.00 USD']]);
    expect(byKind('total')).toEqual([['', '', '20000', '200.00 USD']]);
    expect(rows.filter((row) => row[5] === 'warning').map((row) => row[7])).toContain('Usage of response_bytes (2000 units) is not priced by plan bundle: listed as unpriced and not charged.');
  });

  it('writes --out whole, in the format of its extension, leaving no temporary file', async () => {
    const html = path.join(outDir, 'acme.html');
    const csv = path.join(outDir, 'acme.csv');
    fs.writeFileSync(csv, 'old content that must go\n');
    const [htmlRun, csvRun] = await Promise.all([
      runCli(['--tenant', 'acme', '--period', '2026-11', '--plan', 'bundle', '--out', html, ...local()]),
      runCli(['--tenant', 'acme', '--period', '2026-11', '--out', csv, ...local()]),
    ]);
    expect(htmlRun).toMatchObject({ code: 0, stdout: '' });
    expect(csvRun).toMatchObject({ code: 0, stdout: '' });
    expect(htmlRun.stderr).toContain(`html written to ${html}`);
    const page = fs.readFileSync(html, 'utf8');
    expect(page.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(page).toContain('<dd>Bundle &lt;&quot;all-in&quot;&gt; (bundle)</dd>');
    expect(page).toContain('<td class="num">200.00 USD</td>');
    expect(page).toContain('response_bytes <span class="tag">unpriced</span>');
    expect(page).not.toContain('<script');
    const csvText = fs.readFileSync(csv, 'utf8');
    expect(csvText).not.toContain('old content');
    expect(readCsv(csvText).find((row) => row[5] === 'total')![9]).toBe('1264');
    expect(fs.readdirSync(outDir).sort()).toEqual(['acme.csv', 'acme.html']);
  }, 60_000);

  it('prorates the flat fee for a subscription that starts mid-month', async () => {
    const run = await runCli(['--tenant', 'acme', '--period', '2026-11', '--subscription-start', '2026-11-16', ...local()]);
    expect(run.code).toBe(0);
    // Half of November: fee 500, usage 264.
    expect(JSON.parse(run.stdout)).toMatchObject({ subscription: { start: '2026-11-16T00:00:00.000Z' }, proration: { numerator: '1', denominator: '2' }, totalMinor: '764' });
  });

  it('previews a month without usage, and says so', async () => {
    const run = await runCli(['--tenant', 'acme', '--period', '2026-09', ...local()]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ totalMinor: '1000', usage: [{ quantity: '0' }, { quantity: '0' }, { quantity: '0' }] });
    expect(run.stderr).toContain('invoice: warning: tenant "acme" has no usage in 2026-09');
  });

  it('works with the shipped config/pricing.json', async () => {
    const run = await runCli(['--tenant', 'acme', '--period', '2026-11', '--lake', lakeDir]);
    expect(run.code).toBe(0);
    const invoice = JSON.parse(run.stdout);
    expect(invoice.plan.id).toBe('starter');
    expect(invoice.unpriced).toEqual([]);
    const quantityOf = (dimension: string) => invoice.usage.find((u: { dimension: string }) => u.dimension === dimension).quantity;
    expect([quantityOf('api_requests'), quantityOf('response_bytes'), quantityOf('tokens'), quantityOf('storage_gb')]).toEqual(['4', '2000', '4000', '0']);
    const sumOfLines = invoice.lines.reduce((sum: bigint, l: { amountMinor: string }) => sum + BigInt(l.amountMinor), 0n);
    expect(BigInt(invoice.totalMinor)).toBe(sumOfLines + BigInt(invoice.minimumTopUpMinor));
  });

  it('refuses bad input with exit code 2 and one line on stderr, writing nothing', async () => {
    const existing = path.join(outDir, 'keep.json');
    fs.writeFileSync(existing, 'keep me');
    const badPricing = path.join(root, 'bad-pricing.json');
    fs.writeFileSync(badPricing, JSON.stringify({ ...PRICING, plans: [{ ...PRICING.plans[0], charges: [{ dimension: 'api_request', kind: 'per_unit', price: 1 }] }, PRICING.plans[1]] }));
    const base = ['--tenant', 'acme', '--period', '2026-11', ...local()];
    const cases: [string[], string][] = [
      [[...base, '--tennant', 'x'], "invoice: Unknown option '--tennant'."],
      [['--period', '2026-11', ...local()], 'invoice: Missing option --tenant'],
      [['--tenant', 'acme', '--period', '2026-13', '--out', existing, ...local()], 'invoice: Invalid --period: "2026-13" is not a month: the month must be 01 to 12.'],
      [['--tenant', 'acme', '--period', 'Nov-2026', ...local()], 'write YYYY-MM'],
      [[...base, '--plan', 'gold', '--out', existing], `invoice: Unknown --plan 'gold': the plans of ${pricingFile} are metered, bundle.`],
      [['--tenant', 'acme', '--period', '2026-11', '--lake', path.join(root, 'nowhere'), '--pricing', pricingFile], `invoice: no access-log lake at ${path.join(root, 'nowhere')}`],
      [[...base, '--out', path.join(root, 'missing-dir', 'x.json')], `invoice: cannot write --out ${path.join(root, 'missing-dir', 'x.json')}: its folder does not exist`],
      [[...base, '--out', outDir], `invoice: cannot write --out ${outDir}: it is a directory`],
      [['--tenant', 'acme', '--period', '2026-11', '--lake', lakeDir, '--pricing', path.join(root, 'none.json')], `invoice: cannot read --pricing ${path.join(root, 'none.json')}: no such file`],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(args)));
    runs.forEach((run, index) => {
      expect({ args: cases[index][0], code: run.code, stdout: run.stdout }).toEqual({ args: cases[index][0], code: 2, stdout: '' });
      expect(lines(run.stderr)).toEqual([expect.stringContaining(cases[index][1])]);
    });
    expect(fs.existsSync(path.join(root, 'nowhere'))).toBe(false); // the lake was not created
    expect(fs.readFileSync(existing, 'utf8')).toBe('keep me');

    const invalid = await runCli([...base.slice(0, 4), '--lake', lakeDir, '--pricing', badPricing]);
    expect(invalid).toMatchObject({ code: 2, stdout: '' });
    expect(invalid.stderr).toContain(`Invalid pricing configuration (${badPricing})`);
    expect(invalid.stderr).toContain('plans.0.charges.0.dimension: "api_request" (plan metered) is not a dimension of the metering configuration');
    for (const run of [...runs, invalid]) expect(run.stderr).not.toMatch(/^\s+at /m); // no stack trace
    fs.rmSync(existing);
  }, 90_000);

  it('fails with exit code 1 when the lake cannot be read, leaving --out untouched', async () => {
    const broken = path.join(root, 'broken-lake');
    fs.mkdirSync(path.join(broken, 'access_logs', 'hour=2026-11-05-10'), { recursive: true });
    fs.writeFileSync(path.join(broken, 'access_logs', 'hour=2026-11-05-10', 'part-1.parquet'), 'not parquet');
    const out = path.join(outDir, 'broken.json');
    fs.writeFileSync(out, 'previous preview');
    const run = await runCli(['--tenant', 'acme', '--period', '2026-11', '--lake', broken, '--pricing', pricingFile, '--out', out]);
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toMatch(/^invoice: failed: /);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(fs.readFileSync(out, 'utf8')).toBe('previous preview');
    expect(fs.readdirSync(outDir).filter((name) => name.includes('.tmp'))).toEqual([]);
    fs.rmSync(out);
  });
});
