import { parseStartOptions, START_DEFAULTS, START_LIMITS } from '../../../scripts/start/options';

const ok = (argv: string[]) => {
  const parsed = parseStartOptions(argv);
  if (!('ok' in parsed) || !parsed.ok) throw new Error(`expected options, got ${JSON.stringify(parsed)}`);
  return parsed.options;
};
const error = (argv: string[]) => {
  const parsed = parseStartOptions(argv);
  if (!('ok' in parsed) || parsed.ok) throw new Error(`expected an error, got ${JSON.stringify(parsed)}`);
  return parsed.error;
};

describe('npm start options', () => {
  it('defaults to a run that finishes within a minute', () => {
    expect(ok([])).toEqual({ tenants: START_DEFAULTS.tenants, hours: START_DEFAULTS.hours, requests: START_DEFAULTS.requests, seed: START_DEFAULTS.seed, out: '.local/run', serve: false, port: 8080 });
  });

  it('takes every option', () => {
    expect(ok(['--tenants', '2', '--hours=3', '--requests', '10', '--seed', '0', '--out', '/tmp/x', '--serve', '--port', '9000'])).toEqual({ tenants: 2, hours: 3, requests: 10, seed: 0, out: '/tmp/x', serve: true, port: 9000 });
  });

  it('asks for help with -h or --help, whatever else is given', () => {
    expect(parseStartOptions(['--tenants', 'x', '--help'])).toMatchObject({ help: true });
    expect(parseStartOptions(['-h'])).toMatchObject({ help: true });
  });

  it.each([
    [['--tenants', '0'], `--tenants must be a whole number from 1 to ${START_LIMITS.tenants}, got 0.`],
    [['--tenants', String(START_LIMITS.tenants + 1)], `--tenants must be a whole number from 1 to ${START_LIMITS.tenants}, got ${START_LIMITS.tenants + 1}.`],
    [['--hours', '1.5'], `--hours must be a whole number from 1 to ${START_LIMITS.hours}, got '1.5'.`],
    [['--requests', '-3'], "Option --requests needs a value (use --requests=<value> for a value starting with '-')."],
    [['--requests=-3'], `--requests must be a whole number from 1 to ${START_LIMITS.requests}, got '-3'.`],
    [['--seed', 'abc'], "--seed must be a whole number from 0 to 4294967295, got 'abc'."],
    [['--port', '80', '--serve'], '--port must be a whole number from 1024 to 65534, got 80.'],
    [['--port', '9000'], '--port only applies with --serve.'],
    [['--out', ''], '--out needs a folder.'],
    [['--serve=yes'], "Option --serve is a flag and takes no value (got 'yes')."],
    [['--tenant', '3'], expect.stringContaining("Unknown option '--tenant'")],
    [['extra'], "Unexpected argument 'extra': all inputs are --options."],
    [['--hours', '2', '--hours', '3'], 'Option --hours is given more than once.'],
  ])('refuses %j with a clear message', (argv, message) => {
    expect(error(argv as string[])).toEqual(message);
  });
});
