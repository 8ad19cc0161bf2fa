/**
 * Tenant consumption: how much of a shared service each tenant used in an hour or a day. It is the
 * basis for splitting pooled AWS cost between tenants and the value CloudZero's telemetry streams
 * carry. Sources: the usage lake (requests and response bytes per tenant), the tenant metrics the
 * functions emit in embedded metric format (Lambda invocations and duration per tenant) and the
 * DynamoDB capacity counted per tenant (a write = 1 unit, an eventually consistent read = 0.5).
 */

/** How long one consumption figure covers, in CloudZero's vocabulary. */
export type Granularity = 'HOURLY' | 'DAILY';

/** The consumption streams this system measures; allocation rules and telemetry name them. */
export const CONSUMPTION_STREAMS = [
  /** Billable API requests in the lake (one per request id). */
  'api_requests',
  /** Response bytes of those requests. */
  'response_bytes',
  /** Invocations of tenant-facing Lambda functions. */
  'lambda_invocations',
  /** Their duration, milliseconds. */
  'lambda_duration_ms',
  /** DynamoDB capacity units spent on the tenant's items (write 1, eventually consistent read 0.5). */
  'dynamodb_capacity_units',
] as const;

export type ConsumptionStream = (typeof CONSUMPTION_STREAMS)[number];

/** One tenant's consumption of one stream over one hour or day. */
export interface ConsumptionRecord {
  readonly tenantId: string;
  readonly stream: ConsumptionStream;
  readonly granularity: Granularity;
  /** Start of the hour or UTC day, epoch ms. */
  readonly start: number;
  /**
   * The amount, as exact decimal text (`"12"`, `"0.5"`): non-negative, at most 6 fraction digits.
   * Text keeps half capacity units and large byte counts exact through allocation.
   */
  readonly value: string;
}

/** Where consumption comes from (the lake, tenant metrics, …); each source reads one range. */
export interface ConsumptionSource {
  /**
   * Consumption whose hour or day starts in `[start, end)` (whole UTC hours for HOURLY, whole UTC days
   * for DAILY; see {@link checkConsumptionRange}), each record starting at the hour or day it covers.
   */
  read(range: ConsumptionRange, granularity: Granularity): Promise<ConsumptionRecord[]>;
}

/** Length of the period each granularity covers, in milliseconds. */
export const GRANULARITY_MS: Readonly<Record<Granularity, number>> = { HOURLY: 3_600_000, DAILY: 86_400_000 };

/** A source was asked for a range it cannot read (not whole periods, empty, not epoch milliseconds). */
export class ConsumptionRangeError extends RangeError {
  override readonly name = 'ConsumptionRangeError';
}

/** The range a consumption source reads, [start, end) in epoch milliseconds. */
export interface ConsumptionRange {
  readonly start: number;
  readonly end: number;
}

/**
 * Checks a range before a source reads it: integer epoch milliseconds, `start < end`, both on period
 * boundaries of the granularity (UTC hours or UTC days).
 * @throws ConsumptionRangeError naming what is wrong
 */
export function checkConsumptionRange(range: ConsumptionRange, granularity: Granularity): void {
  const period = GRANULARITY_MS[granularity];
  if (period === undefined) throw new ConsumptionRangeError(`unknown granularity ${JSON.stringify(granularity)} (expected HOURLY or DAILY)`);
  for (const bound of ['start', 'end'] as const) {
    const value = range[bound];
    if (!Number.isSafeInteger(value) || value < 0) throw new ConsumptionRangeError(`range ${bound} must be epoch milliseconds, got ${String(value)}`);
    if (value % period !== 0) {
      throw new ConsumptionRangeError(`range ${bound} ${new Date(value).toISOString()} is not the start of a UTC ${granularity === 'HOURLY' ? 'hour' : 'day'}`);
    }
  }
  if (range.start >= range.end) throw new ConsumptionRangeError(`range start ${new Date(range.start).toISOString()} must be before its end ${new Date(range.end).toISOString()}`);
}

/** Start of the UTC hour or day (by granularity) that contains `millis`. */
export function periodStart(millis: number, granularity: Granularity): number {
  const period = GRANULARITY_MS[granularity];
  return Math.floor(millis / period) * period;
}

/** Orders records by period start, then tenant, then stream (every source returns them this way). */
export function compareConsumptionRecords(a: ConsumptionRecord, b: ConsumptionRecord): number {
  if (a.start !== b.start) return a.start - b.start;
  if (a.tenantId !== b.tenantId) return a.tenantId < b.tenantId ? -1 : 1;
  if (a.stream !== b.stream) return a.stream < b.stream ? -1 : 1;
  return 0;
}

