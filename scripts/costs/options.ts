import * as path from 'node:path';
import { MARGIN_FORMATS, type MarginFormat } from '../../core/cost/margin-render';
import { InvalidPeriodError, parseBillingMonth } from '../../core/pricing/invoice-period';
import { athenaRegion, chooseEngine, OptionError, nonEmptyOption, optionText, parseCommandLine, type ParseOutcome, type RawOptions as RawOptionsOf } from '../cli/options';

/**
 * Options of the margin report `npm run costs` (see {@link COSTS_USAGE}): pure parsing and validation,
 * no I/O. The environment (for AWS_REGION) is passed in.
 */

const DAY_MS = 86_400_000;

/** Most days one report covers: a quarter (three months of 31 days). */
export const MAX_DAYS = 93;

/** Name of the CUR 2.0 table the stack creates in the usage database (modules/cost-allocation/cur-table.ts `CUR_TABLE`). */
export const STACK_CUR_TABLE = 'cur2_cost_and_usage';

export const COSTS_DEFAULTS = {
  engine: 'duckdb',
  format: 'text',
  allocation: 'config/cost-allocation.json',
  pricing: 'config/pricing.json',
  metering: 'config/metering.json',
  lake: '.local/lake',
  /** The tenant metrics' namespace in the stack and in the local run (`POWERTOOLS_METRICS_NAMESPACE`). */
  namespace: 'SaaSMetering/Tenants',
  costTable: STACK_CUR_TABLE,
} as const;

/** The days a report covers, `[start, end)` in epoch ms, whole UTC days. */
export interface ReportPeriod {
  readonly start: number;
  readonly end: number;
  /** Number of days, 1 to {@link MAX_DAYS}. */
  readonly days: number;
  /** `2026-11` for --period, `2026-11-01..2026-11-07` for --from/--to. */
  readonly label: string;
  /** `YYYY-MM` when the days are one calendar month (always with --period). */
  readonly month?: string;
}

/** Where the cost, the consumption and the usage are read. */
export type CostsTarget =
  | {
      readonly engine: 'duckdb';
      /** Root of the local Parquet lake. */
      readonly lake: string;
      /** The cost file (core/cost/cost-file.ts). */
      readonly costs: string;
      /** A file of captured tenant metrics, one EMF JSON object per line; absent: no such consumption. */
      readonly metrics?: string;
    }
  | {
      readonly engine: 'athena';
      readonly workgroup: string;
      /** Glue database of the usage lake (access logs, usage events). */
      readonly database: string;
      /** Glue database of the CUR 2.0 table. */
      readonly costDatabase: string;
      /** The CUR 2.0 table. */
      readonly costTable: string;
      /** Log groups of the functions that write tenant metrics; empty: no such consumption. */
      readonly logGroups: readonly string[];
      readonly region: string;
    };

/** Validated options of `npm run costs`. */
export interface CostsOptions {
  readonly period: ReportPeriod;
  readonly format: MarginFormat;
  /** Output file; absent: stdout. */
  readonly out?: string;
  /** Cost allocation configuration. */
  readonly allocation: string;
  readonly pricing: string;
  readonly metering: string;
  /** Only tenant metrics of this CloudWatch namespace count. */
  readonly namespace: string;
  readonly target: CostsTarget;
}

export type ParseCostsOptionsResult = ParseOutcome<CostsOptions>;

