/**
 * Invoice preview of one tenant for one calendar month, rated under its pricing plan.
 *
 *   npm run invoice -- --tenant acme --period 2026-11 [--plan growth] [--format json|csv|html] [--out file]
 *                      [--engine duckdb --lake <dir> | --engine athena --workgroup … --database …]
 *
 * It measures the month's usage with the same SQL and metering configuration as the hourly
 * aggregation (`measureUsage`, on the local DuckDB lake or on Athena), keeps only the tenant's usage
 * hours, picks the plan (--plan, else the tenant's entry in `tenantPlans`, else `defaultPlan`), rates
 * it and writes the preview to stdout or --out (through a temporary file renamed into place, so the
 * file is either whole or untouched). A summary line and warnings go to stderr.
 * Exit codes: 0 written, 1 failed while running, 2 invalid options or configuration (see --help).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readPricingConfigFile } from '../config/pricing-config-file';
import { buildInvoicePreview, type InvoicePreview } from '../core/pricing/invoice';
import { InvalidPeriodError, parseBillingMonth, type BillingMonth } from '../core/pricing/invoice-period';
import { INVOICE_FORMATS, renderInvoice, type InvoiceFormat } from '../core/pricing/invoice-render';
import { formatMinor } from '../core/pricing/money';
import type { SubscriptionSpan } from '../core/pricing/periods';
import { planById, planOfTenant, PricingConfigError, UnknownPlanError, type Plan, type PricingConfig } from '../core/pricing/plan-schema';
import type { MeteringConfig } from '../core/usage/metering-config';
import { describeError, readMeteringConfigOption, UsageError } from './cli/errors';
import { checkWritable, writeWhole } from './cli/output-file';
import type { UsageQueryEngine } from '../core/usage/usage-query-engine';
import { athenaRegion, chooseEngine, nonEmptyOption, OptionError, optionsOrExitCode, optionText, parseCommandLine, type ParseOutcome, type RawOptions as RawOptionsOf } from './cli/options';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

export const INVOICE_DEFAULTS = {
  engine: 'duckdb',
  format: 'json',
  pricing: 'config/pricing.json',
  metering: 'config/metering.json',
  lake: '.local/lake',
} as const;

/** Where the month's usage is measured. */
export type InvoiceTarget =
  | { readonly engine: 'duckdb'; readonly lake: string }
  | { readonly engine: 'athena'; readonly workgroup: string; readonly database: string; readonly region: string };

/** Validated options of `npm run invoice`. */
export interface InvoiceOptions {
  readonly tenant: string;
  readonly period: BillingMonth;
  /** A plan id; absent: the tenant's plan from the pricing configuration. */
  readonly plan?: string;
  readonly format: InvoiceFormat;
  /** Output file; absent: stdout. */
  readonly out?: string;
  readonly pricing: string;
  readonly metering: string;
  readonly subscription: SubscriptionSpan;
  readonly target: InvoiceTarget;
}

export type ParseInvoiceOptionsResult = ParseOutcome<InvoiceOptions>;

export const INVOICE_USAGE = `Usage: npm run invoice -- --tenant <id> --period <YYYY-MM> [options]

Previews the invoice of one tenant for one calendar month (UTC): the month's usage, measured from
the access-log lake, rated under the tenant's pricing plan. Usage of a dimension the plan does not
price is listed as unpriced (amount 0) with a warning.

Required:
  --tenant <id>                 the tenant
  --period <YYYY-MM>            the month, e.g. 2026-11

Options:
  --plan <id>                   rate under this plan (default: the tenant's plan in tenantPlans,
                                else defaultPlan)
  --format <json|csv|html>      output format (default: from the --out extension .json, .csv,
                                .html or .htm; else ${INVOICE_DEFAULTS.format})
  --out <file>                  write to this file (replaced whole, never half-written); default stdout
  --pricing <file>              pricing configuration (default ${INVOICE_DEFAULTS.pricing})
  --metering <file>             metering configuration (default ${INVOICE_DEFAULTS.metering})
  --subscription-start <time>   the subscription started then (YYYY-MM-DD or an ISO time with a
                                zone): the flat fee and the minimum are prorated
  --subscription-end <time>     the subscription ended then (excluded)
  --engine <duckdb|athena>      where the usage is measured (default ${INVOICE_DEFAULTS.engine})
  -h, --help                    show this help

Local (--engine duckdb):
  --lake <dir>                  local Parquet lake (default ${INVOICE_DEFAULTS.lake})

AWS (--engine athena; credentials from the usual AWS sources):
  --workgroup <name>            Athena workgroup of the usage lake
  --database <name>             Glue database of the access-log table
  --region <region>             AWS region (default: $AWS_REGION)

Exit codes:
  0    preview written
  1    failed while running (nothing written to --out)
  2    invalid options or configuration (nothing measured, nothing written)
`;

