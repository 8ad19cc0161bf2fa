import { athenaRegion, chooseEngine, OptionError, parseCommandLine, type ParseOutcome, type RawOptions as RawOptionsOf } from '../cli/options';

/**
 * Options of the backfill command `npm run aggregate` (see {@link AGGREGATE_USAGE}): pure parsing and
 * validation, no I/O. The environment (for AWS_REGION) and the clock (only closed hours can be
 * aggregated) are passed in.
 */

const HOUR_MS = 3_600_000;

/** Most hours one call aggregates: 31 days. */
export const MAX_HOURS = 744;

export const AGGREGATE_DEFAULTS = {
  engine: 'duckdb',
  config: 'config/metering.json',
  lake: '.local/lake',
  /** Usage table of the local engine. */
  table: 'usage',
  /** Where the embedded DynamoDB-compatible server keeps its data when no endpoint is given. */
  dynamoDbPath: '.local/dynamodb',
} as const;

/** Where the hours are read and the usage hours written. */
export type AggregateTarget =
  | {
      readonly engine: 'duckdb';
      /** Root of the local Parquet lake (`<lake>/access_logs/hour=…/*.parquet`). */
      readonly lake: string;
      /** A DynamoDB-compatible server; absent: start an embedded one persisted in {@link AGGREGATE_DEFAULTS.dynamoDbPath}. */
      readonly dynamoDbEndpoint?: string;
      readonly table: string;
    }
  | {
      readonly engine: 'athena';
      readonly workgroup: string;
      readonly database: string;
      /** The DynamoDB usage table. */
      readonly table: string;
      readonly region: string;
    };

/** Validated options of `npm run aggregate`. */
export interface AggregateOptions {
  /** First hour, as an hour key (`2026-11-01T00`). */
  readonly from: string;
  /** Last hour (included), as an hour key. */
  readonly to: string;
  /** Start of the first hour, epoch ms. */
  readonly firstHour: number;
  /** Start of the last hour, epoch ms. */
  readonly lastHour: number;
  /** Number of hours, 1 to {@link MAX_HOURS}. */
  readonly hours: number;
  /** Path of the metering configuration (JSON). */
  readonly config: string;
  /** Print the report as one JSON line. */
  readonly json: boolean;
  readonly target: AggregateTarget;
}

export type ParseAggregateOptionsResult = ParseOutcome<AggregateOptions>;

/** What the parser may read besides the arguments. */
export interface AggregateOptionsContext {
  /** Environment variables (AWS_REGION). @default {} */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Current time, epoch ms: the last hour must have ended by then. */
  readonly now: number;
}

export const AGGREGATE_USAGE = `Usage: npm run aggregate -- --from <hour> --to <hour> [options]

Aggregates the hours from..to (both included) from the access-log lake into the usage table: a
backfill or a re-run of chosen hours. It does not move the scheduled run's cursor. Safe to repeat
or to run next to the scheduled aggregation: every write is conditional, so an hour done twice
changes nothing, and late requests found by a later run are recorded as updates.

Hours are UTC: yyyy-mm-ddThh (2026-11-01T00), or an ISO time on an hour boundary
(2026-11-01T00:00:00Z; without a zone it is read as UTC). At most ${MAX_HOURS} hours (31 days) per call;
--to must be an hour that has ended.

Required:
  --from <hour>               first hour
  --to <hour>                 last hour, included

Options:
  --engine <duckdb|athena>    where the access logs are queried (default ${AGGREGATE_DEFAULTS.engine})
  --config <file>             metering configuration (default ${AGGREGATE_DEFAULTS.config})
  --json                      print the report as one JSON line
  -h, --help                  show this help

Local (--engine duckdb):
  --lake <dir>                local Parquet lake (default ${AGGREGATE_DEFAULTS.lake})
  --dynamodb-endpoint <url>   a DynamoDB-compatible local server (dynalite, DynamoDB Local);
                              default: an embedded one, persisted in ${AGGREGATE_DEFAULTS.dynamoDbPath}
  --table <name>              usage table, created if missing (default ${AGGREGATE_DEFAULTS.table})

AWS (--engine athena; credentials from the usual AWS sources):
  --workgroup <name>          Athena workgroup of the usage lake
  --database <name>           Glue database of the access-log table
  --table <name>              DynamoDB usage table
  --region <region>           AWS region (default: $AWS_REGION)

Exit codes:
  0    every hour aggregated
  1    failed while running (hours that did not finish are not marked aggregated: run the
       same command again, re-running is safe)
  2    invalid options or metering configuration
`;