export const COSTS_USAGE = `Usage: npm run costs -- (--period <YYYY-MM> | --from <YYYY-MM-DD> --to <YYYY-MM-DD>) [options]

Margin per tenant: revenue (each tenant's invoice preview total, rated as npm run invoice rates it)
against the AWS cost allocated to the tenant, day by day and service by service, with the rules of
the cost allocation configuration (see docs/cost-allocation.md).

  cost          the cost lines of the days: a cost file (duckdb) or the CUR 2.0 table (athena)
  consumption   per tenant and day: requests and response bytes from the usage lake; Lambda
                invocations, duration and DynamoDB capacity from the tenant metrics (an EMF lines
                file, or CloudWatch Logs Insights over --log-groups)
  tenants       every tenant with usage or consumption in the days; each is rated, so every tenant
                with revenue is listed. A resource tagged for a tenant with neither is unallocated
  revenue       each tenant's plan (tenantPlans, else defaultPlan), the days' usage measured with
                the aggregation's SQL. With --from/--to the days are rated as one billing period:
                free allowances and tiers start from zero and the flat fee and minimum commitment
                are charged whole, not prorated; use --period for a month's margin

Cost nobody could be given is a row of its own (unallocated) and the reasons go to stderr, with
the rounding difference and usage the plans do not price. All amounts are exact.

Period (one of):
  --period <YYYY-MM>            a calendar month (UTC), e.g. 2026-11
  --from <YYYY-MM-DD>           first day (UTC) ...
  --to <YYYY-MM-DD>             ... and last day, included; at most ${MAX_DAYS} days

Options:
  --format <text|csv|json>      output format (default: from the --out extension .txt, .csv or
                                .json; else ${COSTS_DEFAULTS.format})
  --out <file>                  write to this file (replaced whole, never half-written); default stdout
  --allocation <file>           cost allocation configuration (default ${COSTS_DEFAULTS.allocation})
  --pricing <file>              pricing configuration (default ${COSTS_DEFAULTS.pricing})
  --metering <file>             metering configuration (default ${COSTS_DEFAULTS.metering})
  --namespace <name>            CloudWatch namespace of the tenant metrics (default ${COSTS_DEFAULTS.namespace})
  --engine <duckdb|athena>      where everything is read (default ${COSTS_DEFAULTS.engine})
  -h, --help                    show this help

Local (--engine duckdb):
  --lake <dir>                  local Parquet lake (default ${COSTS_DEFAULTS.lake})
  --costs <file>                cost file, required (JSON { currency, lines }; see local/cost/sample-costs.json)
  --metrics <file>              captured tenant metrics, one EMF JSON object per line

AWS (--engine athena; credentials from the usual AWS sources):
  --workgroup <name>            Athena workgroup of the usage lake
  --database <name>             Glue database of the access-log table
  --cost-database <name>        Glue database of the CUR 2.0 table (default: --database)
  --cost-table <name>           the CUR 2.0 table (default ${COSTS_DEFAULTS.costTable})
  --log-groups <a,b,...>        log groups (names or ARNs) of the functions writing tenant metrics
  --region <region>             AWS region (default: $AWS_REGION)

Exit codes:
  0    report written
  1    failed while running (nothing written to --out)
  2    invalid options, configuration or input (nothing written)
`;

