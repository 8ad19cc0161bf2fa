/**
 * Tenant consumption in AWS from the tenant metrics the functions write as EMF lines
 * (functions/commons/tenant-metrics.ts): one CloudWatch Logs Insights query over the tenant-facing
 * functions' log groups sums `TenantInvocations`, `TenantDurationMs` and `TenantCapacityUnits` per
 * `tenant_id` and hour or day.
 *
 * Why Logs Insights over the log lines, not GetMetricData over the metrics CloudWatch extracts from
 * them: one query returns every tenant, stream and period of a day, where GetMetricData needs a
 * metric query per tenant and metric, and the tenants first listed with ListMetrics (which only
 * knows tenants active in the last two weeks). And the lines are the record: a metric's statistics
 * are rounded by CloudWatch, the log lines are what the functions wrote. A Logs Insights query is
 * billed by the data it scans (about $0.005 per GB in us-east-1) — the log groups of a day, once.
 *
 * The metrics still carry the `tenant_id` dimension, as the tenant cost allocation asks: dashboards
 * and alarms per tenant need it. It has a price: CloudWatch bills every distinct combination of
 * metric name and dimension values as a custom metric (about $0.30 per metric and month for the
 * first 10,000 in us-east-1), so three tenant metrics cost about $0.90 per active tenant and month
 * (duplicated per `service`). Where that matters, the extraction can be turned off (an EMF line with
 * an empty `Dimensions` list is still logged but creates no metric) without changing this query,
 * which reads the log lines, not the metrics.
 *
 * Exactness: the query rounds each duration to micro-milliseconds (`floor(x·10⁶ + 0.5)`) before
 * summing, so the sums are of integers; Logs Insights adds in doubles, exact below 2^53 (about 285
 * years of Lambda time per tenant and period). Invocations are whole and capacity units halves, so
 * their sums are exact too. The local rule (core/cost/emf-consumption.ts) rounds half up on the
 * decimal text; the two can only differ for a duration with more than 6 fraction digits that lies
 * within a double's precision of a half micro-millisecond. The query reads one value per metric and
 * line, which is what tenant-metrics writes (EMF's value lists would be summed locally but not here).
 */
import {
  GetQueryResultsCommand,
  StartQueryCommand,
  StopQueryCommand,
  type CloudWatchLogsClient,
  type ResultField,
} from '@aws-sdk/client-cloudwatch-logs';
import { checkConsumptionRange, type ConsumptionRange, type ConsumptionRecord, type ConsumptionSource, type Granularity, GRANULARITY_MS, periodStart } from '../../core/cost/consumption';
import { ConsumptionTotals, TENANT_DIMENSION, TENANT_METRICS, VALUE_FRACTION_DIGITS } from '../../core/cost/emf-consumption';
import { decimalText, scaledUnits } from '../../core/usage-events/decimal-quantity';
import { parseSqlTimestamp } from '../../core/usage/hours';

/** Most log groups one StartQuery takes. */
export const MAX_LOG_GROUPS_PER_QUERY = 50;

/** Most result rows one query returns (StartQuery's `limit` maximum). */
export const MAX_QUERY_ROWS = 10_000;

/** Logs Insights' `bin()` period per granularity. */
const BIN: Readonly<Record<Granularity, string>> = { HOURLY: '1h', DAILY: '1d' };

/**
 * The query for a granularity. Its text is fixed (no value is ever spliced in): the namespace is a
 * grouping key and checked on the results, the time range goes as StartQuery's own parameters.
 * Periods are the log events' hours or days (`bin` over `@timestamp`), the same time StartQuery's
 * range selects by, so every line falls in exactly one period of exactly one range.
 */
export function consumptionQuery(granularity: Granularity): string {
  const bin = BIN[granularity];
  if (bin === undefined) throw new RangeError(`unknown granularity ${JSON.stringify(granularity)}`);
  return [
    `filter ispresent(${TENANT_DIMENSION}) and (ispresent(TenantInvocations) or ispresent(TenantDurationMs) or ispresent(TenantCapacityUnits))`,
    '| fields `_aws.CloudWatchMetrics.0.Namespace` as namespace, floor(TenantDurationMs * 1000000 + 0.5) as duration_micros',
    `| stats sum(TenantInvocations) as invocations, sum(duration_micros) as duration_micros_sum, sum(TenantCapacityUnits) as capacity_units by ${TENANT_DIMENSION}, namespace, bin(${bin}) as period`,
  ].join('\n');
}

/** A query ended Failed, Cancelled, Timeout or Unknown in Logs Insights. */
export class LogsInsightsQueryError extends Error {
  override readonly name = 'LogsInsightsQueryError';
  constructor(
    readonly queryId: string,
    readonly status: string,
  ) {
    super(`Logs Insights query ${queryId} ended ${status}`);
  }
}

