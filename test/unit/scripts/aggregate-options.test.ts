import fc from 'fast-check';
import { AGGREGATE_USAGE, MAX_HOURS, parseAggregateOptions, type ParseAggregateOptionsResult } from '../../../scripts/aggregate/options';

const NOW = Date.UTC(2026, 10, 23, 14, 18, 37);
const H = (day: number, hour: number) => Date.UTC(2026, 10, day, hour);
const RANGE = ['--from', '2026-11-01T00', '--to', '2026-11-01T23'];
const ATHENA = ['--engine', 'athena', '--workgroup', 'usage-lake', '--database', 'saas_metering', '--table', 'usage-prod', '--region', 'eu-west-1'];

function parse(argv: string[], env: Record<string, string | undefined> = {}): ParseAggregateOptionsResult {
  return parseAggregateOptions(argv, { env, now: NOW });
}

function expectError(result: ParseAggregateOptionsResult, ...fragments: string[]): void {
  expect(result).toEqual({ ok: false, error: expect.any(String) });
  const { error } = result as { error: string };
  for (const fragment of fragments) expect(error).toContain(fragment);
  expect(error).not.toMatch(/\n/);
}

describe('parseAggregateOptions', () => {
  it('applies the local defaults when only the hours are given', () => {
    expect(parse(RANGE)).toEqual({
      ok: true,
      options: {
        from: '2026-11-01T00',
        to: '2026-11-01T23',
        firstHour: H(1, 0),
        lastHour: H(1, 23),
        hours: 24,
        config: 'config/metering.json',
        json: false,
        target: { engine: 'duckdb', lake: '.local/lake', table: 'usage' },
      },
    });
  });

  it('reads every local option, in both --name value and --name=value forms', () => {
    expect(parse(['--from=2026-11-01T05', '--to', '2026-11-01T05', '--engine=duckdb', '--lake', '/tmp/lake', '--dynamodb-endpoint=http://127.0.0.1:8000', '--table', 'usage-dev', '--config', 'my.json', '--json'])).toEqual({
      ok: true,
      options: {
        from: '2026-11-01T05',
        to: '2026-11-01T05',
        firstHour: H(1, 5),
        lastHour: H(1, 5),
        hours: 1,
        config: 'my.json',
        json: true,
        target: { engine: 'duckdb', lake: '/tmp/lake', dynamoDbEndpoint: 'http://127.0.0.1:8000', table: 'usage-dev' },
      },
    });
  });

  it('reads the Athena options', () => {
    expect(parse([...RANGE, ...ATHENA])).toMatchObject({
      ok: true,
      options: { target: { engine: 'athena', workgroup: 'usage-lake', database: 'saas_metering', table: 'usage-prod', region: 'eu-west-1' } },
    });
  });

  it('takes the Athena region from AWS_REGION when --region is absent, and --region over it', () => {
    const withoutRegion = ATHENA.slice(0, -2);
    expect(parse([...RANGE, ...withoutRegion], { AWS_REGION: 'us-east-2' })).toMatchObject({ ok: true, options: { target: { region: 'us-east-2' } } });
    expect(parse([...RANGE, ...ATHENA], { AWS_REGION: 'us-east-2' })).toMatchObject({ ok: true, options: { target: { region: 'eu-west-1' } } });
    expectError(parse([...RANGE, ...withoutRegion]), '--region', 'AWS_REGION');
    expectError(parse([...RANGE, ...withoutRegion], { AWS_REGION: '  ' }), '--region', 'AWS_REGION');
    expectError(parse([...RANGE, ...withoutRegion], { AWS_REGION: 'Europe' }), "Invalid AWS_REGION 'Europe'");
    expectError(parse([...RANGE, ...withoutRegion, '--region', 'eu_west_1']), "Invalid --region 'eu_west_1'");
  });

  it.each(['workgroup', 'database', 'table'])('requires --%s with --engine athena', (name) => {
    const index = ATHENA.indexOf(`--${name}`);
    const argv = [...ATHENA.slice(0, index), ...ATHENA.slice(index + 2)];
    expectError(parse([...RANGE, ...argv]), `Missing option --${name}`, '--engine athena');
  });

  it.each([
    ['--workgroup', 'usage lake'],
    ['--database', 'saas.metering'],
    ['--table', 'ab'],
    ['--table', 'usage/prod'],
  ])('rejects %s %j', (option, value) => {
    const argv = [...ATHENA];
    argv[argv.indexOf(option) + 1] = value;
    expectError(parse([...RANGE, ...argv]), `Invalid ${option} '${value}'`);
  });

  it('rejects options of the other engine', () => {
    expectError(parse([...RANGE, '--workgroup', 'w']), '--workgroup', 'only to --engine athena');
    expectError(parse([...RANGE, '--region', 'eu-west-1']), '--region', 'only to --engine athena');
    expectError(parse([...RANGE, ...ATHENA, '--lake', '/tmp/lake']), '--lake', 'only to --engine duckdb');
    expectError(parse([...RANGE, ...ATHENA, '--dynamodb-endpoint', 'http://127.0.0.1:8000']), '--dynamodb-endpoint', 'only to --engine duckdb');
  });

  it('rejects an unknown engine', () => {
    expectError(parse([...RANGE, '--engine', 'trino']), "Invalid --engine 'trino'", 'duckdb or athena');
  });

  it.each([
    ['2026-11-01T07', H(1, 7)],
    ['2026-11-01T07:00', H(1, 7)],
    ['2026-11-01T07:00:00', H(1, 7)],
    ['2026-11-01T07:00:00Z', H(1, 7)],
    ['2026-11-01t07:00:00.000z', H(1, 7)],
    ['2026-11-01T07:00:00.000000000Z', H(1, 7)],
    ['2026-11-01T08:00:00+01:00', H(1, 7)],
    ['2026-11-01T02:00-0500', H(1, 7)],
    ['2026-11-01T12:30:00+05:30', H(1, 7)],
    [' 2026-11-01T07 ', H(1, 7)],
  ])('reads the hour %j as UTC', (text, hour) => {
    expect(parse(['--from', text, '--to', '2026-11-02T00'])).toMatchObject({ ok: true, options: { firstHour: hour, from: '2026-11-01T07' } });
  });

  it.each([
    ['2026-11-01', 'must be an hour'],
    ['2026-11-01 07', 'must be an hour'],
    ['2026-11-1T07', 'must be an hour'],
    ['2026-11-01T7', 'must be an hour'],
    ['1793512800000', 'must be an hour'],
    ['2026-11-01T07:00:00+01', 'must be an hour'],
    ['2026-11-01T07:30', 'hour boundary'],
    ['2026-11-01T07:00:01Z', 'hour boundary'],
    ['2026-11-01T07:00:00.001Z', 'hour boundary'],
    ['2026-11-01T07:00:00+00:30', 'hour boundary'],
    ['2026-11-01T24', 'not a valid date'],
    ['2026-02-29T00', 'not a valid date'],
    ['2026-13-01T00', 'not a valid date'],
    ['2026-11-01T07:60', 'not a valid date'],
    ['2026-11-01T07:00+24:00', 'time zone offset'],
  ])('rejects --from %j', (text, why) => {
    expectError(parse(['--from', text, '--to', '2026-11-02T00']), `Invalid --from '${text.trim()}'`, why);
  });

  it('rejects --to the same way', () => {
    expectError(parse(['--from', '2026-11-01T00', '--to', '2026-11-01T00:15']), "Invalid --to '2026-11-01T00:15'", 'hour boundary');
  });

  it('requires both hours', () => {
    expectError(parse([]), 'Missing option --from');
    expectError(parse(['--from', '2026-11-01T00']), 'Missing option --to');
    expectError(parse(['--to', '2026-11-01T00']), 'Missing option --from');
  });

  it('requires --from not after --to', () => {
    expectError(parse(['--from', '2026-11-01T01', '--to', '2026-11-01T00']), '--to 2026-11-01T00 is before --from 2026-11-01T01');
  });

  it(`accepts at most ${MAX_HOURS} hours (31 days)`, () => {
    expect(parse(['--from', '2026-10-01T00', '--to', '2026-10-31T23'])).toMatchObject({ ok: true, options: { hours: 744 } });
    expectError(parse(['--from', '2026-10-01T00', '--to', '2026-11-01T00']), '745 hours', 'at most 744');
  });

  it('accepts only hours that have ended', () => {
    // NOW is 14:18: 13:00 has ended, 14:00 has not.
    expect(parse(['--from', '2026-11-23T13', '--to', '2026-11-23T13'])).toMatchObject({ ok: true, options: { hours: 1 } });
    expectError(parse(['--from', '2026-11-23T13', '--to', '2026-11-23T14']), '--to 2026-11-23T14 has not ended yet', 'closed hours');
    expectError(parse(['--from', '2027-01-01T00', '--to', '2027-01-01T00']), 'has not ended yet');
  });

  it.each([
    ['not a url', 'http(s) URL'],
    ['127.0.0.1:8000', 'http(s) URL'],
    ['localhost:8000', 'http or https'],
    ['ftp://127.0.0.1:8000', 'http or https'],
    ['http://key:secret@127.0.0.1:8000', 'no credentials'],
    ['http://127.0.0.1:8000/?x=1', 'query string'],
  ])('rejects --dynamodb-endpoint %j', (url, why) => {
    expectError(parse([...RANGE, `--dynamodb-endpoint=${url}`]), '--dynamodb-endpoint', why);
  });

  it('rejects empty paths and a bad local table name', () => {
    expectError(parse([...RANGE, '--lake=']), '--lake must not be empty');
    expectError(parse([...RANGE, '--config', ' ']), '--config must not be empty');
    expectError(parse([...RANGE, '--table', 'a b c']), "Invalid --table 'a b c'");
  });

  it.each([[['--help']], [['-h']], [[...RANGE, '--help']], [['--from', 'yesterday', '--bogus', '-h']]])('returns help for %j, even next to invalid options', (argv) => {
    expect(parse(argv)).toEqual({ help: true });
  });

  it('rejects unknown options, naming them and listing the allowed ones', () => {
    expectError(parse([...RANGE, '--lakes', 'x']), "'--lakes'", '--lake', '--dynamodb-endpoint');
    expectError(parse([...RANGE, '-x']), "'-x'");
  });

  it('rejects positional arguments', () => {
    expectError(parse([...RANGE, 'extra']), "'extra'");
    expectError(parse([...RANGE, '--', '--json']), "'--json'");
  });

  it('rejects an option given twice', () => {
    expectError(parse([...RANGE, '--from', '2026-11-01T01']), '--from is given more than once');
    expectError(parse([...RANGE, '--json', '--json']), '--json is given more than once');
  });

  it('rejects an option whose value is missing, and a value on a flag', () => {
    expectError(parse(['--from', '2026-11-01T00', '--to']), '--to needs a value');
    expectError(parse(['--from', '--to', '2026-11-01T00']), '--from needs a value');
    expectError(parse([...RANGE, '--json=true']), '--json', 'takes no value');
  });

  it('never throws, whatever the arguments', () => {
    const piece = fc.oneof(
      fc.constantFrom('--from', '--to', '--engine', 'athena', 'duckdb', '--lake', '--table', '--json', '--help', '--', '-'),
      fc.constantFrom('2026-11-01T00', '2026-11-01T05:00:00Z', '--region=eu-west-1', '--workgroup=w', '--database=d', '--dynamodb-endpoint=http://x'),
      fc.string(),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 10 }), (argv) => {
        const result = parse(argv);
        if ('help' in result) return;
        if (result.ok) {
          expect(result.options.hours).toBeGreaterThanOrEqual(1);
          expect(result.options.hours).toBeLessThanOrEqual(MAX_HOURS);
          expect(result.options.lastHour + 3_600_000).toBeLessThanOrEqual(NOW);
        } else {
          expect(result.error).not.toMatch(/\n/);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('AGGREGATE_USAGE', () => {
  it('documents every option and the exit codes', () => {
    for (const option of ['--from', '--to', '--engine', '--config', '--json', '--help', '--lake', '--dynamodb-endpoint', '--table', '--workgroup', '--database', '--region', 'AWS_REGION']) {
      expect(AGGREGATE_USAGE).toContain(option);
    }
    expect(AGGREGATE_USAGE).toMatch(/^ {2}0 /m);
    expect(AGGREGATE_USAGE).toMatch(/^ {2}1 /m);
    expect(AGGREGATE_USAGE).toMatch(/^ {2}2 /m);
  });
});
