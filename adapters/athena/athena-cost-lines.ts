/**
 * AWS cost lines from the Cost and Usage Report on Athena: runs `sql/queries/daily_cost_lines.sql` on
 * the CUR 2.0 table (modules/cost-allocation/cur-table.ts) for a range of whole UTC days and reads each
 * row as a {@link CostLine} for cost allocation — the tenant tag's value under its CUR 2.0 key (e.g.
 * `user_tenant_id`), the summed cost as exact decimal text.
 *
 * Every value goes to Athena as an execution parameter, never into the SQL text: the tag key, the
 * first and last billing period of the range (so that Athena reads only those months of the table) and
 * the range's bounds. A row the query should never return (a day outside the range, a malformed
 * amount, no currency) is a {@link CostLineRowError} naming the row and the column, never a line
 * silently dropped.
 */
import type { CostLine } from '../../core/cost/cost-line';
import { COST_AMOUNT_SCALE, DecimalAmountError, parseDecimal } from '../../core/cost/decimal-amount';
import { parseSqlTimestamp, sqlTimestamp } from '../../core/usage/hours';
import { sqlLiteral, type AthenaQueryRunner, type AthenaRow } from './athena-query-runner';

/** Milliseconds of a UTC day. */
export const DAY_MS = 86_400_000;

/** How many `?` parameters `daily_cost_lines.sql` takes, in this order: tag key, first and last billing period, range start and end. */
export const COST_LINE_PARAMETER_COUNT = 5;

/** Days [start, end), epoch milliseconds, both at 00:00 UTC. */
export interface CostLineRange {
  readonly start: number;
  readonly end: number;
}

/** The range asked for is not whole UTC days, or is empty. */
export class CostLineRangeError extends RangeError {
  override readonly name = 'CostLineRangeError';
}

/** A row of the cost query that does not read as a cost line of the range. */
export class CostLineRowError extends Error {
  override readonly name = 'CostLineRowError';
}

/** The configuration of the reader is unusable (tag key, SQL text). */
export class CostLineQueryError extends Error {
  override readonly name = 'CostLineQueryError';
}

/** Settings of an {@link AthenaCostLines}. */
export interface AthenaCostLinesOptions {
  /** The text of `sql/queries/daily_cost_lines.sql` (comments stripped or not). */
  readonly sql: string;
  /** The `resource_tags` key of the tenant tag as CUR 2.0 writes it (the allocation config's `tenantTag`). */
  readonly tenantTag: string;
  /** Longest the query may run. @default the runner's */
  readonly timeoutMs?: number;
}

/** What one read returned and cost. */
export interface CostLinesRead {
  readonly lines: CostLine[];
  /** Bytes Athena scanned (what the query is billed on). */
  readonly bytesScanned: number;
  readonly queryExecutionId: string;
}

/** Control characters are not allowed in a tag key (as in the allocation configuration). */
// eslint-disable-next-line no-control-regex
const TAG_KEY = /^[^\u0000-\u001f\u007f]{1,128}$/;
const CURRENCY = /^[A-Z]{3}$/;

/** Reads the AWS cost lines of a day range from the CUR 2.0 table through Athena. */
export class AthenaCostLines {
  private readonly sql: string;
  private readonly tenantTag: string;

  constructor(
    private readonly runner: AthenaQueryRunner,
    private readonly options: AthenaCostLinesOptions,
  ) {
    if (typeof options.tenantTag !== 'string' || !TAG_KEY.test(options.tenantTag)) {
      throw new CostLineQueryError(`tenantTag must be a tag key of 1-128 characters without control characters, got ${JSON.stringify(options.tenantTag)}`);
    }
    const placeholders = countPlaceholders(options.sql);
    if (placeholders !== COST_LINE_PARAMETER_COUNT) {
      throw new CostLineQueryError(`the cost line SQL must take ${COST_LINE_PARAMETER_COUNT} parameters (tag key, first and last billing period, range start and end), it has ${placeholders}`);
    }
    this.sql = options.sql;
    this.tenantTag = options.tenantTag;
  }

  /** The cost lines whose usage day lies in the range, ordered by day, service, resource, tag and currency. */
  async read(range: CostLineRange): Promise<CostLine[]> {
    return (await this.measure(range)).lines;
  }

