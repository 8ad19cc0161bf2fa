import { OptionError, parseCommandLine, type ParseOutcome, type RawOptions as RawOptionsOf } from '../cli/options';

/** Options of `npm start` (see {@link START_USAGE}): pure parsing and validation, no I/O. */

export const START_DEFAULTS = {
  tenants: 4,
  hours: 6,
  requests: 120,
  seed: 1,
  out: '.local/run',
  port: 8080,
} as const;

/** Limits that keep a run on a laptop within minutes, not hours. */
export const START_LIMITS = {
  tenants: 50,
  /** Marketplace accepts records up to 6 hours old; the run meters every hour as it goes, so any length works; a week is plenty. */
  hours: 168,
  requests: 5000,
} as const;

export interface StartOptions {
  readonly tenants: number;
  readonly hours: number;
  /** Mean GET /random/strings calls per tenant and hour. */
  readonly requests: number;
  readonly seed: number;
  /** Folder of the report (report.html, report.json) and of the run's lake. */
  readonly out: string;
  /** Keep the API and the report page running. */
  readonly serve: boolean;
  /** Port of the API with --serve (the report page is served on the next port). */
  readonly port: number;
}

export const START_USAGE = `Usage: npm start -- [options]

Runs the whole metering and billing flow on local engines (no AWS account, no network): onboards
sample tenants through the Marketplace subscription and registration flow, serves the metered API
with a local JWT authorizer, drives simulated traffic (errors, duplicated and late deliveries,
custom usage events) through the real transform into a DuckDB lake, runs aggregation, Marketplace
metering against the simulator, rating and cost allocation hour by hour, reconciles true usage
with what was aggregated and billed, and writes a report.

Options:
  --tenants <n>     sample tenants (default ${START_DEFAULTS.tenants}, at most ${START_LIMITS.tenants})
  --hours <n>       hours simulated, ending at the start of the current hour (default ${START_DEFAULTS.hours}, at most ${START_LIMITS.hours})
  --requests <n>    mean API calls per tenant and hour (default ${START_DEFAULTS.requests}, at most ${START_LIMITS.requests})
  --seed <n>        seed of the simulated traffic (default ${START_DEFAULTS.seed}); the same seed gives the same traffic
  --out <folder>    where report.html, report.json and the run's lake go (default ${START_DEFAULTS.out})
  --serve           keep the API and the report page running afterwards (Ctrl-C stops them)
  --port <n>        port of the API with --serve (default ${START_DEFAULTS.port}); the report page uses the next one
  -h, --help        show this help

Exit codes:
  0    the run finished and the reconciliation is exact
  1    the run failed, or the reconciliation found a difference (the report says which)
  2    invalid options, or the output folder cannot be written
`;

const OPTION_CONFIG = {
  tenants: { type: 'string' },
  hours: { type: 'string' },
  requests: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  serve: { type: 'boolean' },
  port: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type RawOptions = RawOptionsOf<typeof OPTION_CONFIG>;

function wholeNumber(raw: RawOptions, name: 'tenants' | 'hours' | 'requests' | 'seed' | 'port', fallback: number, min: number, max: number): number {
  const text = raw[name];
  if (text === undefined) return fallback;
  if (typeof text !== 'string' || !/^\d+$/.test(text)) throw new OptionError(`--${name} must be a whole number from ${min} to ${max}, got '${String(text)}'.`);
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new OptionError(`--${name} must be a whole number from ${min} to ${max}, got ${text}.`);
  return value;
}

function validate(raw: RawOptions): StartOptions {
  const out = raw.out ?? START_DEFAULTS.out;
  if (typeof out !== 'string' || out.trim() === '') throw new OptionError('--out needs a folder.');
  if (raw.port !== undefined && raw.serve !== true) throw new OptionError('--port only applies with --serve.');
  return {
    tenants: wholeNumber(raw, 'tenants', START_DEFAULTS.tenants, 1, START_LIMITS.tenants),
    hours: wholeNumber(raw, 'hours', START_DEFAULTS.hours, 1, START_LIMITS.hours),
    requests: wholeNumber(raw, 'requests', START_DEFAULTS.requests, 1, START_LIMITS.requests),
    seed: wholeNumber(raw, 'seed', START_DEFAULTS.seed, 0, 2 ** 32 - 1),
    out,
    serve: raw.serve === true,
    // The report page is served on port + 1, so the API port stops one short of the top.
    port: wholeNumber(raw, 'port', START_DEFAULTS.port, 1024, 65534),
  };
}

/** Parses the arguments after `npm start --`; never throws for anything on the command line. */
export function parseStartOptions(argv: readonly string[]): ParseOutcome<StartOptions> {
  return parseCommandLine(argv, OPTION_CONFIG, validate);
}
