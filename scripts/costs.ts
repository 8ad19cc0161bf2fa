/**
 * Margin report per tenant: revenue from the rating engine against the AWS cost allocated to each
 * tenant, for a month or a range of days.
 *
 *   npm run costs -- --period 2026-11 [--from 2026-11-01 --to 2026-11-07] [--format text|csv|json] [--out file]
 *                    [--allocation <config>] [--pricing <file>] [--metering <file>]
 *                    [--engine duckdb --lake <dir> --costs <cost file> [--metrics <EMF lines file>]
 *                     | --engine athena --workgroup … --database … [--cost-database … --cost-table … --log-groups a,b --region …]]
 *
 * It reads the cost lines of the days (a cost file, or the CUR 2.0 table on Athena), the tenants'
 * consumption per day (the usage lake; the tenant metrics from captured EMF lines or Logs Insights)
 * and their usage (measured like `npm run invoice`: the aggregation's SQL, the metering
 * configuration), rates each tenant of the period under its plan, allocates the cost with the rules
 * of the allocation configuration, and writes the margin report to stdout or --out (through a
 * temporary file renamed into place). Notes, warnings (unallocated cost and why, the rounding
 * difference, unpriced usage) and a summary line go to stderr.
 * Exit codes: 0 written, 1 failed while running, 2 invalid options, configuration or input (see --help).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCostAllocationConfigFile } from '../config/cost-allocation-config-file';
import { readPricingConfigFile } from '../config/pricing-config-file';
import { CostAllocationConfigError, type CostAllocationConfig } from '../core/cost/allocation-config';
import { CostFileError } from '../core/cost/cost-file';
import type { CostLine } from '../core/cost/cost-line';
import { TENANT_METRICS } from '../core/cost/emf-consumption';
import { renderMargins } from '../core/cost/margin-render';
import { formatMinor } from '../core/pricing/money';
import { PricingConfigError, type PricingConfig } from '../core/pricing/plan-schema';
import type { MeteringConfig } from '../core/usage/metering-config';
import { CostFileSource } from '../local/cost/cost-file-source';
import { describeError, readMeteringConfigOption, UsageError } from './cli/errors';
import { buildMarginRun, checkRevenueCurrency, marginWarnings, RevenueCurrencyError, type MarginRun } from '../core/cost/margin-run';
import { COSTS_USAGE, parseCostsOptions, type CostsOptions, type CostsTarget } from './costs/options';
import { checkWritable, writeWhole } from './cli/output-file';
import type { ReportSources } from './costs/sources';
import { optionsOrExitCode } from './cli/options';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

/** The consumption streams only the tenant metrics measure. */
const TENANT_METRIC_STREAMS: readonly string[] = Object.values(TENANT_METRICS).map((metric) => metric.stream);

/** Everything read and checked before any engine opens. */
interface Inputs {
  readonly metering: MeteringConfig;
  readonly pricing: PricingConfig;
  readonly allocation: CostAllocationConfig;
  /** duckdb: the cost file, read and checked. */
  readonly costFile?: CostFileSource;
  /** duckdb with --metrics: its lines. */
  readonly metricLines?: readonly string[];
}

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseCostsOptions(argv, process.env);
  const outcome = optionsOrExitCode(parsed, { name: 'costs', help: 'npm run costs -- --help', usage: COSTS_USAGE });
  if ('exitCode' in outcome) return outcome.exitCode;
  const { options } = outcome;
  try {
    const inputs = readInputs(options);
    // The engines (DuckDB's native module, the AWS SDK) load only once the inputs are known to be good.
    const { run, sources, usageBytes, unconfiguredMeterHours } = await produce(options, inputs);
    const output = renderMargins(run.report, options.format);
    if (options.out === undefined) process.stdout.write(output);
    else writeWhole(options.out, output);
    for (const line of stderrLines(options, inputs, run, sources, unconfiguredMeterHours)) process.stderr.write(`costs: ${line}\n`);
    process.stderr.write(`costs: ${summary(options, run, sources, usageBytes)}\n`);
    return EXIT_OK;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`costs: ${oneLine(error.message)}\n`);
    return EXIT_USAGE;
  }
}