  /**
   * Like {@link read}, with the bytes Athena scanned.
   * @throws CostLineRangeError for a range that is not whole UTC days
   * @throws CostLineRowError for a row that is not a cost line of the range
   * @throws QueryFailedError / QueryTimeoutError from the runner when Athena fails or takes too long
   */
  async measure(range: CostLineRange): Promise<CostLinesRead> {
    const parameters = costLineParameters(range, this.tenantTag);
    const execution = await this.runner.runQuery(
      this.sql,
      parameters.map((value) => sqlLiteral(value)),
      this.options.timeoutMs === undefined ? {} : { timeoutMs: this.options.timeoutMs },
    );
    const rows = await this.runner.fetchRows(execution.queryExecutionId);
    const lines = rows.map((row, index) => toCostLine(row, index, range, this.tenantTag));
    return { lines, bytesScanned: execution.dataScannedBytes, queryExecutionId: execution.queryExecutionId };
  }
}

/**
 * Checks that a range is whole UTC days: integer epoch milliseconds at 00:00 UTC, start before end.
 * @throws CostLineRangeError naming what is wrong
 */
export function checkCostLineRange(range: CostLineRange): void {
  for (const bound of ['start', 'end'] as const) {
    const value = range[bound];
    if (!Number.isSafeInteger(value) || value < 0) throw new CostLineRangeError(`range ${bound} must be epoch milliseconds, got ${String(value)}`);
    if (value % DAY_MS !== 0) throw new CostLineRangeError(`range ${bound} ${new Date(value).toISOString()} is not the start of a UTC day`);
  }
  if (range.start >= range.end) {
    throw new CostLineRangeError(`range start ${new Date(range.start).toISOString()} must be before its end ${new Date(range.end).toISOString()}`);
  }
}

/** The billing periods (months, `YYYY-MM`) of the first and the last day of a range of whole days. */
export function billingPeriodsOf(range: CostLineRange): { readonly first: string; readonly last: string } {
  checkCostLineRange(range);
  return { first: monthOf(range.start), last: monthOf(range.end - DAY_MS) };
}

/** The values of the query's parameters, unquoted, in the SQL's order. */
export function costLineParameters(range: CostLineRange, tenantTag: string): string[] {
  const { first, last } = billingPeriodsOf(range);
  return [tenantTag, first, last, sqlTimestamp(range.start), sqlTimestamp(range.end)];
}

function monthOf(millis: number): string {
  return new Date(millis).toISOString().slice(0, 7);
}

/** `?` placeholders of a statement, outside comments and string literals. */
function countPlaceholders(sql: string): number {
  if (typeof sql !== 'string') return 0;
  const code = sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
    .replace(/'(?:[^']|'')*'/g, "''");
  return (code.match(/\?/g) ?? []).length;
}

function toCostLine(row: AthenaRow, index: number, range: CostLineRange, tenantTag: string): CostLine {
  const problem = (column: string, message: string) => new CostLineRowError(`cost line row ${index}, column ${column}: ${message}`);
  const text = (column: string): string => {
    const value = row[column];
    if (typeof value !== 'string' || value === '') throw problem(column, `expected text, got ${describe(value)}`);
    return value;
  };
  const optionalText = (column: string): string | undefined => {
    const value = row[column];
    if (value === null || value === undefined) return undefined;
    if (typeof value !== 'string') throw problem(column, `expected text or NULL, got ${describe(value)}`);
    return value;
  };

  const dayText = text('usage_day');
  let start: number;
  try {
    start = parseSqlTimestamp(dayText);
  } catch {
    throw problem('usage_day', `expected a timestamp, got ${JSON.stringify(dayText)}`);
  }
  if (start % DAY_MS !== 0 || start < range.start || start >= range.end) {
    throw problem('usage_day', `${JSON.stringify(dayText)} is not a UTC day of the range asked for`);
  }
  const service = text('service');
  const currency = text('currency');
  if (!CURRENCY.test(currency)) throw problem('currency', `expected an ISO 4217 code of three capital letters, got ${JSON.stringify(currency)}`);
  const amount = text('amount');
  try {
    parseDecimal(amount, COST_AMOUNT_SCALE, { allowNegative: true });
  } catch (error) {
    if (error instanceof DecimalAmountError) throw problem('amount', error.message);
    throw error;
  }
  const resourceId = optionalText('resource_id');
  const tag = optionalText('tenant_tag');
  return {
    start,
    service,
    ...(resourceId === undefined || resourceId === '' ? {} : { resourceId }),
    tags: tag === undefined ? {} : { [tenantTag]: tag },
    amount,
    currency,
  };
}

function describe(value: unknown): string {
  return typeof value === 'bigint' ? `${value}n` : JSON.stringify(value) ?? String(value);
}