const OPTION_CONFIG = {
  tenant: { type: 'string' },
  period: { type: 'string' },
  plan: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  pricing: { type: 'string' },
  metering: { type: 'string' },
  'subscription-start': { type: 'string' },
  'subscription-end': { type: 'string' },
  engine: { type: 'string' },
  lake: { type: 'string' },
  workgroup: { type: 'string' },
  database: { type: 'string' },
  region: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type OptionName = keyof typeof OPTION_CONFIG;
type RawOptions = RawOptionsOf<typeof OPTION_CONFIG>;

const ENGINE_ONLY: Record<'duckdb' | 'athena', readonly OptionName[]> = {
  duckdb: ['lake'],
  athena: ['workgroup', 'database', 'region'],
};

const WORKGROUP = /^[A-Za-z0-9._-]{1,128}$/;
const DATABASE = /^[A-Za-z0-9_-]{1,255}$/;
// eslint-disable-next-line no-control-regex
const TENANT_ID = /^[^\u0000-\u001f\u007f]{1,256}$/;
const PLAN_ID = /^[a-z][a-z0-9_-]{0,63}$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME_WITH_ZONE = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/i;
const FORMAT_OF_EXTENSION: Readonly<Record<string, InvoiceFormat>> = { '.json': 'json', '.csv': 'csv', '.html': 'html', '.htm': 'html' };

/**
 * Parses and validates the arguments of `npm run invoice` (after the script name). Pure, never
 * throws: every problem comes back as one line naming the option. `--help`/`-h` wins.
 */
export function parseInvoiceOptions(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): ParseInvoiceOptionsResult {
  return parseCommandLine(argv, OPTION_CONFIG, (raw) => validate(raw, env));
}

function validate(raw: RawOptions, env: Readonly<Record<string, string | undefined>>): InvoiceOptions {
  const tenant = text(raw, 'tenant');
  if (tenant === undefined) throw new OptionError('Missing option --tenant (the tenant to preview).');
  if (!TENANT_ID.test(tenant)) throw new OptionError('Invalid --tenant: must be 1-256 characters without control characters.');
  const periodText = text(raw, 'period');
  if (periodText === undefined) throw new OptionError('Missing option --period (a calendar month, YYYY-MM, e.g. 2026-11).');
  let period: BillingMonth;
  try {
    period = parseBillingMonth(periodText);
  } catch (error) {
    if (error instanceof InvalidPeriodError) throw new OptionError(`Invalid --period: ${error.message}.`);
    throw error;
  }
  const plan = text(raw, 'plan');
  if (plan !== undefined && !PLAN_ID.test(plan)) throw new OptionError(`Invalid --plan '${plan}': a plan id is 1-64 lowercase letters, digits, _ or -, starting with a letter.`);
  const out = nonEmpty(raw, 'out');
  const format = formatOf(text(raw, 'format'), out);
  const subscription: SubscriptionSpan = {
    ...optionalTime(raw, 'subscription-start', 'start'),
    ...optionalTime(raw, 'subscription-end', 'end'),
  };
  if (subscription.start !== undefined && subscription.end !== undefined && subscription.end <= subscription.start) {
    throw new OptionError('--subscription-end must be after --subscription-start.');
  }
  const engine = chooseEngine(text(raw, 'engine'), INVOICE_DEFAULTS.engine, ENGINE_ONLY, (name) => raw[name] !== undefined);
  return {
    tenant,
    period,
    ...(plan === undefined ? {} : { plan }),
    format,
    ...(out === undefined ? {} : { out }),
    pricing: nonEmpty(raw, 'pricing') ?? INVOICE_DEFAULTS.pricing,
    metering: nonEmpty(raw, 'metering') ?? INVOICE_DEFAULTS.metering,
    subscription,
    target: engine === 'duckdb' ? { engine, lake: nonEmpty(raw, 'lake') ?? INVOICE_DEFAULTS.lake } : athenaTarget(raw, env),
  };
}

function formatOf(given: string | undefined, out: string | undefined): InvoiceFormat {
  if (given !== undefined) {
    if (!(INVOICE_FORMATS as readonly string[]).includes(given)) throw new OptionError(`Invalid --format '${given}': must be ${INVOICE_FORMATS.join(', ')}.`);
    return given as InvoiceFormat;
  }
  return (out === undefined ? undefined : FORMAT_OF_EXTENSION[path.extname(out).toLowerCase()]) ?? INVOICE_DEFAULTS.format;
}

function athenaTarget(raw: RawOptions, env: Readonly<Record<string, string | undefined>>): InvoiceTarget {
  const required = (name: OptionName, pattern: RegExp, rule: string, what: string): string => {
    const value = text(raw, name);
    if (value === undefined) throw new OptionError(`Missing option --${name} (${what}): required with --engine athena.`);
    if (!pattern.test(value)) throw new OptionError(`Invalid --${name} '${value}': must be ${rule}.`);
    return value;
  };
  const workgroup = required('workgroup', WORKGROUP, '1-128 characters among A-Z a-z 0-9 . _ -', 'Athena workgroup');
  const database = required('database', DATABASE, '1-255 characters among A-Z a-z 0-9 _ -', 'Glue database of the access logs');
  return { engine: 'athena', workgroup, database, region: athenaRegion(text(raw, 'region'), env) };
}

/** A date (midnight UTC) or an ISO time with its zone, as epoch ms. */
function optionalTime(raw: RawOptions, name: OptionName, bound: 'start' | 'end'): SubscriptionSpan {
  const value = text(raw, name);
  if (value === undefined) return {};
  const invalid = (why: string) => new OptionError(`Invalid --${name} '${value}': ${why}.`);
  const dateOnly = DATE_ONLY.exec(value);
  const withZone = dateOnly === null ? TIME_WITH_ZONE.exec(value) : null;
  const parts = dateOnly ?? withZone;
  if (parts === null) throw invalid('must be a date (2026-11-15, midnight UTC) or an ISO time with a zone (2026-11-15T12:00:00Z)');
  const [year, month, day] = parts.slice(1, 4).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) throw invalid('not a valid date');
  const ms = dateOnly !== null ? date.getTime() : Date.parse(value);
  if (!Number.isSafeInteger(ms)) throw invalid('not a valid time');
  return { [bound]: ms };
}

