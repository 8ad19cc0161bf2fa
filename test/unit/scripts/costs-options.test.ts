import fc from 'fast-check';
import { TENANT_METRICS_NAMESPACE } from '../../../modules/bundled-function/bundled-function';
import { CUR_TABLE } from '../../../modules/cost-allocation/cur-table';
import { costLinesSqlForTable, CurTableNameError } from '../../../scripts/costs/cur-table-sql';
import { COSTS_DEFAULTS, COSTS_USAGE, MAX_DAYS, parseCostsOptions, STACK_CUR_TABLE, type ParseCostsOptionsResult } from '../../../scripts/costs/options';
import { readCostLinesSql } from '../../../sql/sql-files';

const DAY = 86_400_000;
const MONTH = ['--period', '2026-11'];
const LOCAL = ['--costs', 'costs.json'];
const ATHENA = ['--engine', 'athena', '--workgroup', 'usage-lake', '--database', 'saas_metering', '--region', 'eu-west-1'];

function expectError(result: ParseCostsOptionsResult, ...fragments: string[]): void {
  expect(result).toEqual({ ok: false, error: expect.any(String) });
  const { error } = result as { error: string };
  for (const fragment of fragments) expect(error).toContain(fragment);
  expect(error).not.toMatch(/\n/);
}

