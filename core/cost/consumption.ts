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
  /** Consumption whose hour or day starts in `[start, end)` (epoch ms, whole UTC days for DAILY). */
  read(range: { readonly start: number; readonly end: number }, granularity: Granularity): Promise<ConsumptionRecord[]>;
}