const text = (raw: RawOptions, name: OptionName) => optionText(raw, name);
const nonEmpty = (raw: RawOptions, name: OptionName) => nonEmptyOption(raw, name);

// --- running -------------------------------------------------------------------------------

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseInvoiceOptions(argv, process.env);
  const outcome = optionsOrExitCode(parsed, { name: 'invoice', help: 'npm run invoice -- --help', usage: INVOICE_USAGE });
  if ('exitCode' in outcome) return outcome.exitCode;
  const { options } = outcome;
  let plan: Plan;
  let metering: MeteringConfig;
  try {
    metering = readMeteringConfigOption(options.metering, 'metering');
    plan = choosePlan(loadPricingConfig(options.pricing, metering), options);
    checkTarget(options.target);
    if (options.out !== undefined) checkWritable(options.out);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`invoice: ${error.message}\n`);
    return EXIT_USAGE;
  }

  // The engines (DuckDB's native module, the AWS SDK) load only once the options are known to be good.
  const { measureUsage } = await import('../core/usage/measure-usage');
  const { readUsageSql } = await import('../sql/sql-files');
  const target = await openTarget(options.target);
  let measured: Awaited<ReturnType<typeof measureUsage>>;
  try {
    measured = await measureUsage(target.engine, metering, readUsageSql(), options.period);
  } finally {
    await target.close();
  }
  const preview = buildInvoicePreview({
    tenantId: options.tenant,
    plan,
    period: options.period,
    subscription: options.subscription,
    measurements: measured.measurements,
    generatedAt: Date.now(),
  });
  const output = renderInvoice(preview, options.format);
  if (options.out === undefined) process.stdout.write(output);
  else writeWhole(options.out, output);
  for (const warning of preview.warnings) process.stderr.write(`invoice: warning: ${warning}\n`);
  if (preview.usage.every((u) => u.hours === 0)) {
    process.stderr.write(`invoice: warning: tenant ${JSON.stringify(options.tenant)} has no usage in ${options.period.month} on ${target.description} (check the tenant id)\n`);
  }
  if (measured.unconfiguredMeterHours > 0) {
    process.stderr.write(`invoice: warning: ${measured.unconfiguredMeterHours} tenant-meter-hours (all tenants) of meters that ${options.metering} does not configure were left out\n`);
  }
  process.stderr.write(`invoice: ${summary(preview, options, measured.bytesScanned)}\n`);
  return EXIT_OK;
}