/** `YYYY-MM-DD` of an epoch-ms day. */
const dayText = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe('parseCostsOptions', () => {
  it('applies the defaults when only the month and the cost file are given', () => {
    expect(parseCostsOptions([...MONTH, ...LOCAL])).toEqual({
      ok: true,
      options: {
        period: { start: Date.UTC(2026, 10, 1), end: Date.UTC(2026, 11, 1), days: 30, label: '2026-11', month: '2026-11' },
        format: 'text',
        allocation: 'config/cost-allocation.json',
        pricing: 'config/pricing.json',
        metering: 'config/metering.json',
        namespace: 'SaaSMetering/Tenants',
        target: { engine: 'duckdb', lake: '.local/lake', costs: 'costs.json' },
      },
    });
  });

  it('reads every local option, in both --name value and --name=value forms', () => {
    expect(parseCostsOptions([
      '--from=2026-02-20', '--to', '2026-03-05', '--format=csv', '--out', 'out/margins.txt', '--allocation', 'a.json', '--pricing=p.json',
      '--metering', 'm.json', '--namespace', 'Acme/Tenants', '--engine=duckdb', '--lake', '/tmp/lake', '--costs=c.json', '--metrics', 'emf.ndjson',
    ])).toEqual({
      ok: true,
      options: {
        period: { start: Date.UTC(2026, 1, 20), end: Date.UTC(2026, 2, 6), days: 14, label: '2026-02-20..2026-03-05' },
        format: 'csv',
        out: 'out/margins.txt',
        allocation: 'a.json',
        pricing: 'p.json',
        metering: 'm.json',
        namespace: 'Acme/Tenants',
        target: { engine: 'duckdb', lake: '/tmp/lake', costs: 'c.json', metrics: 'emf.ndjson' },
      },
    });
  });

  it('names the month of a --from/--to range that is exactly one calendar month', () => {
    expect(parseCostsOptions(['--from', '2028-02-01', '--to', '2028-02-29', ...LOCAL])).toMatchObject({ ok: true, options: { period: { days: 29, month: '2028-02' } } });
    expect(parseCostsOptions(['--from', '2026-11-01', '--to', '2026-11-29', ...LOCAL])).toMatchObject({ ok: true, options: { period: { days: 29 } } });
    expect(parseCostsOptions(['--from', '2026-11-01', '--to', '2026-11-29', ...LOCAL])).not.toMatchObject({ options: { period: { month: expect.anything() } } });
    expect(parseCostsOptions(['--from', '2026-11-01', '--to', '2026-12-31', ...LOCAL])).not.toMatchObject({ options: { period: { month: expect.anything() } } });
    expect(parseCostsOptions(['--from', '2026-11-05', '--to', '2026-11-05', ...LOCAL])).toMatchObject({
      ok: true,
      options: { period: { start: Date.UTC(2026, 10, 5), end: Date.UTC(2026, 10, 6), days: 1, label: '2026-11-05..2026-11-05' } },
    });
  });

  it.each([
    ['x.txt', 'text'],
    ['x.CSV', 'csv'],
    ['x.json', 'json'],
    ['x.html', 'text'],
    ['x', 'text'],
  ])('takes the format from --out %s when --format is absent', (out, format) => {
    expect(parseCostsOptions([...MONTH, ...LOCAL, '--out', out])).toMatchObject({ ok: true, options: { format } });
  });

  it('lets --format win over the --out extension', () => {
    expect(parseCostsOptions([...MONTH, ...LOCAL, '--out', 'x.csv', '--format', 'json'])).toMatchObject({ ok: true, options: { format: 'json', out: 'x.csv' } });
  });

  it('reads the Athena options: the CUR table defaults to the stack\'s, in the lake\'s database', () => {
    expect(parseCostsOptions([...MONTH, ...ATHENA])).toEqual({
      ok: true,
      options: expect.objectContaining({
        target: { engine: 'athena', workgroup: 'usage-lake', database: 'saas_metering', costDatabase: 'saas_metering', costTable: 'cur2_cost_and_usage', logGroups: [], region: 'eu-west-1' },
      }),
    });
    expect(parseCostsOptions([
      ...MONTH, ...ATHENA, '--cost-database', 'billing', '--cost-table', 'cur_export_2', '--log-groups', ' /aws/lambda/meter-random-strings , arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/meter-usage-events:*',
    ])).toMatchObject({
      ok: true,
      options: {
        target: {
          costDatabase: 'billing',
          costTable: 'cur_export_2',
          logGroups: ['/aws/lambda/meter-random-strings', 'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/meter-usage-events:*'],
        },
      },
    });
  });

  it('takes the Athena region from AWS_REGION when --region is absent, and --region over it', () => {
    const withoutRegion = ATHENA.slice(0, -2);
    expect(parseCostsOptions([...MONTH, ...withoutRegion], { AWS_REGION: 'us-east-2' })).toMatchObject({ ok: true, options: { target: { region: 'us-east-2' } } });
    expect(parseCostsOptions([...MONTH, ...ATHENA], { AWS_REGION: 'us-east-2' })).toMatchObject({ ok: true, options: { target: { region: 'eu-west-1' } } });
    expectError(parseCostsOptions([...MONTH, ...withoutRegion]), 'Missing option --region (or AWS_REGION): required with --engine athena.');
    expectError(parseCostsOptions([...MONTH, ...withoutRegion], { AWS_REGION: 'Europe' }), "Invalid AWS_REGION 'Europe'");
  });

  it('keeps its defaults in step with the stack and the local run', () => {
    expect(STACK_CUR_TABLE).toBe(CUR_TABLE);
    expect(COSTS_DEFAULTS.costTable).toBe(CUR_TABLE);
    expect(COSTS_DEFAULTS.namespace).toBe(TENANT_METRICS_NAMESPACE);
  });

  it('asks for help with -h or --help, whatever else is given', () => {
    expect(parseCostsOptions(['--help'])).toEqual({ help: true });
    expect(parseCostsOptions(['--bogus', '--period', '2026-13', '-h'])).toEqual({ help: true });
    for (const text of ['--period <YYYY-MM>', '--from <YYYY-MM-DD>', '--to <YYYY-MM-DD>', `at most ${MAX_DAYS} days`, '--costs <file>', '--metrics <file>', '--cost-database <name>', '--cost-table <name>', '--log-groups <a,b,...>']) {
      expect(COSTS_USAGE).toContain(text);
    }
    // What the help promises about tenants and partial periods.
    expect(COSTS_USAGE).toContain('every tenant with usage or consumption in the days; each is rated, so every tenant\n                with revenue is listed');
    expect(COSTS_USAGE).toContain('the flat fee and minimum commitment\n                are charged whole, not prorated');
  });

  it.each([
    [[...LOCAL], 'Missing option --period (a calendar month, YYYY-MM, e.g. 2026-11) or --from and --to (days, YYYY-MM-DD).'],
    [['--period', '2026-13', ...LOCAL], 'Invalid --period: "2026-13" is not a month: the month must be 01 to 12.'],
    [['--period', '2026-11-01', ...LOCAL], 'Invalid --period: "2026-11-01" is not a month: write YYYY-MM'],
    [['--period', '1969-12', ...LOCAL], 'Invalid --period: "1969-12" is out of range'],
    [['--period', '2026-11', '--from', '2026-11-01', '--to', '2026-11-02', ...LOCAL], 'Give either --period or --from/--to, not both (got --period and --from).'],
    [['--period', '2026-11', '--to', '2026-11-02', ...LOCAL], 'Give either --period or --from/--to, not both (got --period and --to).'],
    [['--from', '2026-11-01', ...LOCAL], 'Missing option --to (the last day, YYYY-MM-DD, included): --from needs it.'],
    [['--to', '2026-11-01', ...LOCAL], 'Missing option --from (the first day, YYYY-MM-DD): --to needs it.'],
    [['--from', '2026-11-1', '--to', '2026-11-02', ...LOCAL], "Invalid --from '2026-11-1': must be a day, YYYY-MM-DD (UTC), e.g. 2026-11-01."],
    [['--from', '2026-11-01', '--to', '2026-02-30', ...LOCAL], "Invalid --to '2026-02-30': not a valid date."],
    [['--from', '1969-12-31', '--to', '1970-01-02', ...LOCAL], "Invalid --from '1969-12-31': the year must be 1970 to 9999."],
    [['--from', '2026-11-02', '--to', '2026-11-01', ...LOCAL], '--from 2026-11-02 is after --to 2026-11-01.'],
    [['--from', '2026-01-01', '--to', '2026-04-04', ...LOCAL], '--from 2026-01-01 to --to 2026-04-04 is 94 days; at most 93 per report: split the range.'],
    [[...MONTH, ...LOCAL, '--format', 'html'], "Invalid --format 'html': must be text, csv, json."],
    [[...MONTH, ...LOCAL, '--out', ''], 'Option --out must not be empty.'],
    [[...MONTH, ...LOCAL, '--allocation', ' '], 'Option --allocation must not be empty.'],
    [[...MONTH, ...LOCAL, '--pricing', ''], 'Option --pricing must not be empty.'],
    [[...MONTH, ...LOCAL, '--metering', ''], 'Option --metering must not be empty.'],
    [[...MONTH, ...LOCAL, '--namespace', 'AWS/Lambda'], "Invalid --namespace 'AWS/Lambda': must be 1-255 characters among 0-9 A-Z a-z . - _ / # : and space, not starting with AWS/."],
    [[...MONTH, ...LOCAL, '--namespace', 'Tenants!'], "Invalid --namespace 'Tenants!'"],
    [[...MONTH, ...LOCAL, '--engine', 'spark'], "Invalid --engine 'spark': must be duckdb or athena."],
    [[...MONTH], 'Missing option --costs (the cost file, JSON { currency, lines }, e.g. local/cost/sample-costs.json): required with --engine duckdb.'],
    [[...MONTH, '--costs', ''], 'Option --costs must not be empty.'],
    [[...MONTH, ...LOCAL, '--metrics', ''], 'Option --metrics must not be empty.'],
    [[...MONTH, ...LOCAL, '--lake', ''], 'Option --lake must not be empty.'],
    [[...MONTH, ...LOCAL, '--workgroup', 'w'], 'Option --workgroup applies only to --engine athena (this run uses duckdb).'],
    [[...MONTH, ...LOCAL, '--log-groups', 'a'], 'Option --log-groups applies only to --engine athena'],
    [[...MONTH, ...ATHENA, '--costs', 'c.json'], 'Option --costs applies only to --engine duckdb (this run uses athena).'],
    [[...MONTH, ...ATHENA, '--metrics', 'm'], 'Option --metrics applies only to --engine duckdb'],
    [[...MONTH, '--engine', 'athena', '--database', 'd', '--region', 'eu-west-1'], 'Missing option --workgroup (Athena workgroup): required with --engine athena.'],
    [[...MONTH, '--engine', 'athena', '--workgroup', 'w', '--region', 'eu-west-1'], 'Missing option --database (Glue database of the access logs): required with --engine athena.'],
    [[...MONTH, '--engine', 'athena', '--workgroup', 'w w', '--database', 'd', '--region', 'eu-west-1'], "Invalid --workgroup 'w w': must be 1-128 characters among A-Z a-z 0-9 . _ -."],
    [[...MONTH, ...ATHENA, '--cost-database', 'bill.ing'], "Invalid --cost-database 'bill.ing': must be 1-255 characters among A-Z a-z 0-9 _ -."],
    [[...MONTH, ...ATHENA, '--cost-table', 'CUR'], "Invalid --cost-table 'CUR': must be 1-255 lowercase letters, digits or _ (a Glue table name)."],
    [[...MONTH, ...ATHENA, '--cost-table', 'cur"; DROP TABLE x; --'], "Invalid --cost-table 'cur\"; DROP TABLE x; --'"],
    [[...MONTH, ...ATHENA, '--log-groups', 'a,,b'], "Invalid --log-groups 'a,,b': a comma-separated list of log group names or ARNs, none empty."],
    [[...MONTH, ...ATHENA, '--log-groups', 'a,b c'], "Invalid log group 'b c' in --log-groups: must be a name of 1-512 characters among A-Z a-z 0-9 _ - / . # or a log group ARN."],
    [[...MONTH, ...ATHENA, '--log-groups', '/aws/lambda/x,/aws/lambda/x'], "Option --log-groups names '/aws/lambda/x' more than once."],
    [[...MONTH, ...ATHENA.slice(0, -1), 'Europe'], "Invalid --region 'Europe': must be an AWS region such as eu-west-1."],
    [[...MONTH, ...LOCAL, '--perod', '2026-11'], "Unknown option '--perod'. Allowed: --period, --from, --to"],
    [[...MONTH, ...LOCAL, 'extra'], "Unexpected argument 'extra': all inputs are --options."],
    [[...MONTH, ...LOCAL, '--period', '2026-12'], 'Option --period is given more than once.'],
    [['--period', '--costs', 'c.json'], 'Option --period needs a value'],
  ])('refuses %j', (argv, message) => {
    expectError(parseCostsOptions(argv), message);
  });

  it(`accepts ${MAX_DAYS} days, the most`, () => {
    expect(parseCostsOptions(['--from', '2026-01-01', '--to', '2026-04-03', ...LOCAL])).toMatchObject({ ok: true, options: { period: { days: MAX_DAYS } } });
  });

  it(`accepts every range of 1 to ${MAX_DAYS} days, and refuses longer and reversed ones (property, 300 runs)`, () => {
    const first = Date.UTC(1970, 0, 1) / DAY;
    const last = Date.UTC(9999, 11, 31) / DAY;
    fc.assert(
      fc.property(fc.integer({ min: first + 200, max: last - 200 }), fc.integer({ min: -200, max: 200 }), (startDay, length) => {
        const from = startDay * DAY;
        const to = from + length * DAY;
        const result = parseCostsOptions(['--from', dayText(from), '--to', dayText(to), ...LOCAL]);
        const days = length + 1;
        if (length < 0) expectError(result, 'is after --to');
        else if (days > MAX_DAYS) expectError(result, `is ${days} days; at most ${MAX_DAYS}`);
        else expect(result).toMatchObject({ ok: true, options: { period: { start: from, end: to + DAY, days, label: `${dayText(from)}..${dayText(to)}` } } });
      }),
      { numRuns: 300 },
    );
  });
});