/** A query outlived the timeout; it was asked to stop. */
export class LogsInsightsTimeoutError extends Error {
  override readonly name = 'LogsInsightsTimeoutError';
  constructor(
    readonly queryId: string,
    readonly elapsedMs: number,
    /** Why StopQuery failed, if it did (the query may still be running). */
    readonly stopError?: string,
  ) {
    super(`Logs Insights query ${queryId} did not complete within ${elapsedMs} ms and was stopped` + (stopError === undefined ? '' : ` (StopQuery failed: ${stopError})`));
  }
}

/** A result row that does not read as a tenant, a period and sums, or more rows than a query returns. */
export class LogsInsightsResultError extends Error {
  override readonly name = 'LogsInsightsResultError';
}

/** Settings of {@link LogsInsightsConsumptionSource}. */
export interface LogsInsightsConsumptionOptions {
  /** The tenant-facing functions' log groups (names or ARNs), at least one. */
  readonly logGroups: readonly string[];
  /** The tenant metrics' namespace (`POWERTOOLS_METRICS_NAMESPACE` of those functions). */
  readonly namespace: string;
  /** First polling interval. @default 1000 */
  readonly pollInitialMs?: number;
  /** Polling interval cap: the interval doubles after every poll up to this. @default 5000 */
  readonly pollMaxMs?: number;
  /** How long one query may take before it is stopped. @default 300000 */
  readonly timeoutMs?: number;
  /** Waits `ms` milliseconds (injectable for tests). @default a `setTimeout` promise */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Current time in epoch ms (injectable for tests). @default `Date.now` */
  readonly now?: () => number;
}

