import { INVOICE_USAGE, parseInvoiceOptions, type ParseInvoiceOptionsResult } from '../../../scripts/invoice';

const REQUIRED = ['--tenant', 'acme', '--period', '2026-11'];
const NOVEMBER = { month: '2026-11', start: Date.UTC(2026, 10, 1), end: Date.UTC(2026, 11, 1) };

function expectError(result: ParseInvoiceOptionsResult, ...fragments: string[]): void {
  expect(result).toEqual({ ok: false, error: expect.any(String) });
  const { error } = result as { error: string };
  for (const fragment of fragments) expect(error).toContain(fragment);
  expect(error).not.toMatch(/\n/);
}

describe('parseInvoiceOptions', () => {
  it('applies the defaults when only the tenant and the period are given', () => {
    expect(parseInvoiceOptions(REQUIRED)).toEqual({
      ok: true,
      options: {
        tenant: 'acme',
        period: NOVEMBER,
        format: 'json',
        pricing: 'config/pricing.json',
        metering: 'config/metering.json',
        subscription: {},
        target: { engine: 'duckdb', lake: '.local/lake' },
      },
    });
  });

  it('reads every option, in both --name value and --name=value forms', () => {
    expect(parseInvoiceOptions([
      '--tenant=globex', '--period', '2026-02', '--plan', 'growth', '--format=csv', '--out', 'out/invoice.txt',
      '--pricing', 'p.json', '--metering=m.json', '--subscription-start', '2026-02-10', '--subscription-end=2026-02-20T12:00:00+02:00', '--lake', '/tmp/lake',
    ])).toEqual({
      ok: true,
      options: {
        tenant: 'globex',
        period: { month: '2026-02', start: Date.UTC(2026, 1, 1), end: Date.UTC(2026, 2, 1) },
        plan: 'growth',
        format: 'csv',
        out: 'out/invoice.txt',
        pricing: 'p.json',
        metering: 'm.json',
        subscription: { start: Date.UTC(2026, 1, 10), end: Date.UTC(2026, 1, 20, 10) },
        target: { engine: 'duckdb', lake: '/tmp/lake' },
      },
    });
  });

  it.each([
    ['x.html', 'html'],
    ['x.HTM', 'html'],
    ['x.csv', 'csv'],
    ['x.json', 'json'],
    ['x.txt', 'json'],
    ['x', 'json'],
  ])('takes the format from --out %s when --format is absent', (out, format) => {
    expect(parseInvoiceOptions([...REQUIRED, '--out', out])).toMatchObject({ ok: true, options: { format } });
  });

  it('lets --format win over the --out extension', () => {
    expect(parseInvoiceOptions([...REQUIRED, '--out', 'x.csv', '--format', 'html'])).toMatchObject({ ok: true, options: { format: 'html' } });
  });

  it('reads the Athena options, the region from AWS_REGION by default', () => {
    expect(parseInvoiceOptions([...REQUIRED, '--engine', 'athena', '--workgroup', 'usage-lake', '--database', 'saas_metering'], { AWS_REGION: 'eu-west-1' })).toMatchObject({
      ok: true,
      options: { target: { engine: 'athena', workgroup: 'usage-lake', database: 'saas_metering', region: 'eu-west-1' } },
    });
    expect(parseInvoiceOptions([...REQUIRED, '--engine', 'athena', '--workgroup', 'w', '--database', 'd', '--region', 'us-east-1'], { AWS_REGION: 'eu-west-1' })).toMatchObject({
      ok: true,
      options: { target: { region: 'us-east-1' } },
    });
  });

  it('asks for help with -h or --help, whatever else is given', () => {
    expect(parseInvoiceOptions(['--help'])).toEqual({ help: true });
    expect(parseInvoiceOptions(['--bogus', '-h'])).toEqual({ help: true });
    expect(INVOICE_USAGE).toContain('--tenant <id>');
    expect(INVOICE_USAGE).toContain('--period <YYYY-MM>');
  });

  it.each([
    [['--period', '2026-11'], 'Missing option --tenant'],
    [['--tenant', 'acme'], 'Missing option --period (a calendar month, YYYY-MM, e.g. 2026-11)'],
    [['--tenant', '', '--period', '2026-11'], 'Invalid --tenant: must be 1-256 characters'],
    [['--tenant', 'a\u0007b', '--period', '2026-11'], 'Invalid --tenant'],
    [['--tenant', 'acme', '--period', '2026-13'], 'Invalid --period: "2026-13" is not a month: the month must be 01 to 12.'],
    [['--tenant', 'acme', '--period', '2026-11-01'], 'Invalid --period: "2026-11-01" is not a month: write YYYY-MM'],
    [['--tenant', 'acme', '--period', '1900-01'], 'out of range'],
    [[...REQUIRED, '--plan', 'Growth'], "Invalid --plan 'Growth'"],
    [[...REQUIRED, '--format', 'pdf'], "Invalid --format 'pdf': must be json, csv, html."],
    [[...REQUIRED, '--out', ''], 'Option --out must not be empty.'],
    [[...REQUIRED, '--engine', 'spark'], "Invalid --engine 'spark': must be duckdb or athena."],
    [[...REQUIRED, '--engine', 'athena', '--database', 'd', '--region', 'eu-west-1'], 'Missing option --workgroup (Athena workgroup): required with --engine athena.'],
    [[...REQUIRED, '--engine', 'athena', '--workgroup', 'w', '--region', 'eu-west-1'], 'Missing option --database'],
    [[...REQUIRED, '--engine', 'athena', '--workgroup', 'w', '--database', 'd'], 'Missing option --region (or AWS_REGION)'],
    [[...REQUIRED, '--engine', 'athena', '--workgroup', 'w w', '--database', 'd', '--region', 'eu-west-1'], "Invalid --workgroup 'w w'"],
    [[...REQUIRED, '--engine', 'athena', '--workgroup', 'w', '--database', 'd', '--region', 'Europe'], "Invalid --region 'Europe'"],
    [[...REQUIRED, '--engine', 'athena', '--lake', 'x', '--workgroup', 'w', '--database', 'd', '--region', 'eu-west-1'], 'Option --lake applies only to --engine duckdb (this run uses athena).'],
    [[...REQUIRED, '--workgroup', 'w'], 'Option --workgroup applies only to --engine athena'],
    [[...REQUIRED, '--subscription-start', '2026-02-30'], "Invalid --subscription-start '2026-02-30': not a valid date."],
    [[...REQUIRED, '--subscription-start', '2026-11-15T10:00'], 'must be a date (2026-11-15, midnight UTC) or an ISO time with a zone'],
    [[...REQUIRED, '--subscription-start', '2026-11-20', '--subscription-end', '2026-11-10'], '--subscription-end must be after --subscription-start.'],
    [[...REQUIRED, '--tennant', 'x'], "Unknown option '--tennant'. Allowed: --tenant, --period"],
    [[...REQUIRED, 'extra'], "Unexpected argument 'extra'"],
    [[...REQUIRED, '--tenant', 'again'], 'Option --tenant is given more than once.'],
    [['--tenant', '--period', '2026-11'], 'Option --tenant needs a value'],
  ])('refuses %j', (argv, message) => {
    expectError(parseInvoiceOptions(argv), message);
  });
});