describe('costLinesSqlForTable', () => {
  const sql = readCostLinesSql();

  it('leaves the query on the stack\'s table as it is', () => {
    expect(costLinesSqlForTable(sql, 'cur2_cost_and_usage')).toBe(sql);
  });

  it('reads another table by its quoted name, changing nothing else (the values stay parameters)', () => {
    const other = costLinesSqlForTable(sql, 'cur_export_2');
    expect(other).toBe(sql.replace('FROM cur2_cost_and_usage', 'FROM "cur_export_2"'));
    expect(other.split('?')).toHaveLength(sql.split('?').length);
    expect(other).not.toContain('cur2_cost_and_usage');
  });

  it.each(['CUR', 'cur-export', 'cur"x', '', 'a'.repeat(256), 'cur export'])('refuses the table name %j', (name) => {
    expect(() => costLinesSqlForTable(sql, name)).toThrow(CurTableNameError);
  });

  it('refuses a query that does not read the stack\'s table exactly once', () => {
    expect(() => costLinesSqlForTable('SELECT 1', 'x')).toThrow('must read FROM cur2_cost_and_usage exactly once, it does 0 times');
    expect(() => costLinesSqlForTable(`${sql} UNION ALL ${sql}`, 'x')).toThrow('it does 2 times');
  });
});