/** What the last read ran and skipped. */
export interface LogsInsightsReadSummary {
  /** Queries run (one per batch of 50 log groups, more when a range had to be split). */
  readonly queries: number;
  /** Bytes Logs Insights scanned, over all queries (what it bills). */
  readonly bytesScanned: number;
  /** Result rows of another namespace (other metrics with the same names in the same log groups). */
  readonly otherNamespaceRows: number;
  /** Result rows of periods outside the range (lines logged just after its end). */
  readonly outsideRangeRows: number;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const NUMBER = /^(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/**
 * Consumption streams `lambda_invocations`, `lambda_duration_ms` and `dynamodb_capacity_units` from
 * CloudWatch Logs Insights. A query returning the 10,000-row maximum is split in two halves of the
 * range (whole periods) and run again, so no tenant is cut off.
 */
export class LogsInsightsConsumptionSource implements ConsumptionSource {
  private readonly pollInitialMs: number;
  private readonly pollMaxMs: number;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private summary = { queries: 0, bytesScanned: 0, otherNamespaceRows: 0, outsideRangeRows: 0 };

  constructor(
    private readonly logs: CloudWatchLogsClient,
    private readonly options: LogsInsightsConsumptionOptions,
  ) {
    if (options.logGroups.length === 0 || options.logGroups.some((group) => typeof group !== 'string' || group.trim() === '')) {
      throw new RangeError('Logs Insights consumption needs at least one log group, and no empty name');
    }
    if (typeof options.namespace !== 'string' || options.namespace === '') throw new RangeError('Logs Insights consumption needs the tenant metrics namespace');
    this.pollInitialMs = positive('pollInitialMs', options.pollInitialMs ?? 1000);
    this.pollMaxMs = Math.max(this.pollInitialMs, positive('pollMaxMs', options.pollMaxMs ?? 5000));
    this.timeoutMs = positive('timeoutMs', options.timeoutMs ?? 300_000);
    this.sleep = options.sleep ?? defaultSleep;
    this.now = options.now ?? Date.now;
  }

  /** What the last {@link read} ran and skipped. */
  get lastRead(): LogsInsightsReadSummary {
    return { ...this.summary };
  }

  /**
   * @throws ConsumptionRangeError for a range that is not whole hours (HOURLY) or UTC days (DAILY)
   * @throws LogsInsightsQueryError, LogsInsightsTimeoutError when a query does not complete
   * @throws LogsInsightsResultError for a result the query cannot have produced
   */
  async read(range: ConsumptionRange, granularity: Granularity): Promise<ConsumptionRecord[]> {
    checkConsumptionRange(range, granularity);
    this.summary = { queries: 0, bytesScanned: 0, otherNamespaceRows: 0, outsideRangeRows: 0 };
    const totals = new ConsumptionTotals(granularity);
    for (let i = 0; i < this.options.logGroups.length; i += MAX_LOG_GROUPS_PER_QUERY) {
      await this.readRange(this.options.logGroups.slice(i, i + MAX_LOG_GROUPS_PER_QUERY), range, granularity, totals);
    }
    return totals.records();
  }

  private async readRange(logGroups: readonly string[], part: ConsumptionRange, granularity: Granularity, totals: ConsumptionTotals): Promise<void> {
    const rows = await this.runQuery(logGroups, part, granularity);
    if (rows.length >= MAX_QUERY_ROWS) {
      const period = GRANULARITY_MS[granularity];
      const periods = (part.end - part.start) / period;
      if (periods < 2) throw new LogsInsightsResultError(`the ${granularity} period starting ${new Date(part.start).toISOString()} reached the ${MAX_QUERY_ROWS}-row limit of one query: more tenants than one query can return`);
      const middle = part.start + Math.floor(periods / 2) * period;
      await this.readRange(logGroups, { start: part.start, end: middle }, granularity, totals);
      await this.readRange(logGroups, { start: middle, end: part.end }, granularity, totals);
      return;
    }
    for (const row of rows) this.addRow(row, part, granularity, totals);
  }

  private addRow(fields: readonly ResultField[], part: ConsumptionRange, granularity: Granularity, totals: ConsumptionTotals): void {
    const row = new Map(fields.map((f) => [f.field ?? '', f.value]));
    if (row.get('namespace') !== this.options.namespace) {
      this.summary.otherNamespaceRows += 1;
      return;
    }
    const tenantId = row.get(TENANT_DIMENSION);
    if (tenantId === undefined || tenantId.trim() === '') throw new LogsInsightsResultError(`a result row has no ${TENANT_DIMENSION}`);
    const periodText = row.get('period');
    let start: number;
    try {
      start = parseSqlTimestamp(periodText ?? '');
    } catch {
      throw new LogsInsightsResultError(`a result row's period is not a timestamp: ${JSON.stringify(periodText)}`);
    }
    if (start !== periodStart(start, granularity)) throw new LogsInsightsResultError(`period ${periodText} is not the start of a UTC ${granularity === 'HOURLY' ? 'hour' : 'day'}`);
    if (start < part.start || start >= part.end) {
      this.summary.outsideRangeRows += 1;
      return;
    }
    totals.add(tenantId, TENANT_METRICS.TenantInvocations.stream, start, sumOf(row.get('invocations'), 'invocations', VALUE_FRACTION_DIGITS));
    // Already in micro-milliseconds: whole units.
    totals.add(tenantId, TENANT_METRICS.TenantDurationMs.stream, start, sumOf(row.get('duration_micros_sum'), 'duration_micros_sum', 0));
    totals.add(tenantId, TENANT_METRICS.TenantCapacityUnits.stream, start, sumOf(row.get('capacity_units'), 'capacity_units', VALUE_FRACTION_DIGITS));
  }

  /** Runs one query to completion and returns its rows. */
  private async runQuery(logGroups: readonly string[], part: ConsumptionRange, granularity: Granularity): Promise<ResultField[][]> {
    const started = this.now();
    // StartQuery takes whole seconds, both ends included: the end second's lines fall in the
    // period that starts at the range end, which the rows outside the range leave out.
    const { queryId } = await this.logs.send(
      new StartQueryCommand({
        logGroupIdentifiers: [...logGroups],
        startTime: Math.floor(part.start / 1000),
        endTime: Math.floor(part.end / 1000),
        queryString: consumptionQuery(granularity),
        limit: MAX_QUERY_ROWS,
      }),
    );
    if (!queryId) throw new LogsInsightsResultError('StartQuery returned no queryId');
    this.summary.queries += 1;
    let interval = this.pollInitialMs;
    for (;;) {
      const remaining = this.timeoutMs - (this.now() - started);
      if (remaining <= 0) throw await this.stop(queryId, this.now() - started);
      await this.sleep(Math.min(interval, remaining));
      interval = Math.min(interval * 2, this.pollMaxMs);
      const result = await this.logs.send(new GetQueryResultsCommand({ queryId }));
      switch (result.status) {
        case 'Complete':
          this.summary.bytesScanned += result.statistics?.bytesScanned ?? 0;
          return result.results ?? [];
        case 'Scheduled':
        case 'Running':
          break;
        default:
          throw new LogsInsightsQueryError(queryId, result.status ?? 'without a status');
      }
    }
  }

  private async stop(queryId: string, elapsedMs: number): Promise<LogsInsightsTimeoutError> {
    try {
      await this.logs.send(new StopQueryCommand({ queryId }));
      return new LogsInsightsTimeoutError(queryId, elapsedMs);
    } catch (error) {
      return new LogsInsightsTimeoutError(queryId, elapsedMs, error instanceof Error ? error.message : String(error));
    }
  }
}

/**
 * A sum as Logs Insights prints it (`"12"`, `"2.5"`, `"1.5e+21"`; absent or empty when no line of the
 * group had the metric) → integer units of 10^-decimals, rounded half up.
 */
function sumOf(text: string | undefined, column: string, decimals: number): bigint {
  if (text === undefined || text === '') return 0n;
  if (!NUMBER.test(text)) throw new LogsInsightsResultError(`${column} is not a number ≥ 0: ${JSON.stringify(text)}`);
  return scaledUnits(decimalText(Number(text)), decimals);
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}