const OPTION_CONFIG = {
  period: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  allocation: { type: 'string' },
  pricing: { type: 'string' },
  metering: { type: 'string' },
  namespace: { type: 'string' },
  engine: { type: 'string' },
  lake: { type: 'string' },
  costs: { type: 'string' },
  metrics: { type: 'string' },
  workgroup: { type: 'string' },
  database: { type: 'string' },
  'cost-database': { type: 'string' },
  'cost-table': { type: 'string' },
  'log-groups': { type: 'string' },
  region: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type OptionName = keyof typeof OPTION_CONFIG;
type RawOptions = RawOptionsOf<typeof OPTION_CONFIG>;

const ENGINE_ONLY: Record<'duckdb' | 'athena', readonly OptionName[]> = {
  duckdb: ['lake', 'costs', 'metrics'],
  athena: ['workgroup', 'database', 'cost-database', 'cost-table', 'log-groups', 'region'],
};

const WORKGROUP = /^[A-Za-z0-9._-]{1,128}$/;
const DATABASE = /^[A-Za-z0-9_-]{1,255}$/;
/** Glue table names as Athena reads them: lowercase letters, digits and underscores. */
const TABLE = /^[a-z0-9_]{1,255}$/;
/** CloudWatch Logs log group names (1-512 of these characters), or a log group ARN. */
const LOG_GROUP = /^(?:[A-Za-z0-9_\-/.#]{1,512}|arn:aws[a-z-]*:logs:[a-z0-9-]+:\d{12}:log-group:[A-Za-z0-9_\-/.#]{1,512}(?::\*)?)$/;
/** CloudWatch's namespace rule (as functions/commons/tenant-metrics.ts checks it). */
const NAMESPACE = /^[0-9A-Za-z.\-_/#: ]{1,255}$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const FORMAT_OF_EXTENSION: Readonly<Record<string, MarginFormat>> = { '.txt': 'text', '.csv': 'csv', '.json': 'json' };

/**
 * Parses and validates the arguments of `npm run costs` (after the script name). Pure, never throws:
 * every problem comes back as one line naming the option. `--help`/`-h` wins.
 */
export function parseCostsOptions(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): ParseCostsOptionsResult {
  return parseCommandLine(argv, OPTION_CONFIG, (raw) => validate(raw, env));
}

function validate(raw: RawOptions, env: Readonly<Record<string, string | undefined>>): CostsOptions {
  const period = reportPeriod(raw);
  const out = nonEmpty(raw, 'out');
  const format = formatOf(text(raw, 'format'), out);
  const namespace = text(raw, 'namespace') ?? COSTS_DEFAULTS.namespace;
  if (!NAMESPACE.test(namespace) || namespace.startsWith('AWS/')) {
    throw new OptionError(`Invalid --namespace '${namespace}': must be 1-255 characters among 0-9 A-Z a-z . - _ / # : and space, not starting with AWS/.`);
  }
  const engine = chooseEngine(text(raw, 'engine'), COSTS_DEFAULTS.engine, ENGINE_ONLY, (name) => raw[name] !== undefined);
  return {
    period,
    format,
    ...(out === undefined ? {} : { out }),
    allocation: nonEmpty(raw, 'allocation') ?? COSTS_DEFAULTS.allocation,
    pricing: nonEmpty(raw, 'pricing') ?? COSTS_DEFAULTS.pricing,
    metering: nonEmpty(raw, 'metering') ?? COSTS_DEFAULTS.metering,
    namespace,
    target: engine === 'duckdb' ? duckDbTarget(raw) : athenaTarget(raw, env),
  };
}

/** The days of --period, or of --from/--to. */
function reportPeriod(raw: RawOptions): ReportPeriod {
  const periodText = text(raw, 'period');
  const fromText = text(raw, 'from');
  const toText = text(raw, 'to');
  if (periodText !== undefined) {
    if (fromText !== undefined || toText !== undefined) throw new OptionError(`Give either --period or --from/--to, not both (got --period and --${fromText !== undefined ? 'from' : 'to'}).`);
    try {
      const month = parseBillingMonth(periodText);
      return { start: month.start, end: month.end, days: (month.end - month.start) / DAY_MS, label: month.month, month: month.month };
    } catch (error) {
      if (error instanceof InvalidPeriodError) throw new OptionError(`Invalid --period: ${error.message}.`);
      throw error;
    }
  }
  if (fromText === undefined && toText === undefined) {
    throw new OptionError('Missing option --period (a calendar month, YYYY-MM, e.g. 2026-11) or --from and --to (days, YYYY-MM-DD).');
  }
  if (fromText === undefined) throw new OptionError('Missing option --from (the first day, YYYY-MM-DD): --to needs it.');
  if (toText === undefined) throw new OptionError('Missing option --to (the last day, YYYY-MM-DD, included): --from needs it.');
  const first = parseDay('from', fromText);
  const last = parseDay('to', toText);
  if (first > last) throw new OptionError(`--from ${fromText} is after --to ${toText}.`);
  const days = (last - first) / DAY_MS + 1;
  if (days > MAX_DAYS) throw new OptionError(`--from ${fromText} to --to ${toText} is ${days} days; at most ${MAX_DAYS} per report: split the range.`);
  const end = last + DAY_MS;
  const calendarMonth = new Date(first).getUTCDate() === 1 && new Date(end).getUTCDate() === 1 && days <= 31;
  const month = calendarMonth ? fromText.slice(0, 7) : undefined;
  return { start: first, end, days, label: `${fromText}..${toText}`, ...(month === undefined ? {} : { month }) };
}

/** Midnight UTC of a `YYYY-MM-DD` day, epoch ms. */
function parseDay(name: 'from' | 'to', value: string): number {
  const invalid = (why: string) => new OptionError(`Invalid --${name} '${value}': ${why}.`);
  const match = DATE.exec(value);
  if (match === null) throw invalid('must be a day, YYYY-MM-DD (UTC), e.g. 2026-11-01');
  const [year, month, day] = match.slice(1, 4).map(Number);
  if (year < 1970 || year > 9999) throw invalid('the year must be 1970 to 9999');
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) throw invalid('not a valid date');
  return date.getTime();
}

function formatOf(given: string | undefined, out: string | undefined): MarginFormat {
  if (given !== undefined) {
    if (!(MARGIN_FORMATS as readonly string[]).includes(given)) throw new OptionError(`Invalid --format '${given}': must be ${MARGIN_FORMATS.join(', ')}.`);
    return given as MarginFormat;
  }
  return (out === undefined ? undefined : FORMAT_OF_EXTENSION[path.extname(out).toLowerCase()]) ?? COSTS_DEFAULTS.format;
}

function duckDbTarget(raw: RawOptions): CostsTarget {
  const costs = nonEmpty(raw, 'costs');
  if (costs === undefined) {
    throw new OptionError('Missing option --costs (the cost file, JSON { currency, lines }, e.g. local/cost/sample-costs.json): required with --engine duckdb.');
  }
  const metrics = nonEmpty(raw, 'metrics');
  return { engine: 'duckdb', lake: nonEmpty(raw, 'lake') ?? COSTS_DEFAULTS.lake, costs, ...(metrics === undefined ? {} : { metrics }) };
}

function athenaTarget(raw: RawOptions, env: Readonly<Record<string, string | undefined>>): CostsTarget {
  const matching = (name: OptionName, pattern: RegExp, rule: string): string | undefined => {
    const value = text(raw, name);
    if (value !== undefined && !pattern.test(value)) throw new OptionError(`Invalid --${name} '${value}': must be ${rule}.`);
    return value;
  };
  const required = (name: OptionName, pattern: RegExp, rule: string, what: string): string => {
    const value = matching(name, pattern, rule);
    if (value === undefined) throw new OptionError(`Missing option --${name} (${what}): required with --engine athena.`);
    return value;
  };
  const databaseRule = '1-255 characters among A-Z a-z 0-9 _ -';
  const workgroup = required('workgroup', WORKGROUP, '1-128 characters among A-Z a-z 0-9 . _ -', 'Athena workgroup');
  const database = required('database', DATABASE, databaseRule, 'Glue database of the access logs');
  const costDatabase = matching('cost-database', DATABASE, databaseRule) ?? database;
  const costTable = matching('cost-table', TABLE, '1-255 lowercase letters, digits or _ (a Glue table name)') ?? COSTS_DEFAULTS.costTable;
  return { engine: 'athena', workgroup, database, costDatabase, costTable, logGroups: logGroups(raw), region: athenaRegion(text(raw, 'region'), env) };
}

function logGroups(raw: RawOptions): string[] {
  const value = text(raw, 'log-groups');
  if (value === undefined) return [];
  const groups = value.split(',').map((group) => group.trim());
  if (groups.some((group) => group === '')) throw new OptionError(`Invalid --log-groups '${value}': a comma-separated list of log group names or ARNs, none empty.`);
  for (const group of groups) {
    if (!LOG_GROUP.test(group)) throw new OptionError(`Invalid log group '${group}' in --log-groups: must be a name of 1-512 characters among A-Z a-z 0-9 _ - / . # or a log group ARN.`);
  }
  const repeated = groups.find((group, index) => groups.indexOf(group) !== index);
  if (repeated !== undefined) throw new OptionError(`Option --log-groups names '${repeated}' more than once.`);
  return groups;
}

const text = (raw: RawOptions, name: OptionName) => optionText(raw, name);
const nonEmpty = (raw: RawOptions, name: OptionName) => nonEmptyOption(raw, name);
