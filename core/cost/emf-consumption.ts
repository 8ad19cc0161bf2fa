/**
 * Tenant consumption from the tenant metrics the functions write in CloudWatch embedded metric format
 * (EMF): one JSON object per log line, whose `_aws.CloudWatchMetrics` directives declare the metrics
 * (name, unit), their namespace and dimension names, the values sitting at the top level next to the
 * dimension values. This module turns such lines into consumption records per tenant, stream and hour
 * or day — locally from captured lines, and it fixes the rules the CloudWatch Logs Insights query in
 * AWS follows (adapters/cloudwatch/logs-insights-consumption.ts).
 *
 * Exactness: every metric value is taken as its shortest decimal text (what the JSON said, up to
 * double precision) and rounded once, half up, to 6 fraction digits (micro-units); sums are integer
 * micro-units (`bigint`), so totals never drift however many lines are added. Lines that are not
 * tenant metrics (other log lines, other EMF metrics, another namespace) are skipped and counted as
 * foreign; tenant metric lines that cannot be read are skipped and reported with the reason — never
 * thrown, so one bad line cannot stop allocation.
 */
import { decimalText, scaledUnits } from '../usage-events/decimal-quantity';
import { CONSUMPTION_VALUE_SCALE, formatDecimal } from './decimal-amount';
import { compareConsumptionRecords, type ConsumptionRange, type ConsumptionRecord, type ConsumptionStream, type Granularity, periodStart } from './consumption';

/** The dimension every tenant metric carries: the tenant the value belongs to. */
export const TENANT_DIMENSION = 'tenant_id';

/** The tenant metrics, the unit each is written in and the consumption stream it feeds. */
export const TENANT_METRICS = {
  TenantInvocations: { unit: 'Count', stream: 'lambda_invocations' },
  TenantDurationMs: { unit: 'Milliseconds', stream: 'lambda_duration_ms' },
  TenantCapacityUnits: { unit: 'Count', stream: 'dynamodb_capacity_units' },
} as const satisfies Record<string, { unit: string; stream: ConsumptionStream }>;

/** Name of a tenant metric. */
export type TenantMetricName = keyof typeof TENANT_METRICS;

const TENANT_METRIC_NAMES = Object.keys(TENANT_METRICS) as TenantMetricName[];

const isTenantMetric = (name: unknown): name is TenantMetricName => typeof name === 'string' && Object.hasOwn(TENANT_METRICS, name);

/** Fraction digits every consumption value keeps. */
export const VALUE_FRACTION_DIGITS = CONSUMPTION_VALUE_SCALE;

/**
 * A metric value in micro-units (10^-6): its shortest decimal text rounded half up to 6 fraction
 * digits (`12.3456785` → 12345679n, `1e-7` → 0n).
 * @throws RangeError for a value that is not a finite number ≥ 0
 */
export function valueMicroUnits(value: number): bigint {
  return scaledUnits(decimalText(value), VALUE_FRACTION_DIGITS);
}

/** Micro-units as a consumption value: plain decimal text without trailing zeros (`12500000n` → `"12.5"`). */
export function microUnitsText(units: bigint): string {
  if (units < 0n) throw new RangeError(`consumption cannot be negative: ${units} micro-units`);
  return formatDecimal(units, VALUE_FRACTION_DIGITS, 0);
}

/** One tenant metric value of one line, in micro-units. */
export interface TenantMetricValue {
  readonly metric: TenantMetricName;
  readonly stream: ConsumptionStream;
  readonly microUnits: bigint;
}

/** What one log line is. */
export type EmfLine =
  | { readonly kind: 'tenant-metrics'; readonly tenantId: string; /** `_aws.Timestamp`, epoch ms */ readonly timestamp: number; readonly values: readonly TenantMetricValue[] }
  | { readonly kind: 'foreign'; readonly reason: string }
  | { readonly kind: 'malformed'; readonly reason: string };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const malformed = (reason: string): EmfLine => ({ kind: 'malformed', reason });
const foreign = (reason: string): EmfLine => ({ kind: 'foreign', reason });

/**
 * Reads one log line. A line is a tenant metric line when it is an EMF object whose directives (in
 * `namespace`, when given) declare at least one tenant metric; everything else is foreign. A tenant
 * metric line is malformed — and none of its values count — when a declared tenant metric has the
 * wrong unit or no `tenant_id` dimension, the `tenant_id` value is not a non-empty string, the
 * timestamp is not epoch milliseconds, or a value is not a finite number ≥ 0 (or a non-empty list of
 * them, which EMF allows and which is summed).
 */