function summary(preview: InvoicePreview, options: InvoiceOptions, bytesScanned: number | undefined): string {
  const total = formatMinor(preview.totalMinor, preview.minorUnitDigits, preview.currency);
  const where = options.out === undefined ? '' : `; ${options.format} written to ${options.out}`;
  const scanned = bytesScanned === undefined ? '' : `; ${bytesScanned.toLocaleString('en')} bytes scanned`;
  return `${options.tenant} ${options.period.month}, plan ${preview.plan.id}: total ${total} (${preview.lines.length} lines, ${preview.unpriced.length} unpriced)${where}${scanned}`;
}

function loadPricingConfig(file: string, metering: MeteringConfig): PricingConfig {
  if (!fs.existsSync(file)) throw new UsageError(`cannot read --pricing ${file}: no such file`);
  try {
    return readPricingConfigFile(metering, file);
  } catch (error) {
    if (error instanceof PricingConfigError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

function choosePlan(config: PricingConfig, options: InvoiceOptions): Plan {
  try {
    return options.plan === undefined ? planOfTenant(config, options.tenant) : planById(config, options.plan);
  } catch (error) {
    if (error instanceof UnknownPlanError) {
      throw new UsageError(`Unknown --plan '${error.planId}': the plans of ${options.pricing} are ${error.known.join(', ')}.`, { cause: error });
    }
    throw error;
  }
}

/** The local lake must exist: opening it would create an empty one and bill nothing. */
function checkTarget(target: InvoiceTarget): void {
  if (target.engine !== 'duckdb') return;
  const tableDir = path.join(target.lake, 'access_logs');
  if (!fs.existsSync(tableDir)) throw new UsageError(`no access-log lake at ${target.lake} (${tableDir} does not exist); pass --lake <dir>`);
}

interface OpenTarget {
  readonly engine: UsageQueryEngine;
  readonly description: string;
  close(): Promise<void>;
}

async function openTarget(target: InvoiceTarget): Promise<OpenTarget> {
  if (target.engine === 'athena') {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const { AthenaClient } = await import('@aws-sdk/client-athena');
    const { AthenaQueryRunner } = await import('../adapters/athena/athena-query-runner');
    const { AthenaUsageEngine } = await import('../adapters/athena/athena-usage-engine');
    const athena = new AthenaClient({ region: target.region });
    return {
      engine: new AthenaUsageEngine(new AthenaQueryRunner(athena, { workGroup: target.workgroup, database: target.database, timeoutMs: 900_000 })),
      description: `Athena (workgroup ${target.workgroup}, database ${target.database}, ${target.region})`,
      close: async () => athena.destroy(),
    };
  }
  const { DuckDbLake } = await import('../adapters/duckdb/duckdb-lake');
  const { DuckDbUsageEngine } = await import('../adapters/duckdb/duckdb-usage-engine');
  const lake = await DuckDbLake.open(target.lake);
  return { engine: new DuckDbUsageEngine(lake), description: `the DuckDB lake ${target.lake}`, close: async () => lake.close() };
}

// Run only as a command (`tsx scripts/invoice.ts`), not when a test imports the option parser.
if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`invoice: failed: ${describeError(error)}\n`);
      process.exitCode = EXIT_FAILED;
    },
  );
}