/** Reads and checks the configurations, the cost file, the metrics file and --out; every problem is a {@link UsageError}. */
function readInputs(options: CostsOptions): Inputs {
  const metering = readMeteringConfigOption(options.metering, 'metering');
  const pricing = loadPricingConfig(options.pricing, metering);
  const allocation = loadAllocationConfig(options.allocation);
  try {
    checkRevenueCurrency(pricing, allocation);
  } catch (error) {
    if (error instanceof RevenueCurrencyError) throw new UsageError(`${error.message} (--pricing ${options.pricing}, --allocation ${options.allocation})`, { cause: error });
    throw error;
  }
  let local: Pick<Inputs, 'costFile' | 'metricLines'> = {};
  if (options.target.engine === 'duckdb') {
    const { target } = options;
    checkLake(target.lake);
    const costFile = loadCostFile(target.costs);
    const foreign = costFile.currencies.filter((currency) => currency !== allocation.currency);
    if (foreign.length > 0) {
      throw new UsageError(`the cost file ${target.costs} is in ${foreign.join(', ')}, --allocation ${options.allocation} in ${allocation.currency}: cost lines are never converted`);
    }
    local = { costFile, ...(target.metrics === undefined ? {} : { metricLines: readMetricLines(target.metrics) }) };
  }
  if (options.out !== undefined) checkWritable(options.out);
  return { metering, pricing, allocation, ...local };
}

/** Reads the cost lines, the usage and the consumption of the period, and makes the report. */
async function produce(options: CostsOptions, inputs: Inputs) {
  const sources = await openSources(options.target, inputs, options.namespace);
  const { measureUsage } = await import('../core/usage/measure-usage');
  const { readUsageSql } = await import('../sql/sql-files');
  const range = { start: options.period.start, end: options.period.end };
  let costs: CostLine[];
  let measured: Awaited<ReturnType<typeof measureUsage>>;
  let consumption: Awaited<ReturnType<ReportSources['consumption']['read']>>;
  try {
    costs = await sources.costLines.read(range);
    checkCostCurrency(costs, inputs.allocation, options, sources);
    measured = await measureUsage(sources.usageEngine, inputs.metering, readUsageSql(), range);
    consumption = await sources.consumption.read(range, 'DAILY');
  } finally {
    await sources.close();
  }
  const run = buildMarginRun({
    allocation: inputs.allocation,
    pricing: inputs.pricing,
    period: range,
    costs,
    consumption,
    usage: measured.measurements,
    generatedAt: Date.now(),
  });
  return { run, sources, usageBytes: measured.bytesScanned, unconfiguredMeterHours: measured.unconfiguredMeterHours };
}

async function openSources(target: CostsTarget, inputs: Inputs, namespace: string): Promise<ReportSources> {
  const { openAthenaSources, openLocalSources } = await import('./costs/sources');
  const settings = { tenantTag: inputs.allocation.tenantTag, namespace };
  if (target.engine === 'athena') return openAthenaSources(target, settings);
  return openLocalSources(target, inputs.costFile!, inputs.metricLines, settings);
}

/** Cost lines in another currency than the allocation's (the CUR of an account billed in another one) are bad input, not a failure. */
function checkCostCurrency(costs: readonly CostLine[], allocation: CostAllocationConfig, options: CostsOptions, sources: ReportSources): void {
  const foreign = new Map<string, number>();
  for (const line of costs) if (line.currency !== allocation.currency) foreign.set(line.currency, (foreign.get(line.currency) ?? 0) + 1);
  if (foreign.size === 0) return;
  const listed = [...foreign].map(([currency, count]) => `${currency} (${count} line${count === 1 ? '' : 's'})`).join(', ');
  throw new UsageError(`cost lines on ${sources.description} are in ${listed}, --allocation ${options.allocation} in ${allocation.currency}: cost lines are never converted`);
}