export function parseEmfLine(line: string, namespace?: string): EmfLine {
  if (typeof line !== 'string') return foreign('not a line of text');
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return foreign('not JSON');
  }
  if (!isObject(parsed)) return foreign('not a JSON object');
  if (!Object.hasOwn(parsed, '_aws')) return foreign('no _aws metadata (not EMF)');
  const aws = parsed._aws;
  if (!isObject(aws) || !Array.isArray(aws.CloudWatchMetrics)) return malformed('_aws.CloudWatchMetrics is not a list');

  // The tenant metrics the line declares, each with whether a declaring directive has the tenant dimension.
  const declared = new Map<TenantMetricName, { unit: unknown; tenantDimension: boolean }>();
  for (const directive of aws.CloudWatchMetrics as unknown[]) {
    if (!isObject(directive) || !Array.isArray(directive.Metrics) || !Array.isArray(directive.Dimensions)) {
      return malformed('an _aws.CloudWatchMetrics directive lacks Metrics or Dimensions lists');
    }
    if (namespace !== undefined && directive.Namespace !== namespace) continue;
    const tenantDimension = (directive.Dimensions as unknown[]).some((set) => Array.isArray(set) && set.includes(TENANT_DIMENSION));
    for (const definition of directive.Metrics as unknown[]) {
      if (!isObject(definition) || !isTenantMetric(definition.Name)) continue;
      const previous = declared.get(definition.Name);
      declared.set(definition.Name, { unit: definition.Unit, tenantDimension: tenantDimension || previous?.tenantDimension === true });
    }
  }
  if (declared.size === 0) return foreign(namespace === undefined ? 'no tenant metric' : `no tenant metric in namespace ${namespace}`);

  const tenantId = parsed[TENANT_DIMENSION];
  if (typeof tenantId !== 'string' || tenantId.trim().length === 0) return malformed(`${TENANT_DIMENSION} is not a non-empty string: ${JSON.stringify(tenantId)}`);
  const timestamp = aws.Timestamp;
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0) return malformed(`_aws.Timestamp is not epoch milliseconds: ${JSON.stringify(timestamp)}`);

  const values: TenantMetricValue[] = [];
  for (const [metric, { unit, tenantDimension }] of declared) {
    const expected = TENANT_METRICS[metric];
    if (unit !== expected.unit) return malformed(`${metric} has unit ${JSON.stringify(unit)}, expected ${expected.unit}`);
    if (!tenantDimension) return malformed(`${metric} is not declared with the ${TENANT_DIMENSION} dimension`);
    const raw = parsed[metric];
    const list = Array.isArray(raw) ? raw : [raw];
    if (list.length === 0) return malformed(`${metric} has an empty list of values`);
    let microUnits = 0n;
    for (const value of list) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return malformed(`${metric} value is not a finite number ≥ 0: ${JSON.stringify(value)}`);
      microUnits += valueMicroUnits(value);
    }
    values.push({ metric, stream: expected.stream, microUnits });
  }
  values.sort((a, b) => TENANT_METRIC_NAMES.indexOf(a.metric) - TENANT_METRIC_NAMES.indexOf(b.metric));
  return { kind: 'tenant-metrics', tenantId, timestamp, values };
}

/**
 * Exact sums of consumption per tenant, stream and period, in micro-units. Records come out ordered,
 * zero totals left out (no source reports a zero).
 */
export class ConsumptionTotals {
  private readonly totals = new Map<string, { tenantId: string; stream: ConsumptionStream; start: number; microUnits: bigint }>();

  constructor(private readonly granularity: Granularity) {}

  /** Adds micro-units to a tenant's stream in the period that starts at `start`. */
  add(tenantId: string, stream: ConsumptionStream, start: number, microUnits: bigint): void {
    if (microUnits < 0n) throw new RangeError(`consumption cannot be negative: ${microUnits} micro-units of ${stream} for ${JSON.stringify(tenantId)}`);
    const key = JSON.stringify([tenantId, stream, start]);
    const total = this.totals.get(key);
    if (total) total.microUnits += microUnits;
    else this.totals.set(key, { tenantId, stream, start, microUnits });
  }

  /** The totals as consumption records. */
  records(): ConsumptionRecord[] {
    return [...this.totals.values()]
      .filter((t) => t.microUnits > 0n)
      .map((t) => ({ tenantId: t.tenantId, stream: t.stream, granularity: this.granularity, start: t.start, value: microUnitsText(t.microUnits) }))
      .sort(compareConsumptionRecords);
  }
}

/** A skipped tenant metric line: its position among the lines read, and why. */
export interface MalformedEmfLine {
  readonly index: number;
  readonly reason: string;
}

/** What reading a set of log lines found. */
export interface EmfConsumption {
  /** Consumption per tenant, stream and period of the range. */
  readonly records: ConsumptionRecord[];
  /** Lines read. */
  readonly lines: number;
  /** Tenant metric lines counted. */
  readonly counted: number;
  /** Tenant metric lines whose timestamp is outside the range. */
  readonly outsideRange: number;
  /** Lines that are not tenant metrics (other logs, other metrics, other namespaces). */
  readonly foreign: number;
  /** Tenant metric lines that could not be read, with the reason. */
  readonly malformed: readonly MalformedEmfLine[];
}

/** Which lines count: those whose timestamp falls in `range`, grouped by `granularity`, in `namespace` when given. */
export interface EmfConsumptionQuery {
  readonly range: ConsumptionRange;
  readonly granularity: Granularity;
  readonly namespace?: string;
}

/**
 * Consumption from EMF log lines: each tenant metric line's values are added to its tenant's
 * streams in the hour or day of its `_aws.Timestamp`. Never throws on a line.
 */
export function consumptionFromEmfLines(lines: Iterable<string>, query: EmfConsumptionQuery): EmfConsumption {
  const totals = new ConsumptionTotals(query.granularity);
  const malformedLines: MalformedEmfLine[] = [];
  let count = 0;
  let counted = 0;
  let outsideRange = 0;
  let foreignLines = 0;
  for (const line of lines) {
    const index = count++;
    const parsed = parseEmfLine(line, query.namespace);
    if (parsed.kind === 'foreign') {
      foreignLines += 1;
    } else if (parsed.kind === 'malformed') {
      malformedLines.push({ index, reason: parsed.reason });
    } else if (parsed.timestamp < query.range.start || parsed.timestamp >= query.range.end) {
      outsideRange += 1;
    } else {
      counted += 1;
      const start = periodStart(parsed.timestamp, query.granularity);
      for (const value of parsed.values) totals.add(parsed.tenantId, value.stream, start, value.microUnits);
    }
  }
  return { records: totals.records(), lines: count, counted, outsideRange, foreign: foreignLines, malformed: malformedLines };
}
