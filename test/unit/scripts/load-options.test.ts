import fc from 'fast-check';
import { LOAD_USAGE, parseLoadOptions, type ParseLoadOptionsResult } from '../../../scripts/load/options';

const URL_ARG = ['--url', 'https://abc.execute-api.us-east-1.amazonaws.com/prod'];
const TOKEN_ARG = ['--token', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln'];
const REQUIRED = [...URL_ARG, ...TOKEN_ARG];

function expectError(result: ParseLoadOptionsResult, ...fragments: string[]): void {
  expect(result).toEqual({ ok: false, error: expect.any(String) });
  const { error } = result as { error: string };
  for (const fragment of fragments) expect(error).toContain(fragment);
  expect(error).not.toMatch(/\n/);
}

describe('parseLoadOptions', () => {
  it('applies the defaults when only --url and --token are given', () => {
    expect(parseLoadOptions(REQUIRED)).toEqual({
      ok: true,
      options: {
        url: 'https://abc.execute-api.us-east-1.amazonaws.com/prod',
        token: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln',
        count: 100,
        concurrency: 10,
        path: '/random/strings',
        query: 'len=7',
        timeoutMs: 10000,
        json: false,
      },
    });
  });

  it('reads every option, in both --name value and --name=value forms', () => {
    const result = parseLoadOptions([
      '--url=http://127.0.0.1:8080/dev/',
      '--token',
      'tok',
      '--count=500',
      '--concurrency',
      '25',
      '--path',
      '/random/numbers',
      '--query=?len=12&x=1',
      '--timeout-ms',
      '2500',
      '--json',
    ]);
    expect(result).toEqual({
      ok: true,
      options: {
        url: 'http://127.0.0.1:8080/dev/',
        token: 'tok',
        count: 500,
        concurrency: 25,
        path: '/random/numbers',
        query: 'len=12&x=1',
        timeoutMs: 2500,
        json: true,
      },
    });
  });

  it('accepts the range limits and an empty query', () => {
    const result = parseLoadOptions([
      ...REQUIRED,
      '--count',
      '1000000',
      '--concurrency',
      '1000',
      '--timeout-ms',
      '1',
      '--query',
      '',
    ]);
    expect(result).toMatchObject({
      ok: true,
      options: { count: 1_000_000, concurrency: 1000, timeoutMs: 1, query: '' },
    });
  });

  it('caps the concurrency at the count, including the default concurrency', () => {
    expect(parseLoadOptions([...REQUIRED, '--count', '3'])).toMatchObject({
      ok: true,
      options: { count: 3, concurrency: 3 },
    });
    expect(parseLoadOptions([...REQUIRED, '--count', '5', '--concurrency', '50'])).toMatchObject({
      ok: true,
      options: { count: 5, concurrency: 5 },
    });
  });

  it('trims surrounding whitespace from the token', () => {
    expect(parseLoadOptions([...URL_ARG, '--token', ' abc.def.ghi\n'])).toMatchObject({
      ok: true,
      options: { token: 'abc.def.ghi' },
    });
  });

  it.each([[['--help']], [['-h']], [[...REQUIRED, '--help']], [['--count', 'zero', '--bogus', '-h']]])(
    'returns help for %j, even next to invalid options',
    (argv) => {
      expect(parseLoadOptions(argv)).toEqual({ help: true });
    },
  );

  it('reports missing required options', () => {
    expectError(parseLoadOptions([]), '--url');
    expectError(parseLoadOptions(TOKEN_ARG), 'Missing required option --url');
    expectError(parseLoadOptions(URL_ARG), 'Missing required option --token');
    expectError(parseLoadOptions([...URL_ARG, '--token', '  ']), '--token');
  });

  it.each(['0', '1000001', '1.5', 'abc', '1e3', '0x10', '', ' ', '+5', '-5', '99999999999999999999'])(
    'rejects --count %j naming the allowed range',
    (value) => {
      expectError(parseLoadOptions([...REQUIRED, `--count=${value}`]), '--count', '1 to 1000000');
    },
  );

  it('rejects a negative number given as a separate argument with the range, not "needs a value"', () => {
    expectError(parseLoadOptions([...REQUIRED, '--count', '-5']), "Invalid --count '-5'", '1 to 1000000');
  });

  it.each(['0', '1001', 'ten'])('rejects --concurrency %j', (value) => {
    expectError(parseLoadOptions([...REQUIRED, '--concurrency', value]), '--concurrency', '1 to 1000');
  });

  it.each(['0', '300001', '1.5s'])('rejects --timeout-ms %j', (value) => {
    expectError(parseLoadOptions([...REQUIRED, '--timeout-ms', value]), '--timeout-ms', '1 to 300000');
  });

  it.each([
    ['not a url', 'absolute http(s) URL'],
    ['/prod', 'absolute http(s) URL'],
    ['ftp://example.com/prod', 'http or https'],
    ['https://example.com/prod?len=7', 'query string'],
    ['https://example.com/prod#x', 'query string'],
    ['https://user:pw@example.com/prod', 'credentials'],
  ])('rejects --url %j', (url, why) => {
    expectError(parseLoadOptions(['--url', url, ...TOKEN_ARG]), '--url', why);
  });

  it('rejects a token with a Bearer prefix or inner whitespace', () => {
    expectError(parseLoadOptions([...URL_ARG, '--token', 'Bearer abc.def.ghi']), '--token', 'Bearer');
    expectError(parseLoadOptions([...URL_ARG, '--token', 'abc\r\nX-Injected: 1']), '--token');
  });

  it.each(['random/strings', '/random?len=7', '/a b', '/x#y'])('rejects --path %j', (path) => {
    expectError(parseLoadOptions([...REQUIRED, '--path', path]), '--path', "start with '/'");
  });

  it('rejects a query with a fragment or whitespace', () => {
    expectError(parseLoadOptions([...REQUIRED, '--query', 'len=7#x']), '--query');
    expectError(parseLoadOptions([...REQUIRED, '--query', 'len=7 x']), '--query');
  });

  it('rejects unknown options, naming them and listing the allowed ones', () => {
    expectError(parseLoadOptions([...REQUIRED, '--conc', '5']), "'--conc'", '--concurrency', '--timeout-ms');
    expectError(parseLoadOptions([...REQUIRED, '-x']), "'-x'");
  });

  it('rejects positional arguments', () => {
    expectError(parseLoadOptions([...REQUIRED, 'extra']), "'extra'");
    expectError(parseLoadOptions([...REQUIRED, '--', '--count']), "'--count'");
  });

  it('rejects an option whose value is missing', () => {
    expectError(parseLoadOptions([...TOKEN_ARG, '--url']), '--url needs a value');
    expectError(parseLoadOptions(['--url', ...TOKEN_ARG]), '--url needs a value');
    expectError(parseLoadOptions([...REQUIRED, '--count', '--json']), '--count needs a value');
  });

  it('rejects a value on a flag', () => {
    expectError(parseLoadOptions([...REQUIRED, '--json=false']), '--json', 'takes no value');
  });

  it('never throws, whatever the arguments', () => {
    const piece = fc.oneof(
      fc.constantFrom('--url', '--token', '--count', '--concurrency', '--json', '--help', '-h', '--', '-'),
      fc.constantFrom('--timeout-ms=', '--path=/x', '--query=a=b', 'http://127.0.0.1/prod', '7', '-1'),
      fc.string(),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (argv) => {
        const result = parseLoadOptions(argv);
        if ('help' in result) return;
        if (result.ok) {
          expect(result.options.concurrency).toBeLessThanOrEqual(result.options.count);
        } else {
          expect(result.error.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('LOAD_USAGE', () => {
  it('documents every option and the exit codes', () => {
    for (const option of [
      '--url',
      '--token',
      '--count',
      '--concurrency',
      '--path',
      '--query',
      '--timeout-ms',
    ]) {
      expect(LOAD_USAGE).toContain(option);
    }
    expect(LOAD_USAGE).toContain('--json');
    expect(LOAD_USAGE).toContain('--help');
    expect(LOAD_USAGE).toMatch(/Exit codes/);
  });
});