/** The notes and warnings of a report, without the `costs: ` prefix. */
function stderrLines(options: CostsOptions, inputs: Inputs, run: MarginRun, sources: ReportSources, unconfiguredMeterHours: number): string[] {
  const lines = sources.notes();
  const warn = (text: string) => lines.push(`warning: ${text}`);
  sources.problems().forEach(warn);
  if (!sources.tenantMetrics) {
    const rules = inputs.allocation.rules.filter((rule) => rule.split === 'proportional' && TENANT_METRIC_STREAMS.includes(rule.stream));
    if (rules.length > 0) {
      const option = options.target.engine === 'duckdb' ? '--metrics <file>' : '--log-groups <a,b,...>';
      warn(`no tenant metrics (${option}): no consumption for the rules of ${rules.map((rule) => `${rule.service} (${rule.split === 'proportional' ? rule.stream : ''})`).join(', ')}`);
    }
  }
  if (run.tenants.length === 0) warn(`no tenant has usage or consumption in ${options.period.label} on ${sources.description}`);
  if (options.period.month === undefined) {
    warn(`revenue rates ${options.period.label} (${options.period.days} day${options.period.days === 1 ? '' : 's'}) as one billing period: flat fees and minimum commitments are charged whole, free allowances and tiers start from zero`);
  }
  if (unconfiguredMeterHours > 0) warn(`${unconfiguredMeterHours} tenant-meter-hours of meters that ${options.metering} does not configure were left out of the revenue`);
  marginWarnings(run).forEach(warn);
  return lines;
}

function summary(options: CostsOptions, run: MarginRun, sources: ReportSources, usageBytes: number | undefined): string {
  const { report, allocation } = run;
  const money = (minor: bigint) => formatMinor(minor, report.minorUnitDigits, report.currency);
  const { totals } = report;
  const percent = totals.marginPercent === null ? '' : ` (${totals.marginPercent}%)`;
  const where = options.out === undefined ? '' : `; ${options.format} written to ${options.out}`;
  const scanned = sources.scanned();
  const athenaBytes = scanned.athenaBytes === undefined ? undefined : scanned.athenaBytes + (usageBytes ?? 0);
  const bytes = [
    ...(athenaBytes === undefined ? [] : [`Athena ${athenaBytes.toLocaleString('en')}`]),
    ...(scanned.logsInsightsBytes === undefined ? [] : [`Logs Insights ${scanned.logsInsightsBytes.toLocaleString('en')}`]),
  ];
  return (
    `${options.period.label}: ${run.tenants.length} tenant${run.tenants.length === 1 ? '' : 's'}, revenue ${money(totals.revenueMinor)}, ` +
    `cost ${money(totals.costMinor)} (allocated ${money(allocation.allocatedMinor)}, unallocated ${money(allocation.unallocatedMinor)}), ` +
    `margin ${money(totals.marginMinor)}${percent}${where}` +
    (bytes.length === 0 ? '' : `; bytes scanned: ${bytes.join(', ')}`)
  );
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

function loadAllocationConfig(file: string): CostAllocationConfig {
  if (!fs.existsSync(file)) throw new UsageError(`cannot read --allocation ${file}: no such file`);
  try {
    return readCostAllocationConfigFile(file);
  } catch (error) {
    if (error instanceof CostAllocationConfigError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

function loadCostFile(file: string): CostFileSource {
  if (!fs.existsSync(file)) throw new UsageError(`cannot read --costs ${file}: no such file`);
  try {
    return CostFileSource.fromFile(file);
  } catch (error) {
    if (error instanceof CostFileError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

/** The lines of a file of EMF lines (one JSON object per line); blank lines are not lines. */
function readMetricLines(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read --metrics ${file}: ${code === 'ENOENT' ? 'no such file' : describeError(error)}`, { cause: error });
  }
  return text.split(/\r?\n/).filter((line) => line.trim() !== '');
}

/** The local lake must exist: opening it would create an empty one and find nothing. */
function checkLake(lake: string): void {
  const tableDir = path.join(lake, 'access_logs');
  if (!fs.existsSync(tableDir)) throw new UsageError(`no access-log lake at ${lake} (${tableDir} does not exist); pass --lake <dir>`);
}

/** A message listing problems on indented lines, as one line: `Invalid x (file): a: …; b: …`. */
function oneLine(message: string): string {
  const [first, ...rest] = message.split(/\r?\n/).map((line) => line.trim().replace(/^- /, '')).filter((line) => line !== '');
  if (rest.length === 0) return first ?? '';
  return `${first.endsWith(':') ? first : `${first}:`} ${rest.join('; ')}`;
}

// Run only as a command (`tsx scripts/costs.ts`), not when a test imports a helper.
if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`costs: failed: ${oneLine(describeError(error))}\n`);
      process.exitCode = EXIT_FAILED;
    },
  );
}
