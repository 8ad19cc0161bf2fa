import { OptionError, parseCommandLine, type ParseOutcome, type RawOptions } from '../cli/options';

/** Validated options of the load generator (see {@link LOAD_USAGE}). */
export interface LoadOptions {
  /** Base URL of the API stage, e.g. `https://abc.execute-api.us-east-1.amazonaws.com/prod`. */
  url: string;
  /** Cognito ID token, sent as-is as the `Authorization` header value. */
  token: string;
  /** Number of requests to send. */
  count: number;
  /** Maximum number of requests in flight; never more than `count`. */
  concurrency: number;
  /** Resource path appended to the base URL's path, starting with `/`. */
  path: string;
  /** Query string without the leading `?` (may be empty). */
  query: string;
  /** Per-request timeout in milliseconds. */
  timeoutMs: number;
  /** Print the summary as one JSON line instead of a table. */
  json: boolean;
}

/** Result of {@link parseLoadOptions}. */
export type ParseLoadOptionsResult = ParseOutcome<LoadOptions>;

export const LOAD_LIMITS = {
  count: { min: 1, max: 1_000_000, default: 100 },
  concurrency: { min: 1, max: 1000, default: 10 },
  timeoutMs: { min: 1, max: 300_000, default: 10_000 },
} as const;

const DEFAULT_PATH = '/random/strings';
const DEFAULT_QUERY = 'len=7';
const EXAMPLE_URL = 'https://abc.execute-api.us-east-1.amazonaws.com/prod';

/** Usage text printed by `--help`. */
export const LOAD_USAGE = `Usage: npm run load -- --url <base url> --token <ID token> [options]

Sends GET requests to the metered REST API and prints a status/latency summary.

Required:
  --url <url>          Base URL of the API stage, e.g.
                       ${EXAMPLE_URL}
  --token <token>      Cognito ID token, sent as the Authorization header value
                       (the raw token, no "Bearer" prefix)

Options:
  --count <n>          Number of requests, ${range(LOAD_LIMITS.count)}
  --concurrency <n>    Requests in flight at most, ${range(LOAD_LIMITS.concurrency)};
                       capped at --count
  --path <path>        Resource path below the stage, default ${DEFAULT_PATH}
  --query <query>      Query string, default ${DEFAULT_QUERY} ("" for none)
  --timeout-ms <ms>    Per-request timeout, ${range(LOAD_LIMITS.timeoutMs)}
  --json               Print the summary as one JSON line instead of a table
  -h, --help           Show this help

Exit codes:
  0    every request got a 2xx response
  1    some request got another status, or no response (timeout, connection error)
  2    invalid options
  130  interrupted with Ctrl-C (the summary covers the completed requests)
`;

function range(limits: { min: number; max: number; default: number }): string {
  return `${limits.min}..${limits.max} (default ${limits.default})`;
}

const OPTION_CONFIG = {
  url: { type: 'string' },
  token: { type: 'string' },
  count: { type: 'string' },
  concurrency: { type: 'string' },
  path: { type: 'string' },
  query: { type: 'string' },
  'timeout-ms': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type OptionName = keyof typeof OPTION_CONFIG;

/**
 * Parses and validates the load generator's command-line arguments.
 *
 * Pure (does not touch the process) and does not throw on any input: every problem is
 * returned as a one-line message naming the option and what is allowed. `--help`/`-h`
 * wins over everything else. `concurrency` is capped at `count`. A negative number given
 * as a separate argument (`--count -5`) is kept as the value, so validation names the range;
 * a repeated option counts with its last value.
 *
 * @param argv arguments after the script name (`process.argv.slice(2)`)
 */
export function parseLoadOptions(argv: readonly string[]): ParseLoadOptionsResult {
  return parseCommandLine(argv, OPTION_CONFIG, validate, { negativeNumberValues: true, repeats: true });
}

function validate(raw: RawOptions<typeof OPTION_CONFIG>): LoadOptions {
  const count = parseInteger('count', raw.count, LOAD_LIMITS.count);
  const concurrency = parseInteger('concurrency', raw.concurrency, LOAD_LIMITS.concurrency);
  return {
    url: parseBaseUrl(raw.url),
    token: parseToken(raw.token),
    count,
    concurrency: Math.min(concurrency, count),
    path: parsePath(raw.path),
    query: parseQuery(raw.query),
    timeoutMs: parseInteger('timeout-ms', raw['timeout-ms'], LOAD_LIMITS.timeoutMs),
    json: raw.json === true,
  };
}

function parseInteger(
  name: OptionName,
  value: string | boolean | undefined,
  limits: { min: number; max: number; default: number },
): number {
  if (value === undefined) return limits.default;
  const text = String(value).trim();
  const parsed = /^\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < limits.min || parsed > limits.max) {
    throw new OptionError(
      `Invalid --${name} '${String(value)}': must be an integer from ${limits.min} to ${limits.max}.`,
    );
  }
  return parsed;
}

function parseBaseUrl(value: string | boolean | undefined): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new OptionError(`Missing required option --url (base URL of the stage, e.g. ${EXAMPLE_URL}).`);
  }
  const text = value.trim();
  const invalid = (why: string) => new OptionError(`Invalid --url '${text}': ${why}.`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(`must be an absolute http(s) URL such as ${EXAMPLE_URL}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid('must use http or https');
  if (url.username !== '' || url.password !== '') throw invalid('must not contain credentials');
  if (url.search !== '' || url.hash !== '' || text.includes('?') || text.includes('#')) {
    throw invalid('must not contain a query string or fragment (use --path and --query)');
  }
  return text;
}

function parseToken(value: string | boolean | undefined): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new OptionError('Missing required option --token (Cognito ID token).');
  }
  const token = value.trim();
  // A JWT never contains whitespace or control characters; this also catches "Bearer <jwt>".
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(token)) {
    throw new OptionError(
      "Invalid --token: must be the raw ID token (no 'Bearer ' prefix, no whitespace or control characters).",
    );
  }
  return token;
}

function parsePath(value: string | boolean | undefined): string {
  if (value === undefined) return DEFAULT_PATH;
  const path = String(value);
  if (!path.startsWith('/') || /[?#\s]/.test(path)) {
    throw new OptionError(
      `Invalid --path '${path}': must start with '/' and contain no '?', '#' or whitespace (e.g. ${DEFAULT_PATH}).`,
    );
  }
  return path;
}

function parseQuery(value: string | boolean | undefined): string {
  if (value === undefined) return DEFAULT_QUERY;
  const query = String(value).replace(/^\?/, '');
  if (/[#\s]/.test(query)) {
    throw new OptionError(
      `Invalid --query '${String(value)}': must contain no '#' or whitespace (e.g. ${DEFAULT_QUERY}).`,
    );
  }
  return query;
}