const OPTION_CONFIG = {
  from: { type: 'string' },
  to: { type: 'string' },
  engine: { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean' },
  lake: { type: 'string' },
  'dynamodb-endpoint': { type: 'string' },
  table: { type: 'string' },
  workgroup: { type: 'string' },
  database: { type: 'string' },
  region: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type OptionName = keyof typeof OPTION_CONFIG;
type RawOptions = RawOptionsOf<typeof OPTION_CONFIG>;

const ENGINE_ONLY: Record<'duckdb' | 'athena', readonly OptionName[]> = {
  duckdb: ['lake', 'dynamodb-endpoint'],
  athena: ['workgroup', 'database', 'region'],
};

/** DynamoDB table names. */
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
/** Athena workgroup names. */
const WORKGROUP = /^[A-Za-z0-9._-]{1,128}$/;
/** Glue database names (Athena: letters, digits, underscore; hyphens tolerated). */
const DATABASE = /^[A-Za-z0-9_-]{1,255}$/;
/** `yyyy-mm-ddThh`, then optionally `:mm`, `:ss`, `.fff…` and a zone (`Z`, `±hh:mm`, `±hhmm`). */
const HOUR_TEXT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Parses and validates the arguments of `npm run aggregate` (after the script name). Never throws:
 * every problem comes back as one line naming the option and what is allowed. `--help`/`-h` wins
 * over everything else.
 */
export function parseAggregateOptions(argv: readonly string[], context: AggregateOptionsContext): ParseAggregateOptionsResult {
  return parseCommandLine(argv, OPTION_CONFIG, (raw) => validate(raw, context));
}

function validate(raw: RawOptions, context: AggregateOptionsContext): AggregateOptions {
  const firstHour = parseHour('from', raw.from);
  const lastHour = parseHour('to', raw.to);
  if (lastHour < firstHour) throw new OptionError(`--to ${hourKey(lastHour)} is before --from ${hourKey(firstHour)}.`);
  const hours = (lastHour - firstHour) / HOUR_MS + 1;
  if (hours > MAX_HOURS) {
    throw new OptionError(`--from ${hourKey(firstHour)} to --to ${hourKey(lastHour)} is ${hours} hours; at most ${MAX_HOURS} (31 days) per call: split the range.`);
  }
  if (lastHour + HOUR_MS > context.now) {
    throw new OptionError(`--to ${hourKey(lastHour)} has not ended yet (now ${new Date(context.now).toISOString()}): only closed hours can be aggregated.`);
  }
  const engine = chooseEngine(stringOption(raw, 'engine'), AGGREGATE_DEFAULTS.engine, ENGINE_ONLY, (name) => raw[name] !== undefined);
  return {
    from: hourKey(firstHour),
    to: hourKey(lastHour),
    firstHour,
    lastHour,
    hours,
    config: nonEmpty(raw, 'config') ?? AGGREGATE_DEFAULTS.config,
    json: raw.json === true,
    target: engine === 'duckdb' ? duckDbTarget(raw) : athenaTarget(raw, context.env ?? {}),
  };
}

function duckDbTarget(raw: RawOptions): AggregateTarget {
  const endpoint = stringOption(raw, 'dynamodb-endpoint');
  return {
    engine: 'duckdb',
    lake: nonEmpty(raw, 'lake') ?? AGGREGATE_DEFAULTS.lake,
    ...(endpoint === undefined ? {} : { dynamoDbEndpoint: parseEndpoint(endpoint) }),
    table: matching(raw, 'table', TABLE_NAME, '3-255 characters among A-Z a-z 0-9 _ . -') ?? AGGREGATE_DEFAULTS.table,
  };
}

function athenaTarget(raw: RawOptions, env: Readonly<Record<string, string | undefined>>): AggregateTarget {
  const required = (name: OptionName, pattern: RegExp, rule: string, what: string): string => {
    const value = matching(raw, name, pattern, rule);
    if (value === undefined) throw new OptionError(`Missing option --${name} (${what}): required with --engine athena.`);
    return value;
  };
  const workgroup = required('workgroup', WORKGROUP, '1-128 characters among A-Z a-z 0-9 . _ -', 'Athena workgroup');
  const database = required('database', DATABASE, '1-255 characters among A-Z a-z 0-9 _ -', 'Glue database of the access logs');
  const table = required('table', TABLE_NAME, '3-255 characters among A-Z a-z 0-9 _ . -', 'DynamoDB usage table');
  return { engine: 'athena', workgroup, database, table, region: athenaRegion(stringOption(raw, 'region'), env) };
}

function stringOption(raw: RawOptions, name: OptionName): string | undefined {
  const value = raw[name];
  return value === undefined ? undefined : String(value);
}

function nonEmpty(raw: RawOptions, name: OptionName): string | undefined {
  const value = stringOption(raw, name);
  if (value !== undefined && value.trim() === '') throw new OptionError(`Option --${name} must not be empty.`);
  return value;
}

function matching(raw: RawOptions, name: OptionName, pattern: RegExp, rule: string): string | undefined {
  const value = stringOption(raw, name);
  if (value !== undefined && !pattern.test(value)) throw new OptionError(`Invalid --${name} '${value}': must be ${rule}.`);
  return value;
}

function parseEndpoint(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new OptionError(`Invalid --dynamodb-endpoint '${text}': must be an http(s) URL such as http://127.0.0.1:8000.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OptionError(`Invalid --dynamodb-endpoint '${text}': must use http or https.`);
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new OptionError(`Invalid --dynamodb-endpoint '${text}': must have no credentials, query string or fragment.`);
  }
  return text;
}

/** `2026-11-23T10`. */
function hourKey(millis: number): string {
  return new Date(millis).toISOString().slice(0, 13);
}

/** Start (epoch ms) of the hour named by `value`; an error names the option when it is not an hour. */
function parseHour(name: 'from' | 'to', value: string | true | undefined): number {
  if (value === undefined) throw new OptionError(`Missing option --${name} (an hour, yyyy-mm-ddThh in UTC).`);
  const text = String(value).trim();
  const invalid = (why: string) => new OptionError(`Invalid --${name} '${text}': ${why}.`);
  const match = HOUR_TEXT.exec(text);
  if (!match) throw invalid('must be an hour, yyyy-mm-ddThh in UTC (2026-11-01T00), or an ISO time on an hour boundary (2026-11-01T00:00:00Z)');
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => (part === undefined ? 0 : Number(part)));
  const fraction = match[7] ?? '';
  const local = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(local);
  if (
    date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day ||
    date.getUTCHours() !== hour || date.getUTCMinutes() !== minute || date.getUTCSeconds() !== second
  ) {
    throw invalid('not a valid date and time');
  }
  const offset = zoneOffsetMinutes(match[8]);
  if (offset === undefined) throw invalid(`bad time zone offset '${match[8]}'`);
  const millis = local - offset * 60_000;
  if (!/^0*$/.test(fraction) || millis % HOUR_MS !== 0) throw invalid('not on an hour boundary (minutes, seconds and fraction must be zero in UTC)');
  return millis;
}

/** Minutes east of UTC of `Z`, `+hh:mm`, `-hhmm`; 0 when absent (UTC); undefined when out of range. */
function zoneOffsetMinutes(zone: string | undefined): number | undefined {
  if (zone === undefined || zone.toUpperCase() === 'Z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2));
  if (hours > 23 || minutes > 59) return undefined;
  return (zone.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
}
