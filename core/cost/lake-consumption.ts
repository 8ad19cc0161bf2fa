/**
 * The lake's share of tenant consumption: requests and response bytes per tenant and hour or day,
 * measured by `sql/queries/daily_tenant_consumption.sql` on the usage engine (Athena in AWS, DuckDB
 * locally) with the billing query's rules — each request id counted once, requests without a tenant
 * left out — so that cost is split over the same requests tenants are billed for.
 */
import { parseSqlTimestamp, sqlTimestamp } from '../usage/hours';
import { textValue, type UsageQueryEngine } from '../usage/usage-query-engine';
import { checkConsumptionRange, compareConsumptionRecords, type ConsumptionRange, type ConsumptionRecord, type ConsumptionSource, type Granularity, periodStart } from './consumption';

/** The `date_trunc` unit the query groups by, per granularity. */
const PERIOD_UNIT: Readonly<Record<Granularity, string>> = { HOURLY: 'hour', DAILY: 'day' };

/** A row of the consumption query that does not read as a tenant, a period and two counts. */
export class LakeConsumptionRowError extends Error {
  override readonly name = 'LakeConsumptionRowError';
}

const COUNT = /^(0|[1-9][0-9]*)$/;

function countValue(value: unknown, column: string): string {
  const text = typeof value === 'bigint' || typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !COUNT.test(text)) throw new LakeConsumptionRowError(`column ${column}: expected a whole number ≥ 0, got ${JSON.stringify(typeof value === 'bigint' ? String(value) : value)}`);
  return text;
}

/** What the last read cost, where the engine reports it. */
export interface LakeConsumptionRead {
  readonly records: ConsumptionRecord[];
  /** Bytes the engine read (Athena bills by them). */
  readonly bytesScanned?: number;
}

/**
 * Consumption streams `api_requests` and `response_bytes` from the usage lake. Only periods with
 * requests appear; a period whose requests returned no bytes has no `response_bytes` record (no
 * source reports a zero).
 */
export class LakeConsumptionSource implements ConsumptionSource {
  /**
   * @param engine where the SQL runs (Athena or DuckDB)
   * @param sql the text of `sql/queries/daily_tenant_consumption.sql`
   */
  constructor(
    private readonly engine: UsageQueryEngine,
    private readonly sql: string,
  ) {}

  async read(range: ConsumptionRange, granularity: Granularity): Promise<ConsumptionRecord[]> {
    return (await this.measure(range, granularity)).records;
  }

  /**
   * Like {@link read}, with the bytes the engine scanned.
   * @throws ConsumptionRangeError for a range that is not whole hours (HOURLY) or UTC days (DAILY)
   * @throws LakeConsumptionRowError for a row the query should never return
   */
  async measure(range: ConsumptionRange, granularity: Granularity): Promise<LakeConsumptionRead> {
    checkConsumptionRange(range, granularity);
    const result = await this.engine.query({
      sql: this.sql,
      parameters: [sqlTimestamp(range.start), sqlTimestamp(range.end), PERIOD_UNIT[granularity]],
      timeRange: { start: range.start, end: range.end },
    });
    const records: ConsumptionRecord[] = [];
    for (const row of result.rows) {
      const tenantId = textValue(row.tenant_id, 'tenant_id');
      const start = parseSqlTimestamp(textValue(row.period_start, 'period_start'));
      if (start !== periodStart(start, granularity) || start < range.start || start >= range.end) {
        throw new LakeConsumptionRowError(`period_start ${JSON.stringify(row.period_start)} is not a ${granularity} period of the range asked for`);
      }
      const requests = countValue(row.requests, 'requests');
      const bytes = countValue(row.response_bytes, 'response_bytes');
      if (requests !== '0') records.push({ tenantId, stream: 'api_requests', granularity, start, value: requests });
      if (bytes !== '0') records.push({ tenantId, stream: 'response_bytes', granularity, start, value: bytes });
    }
    return { records: records.sort(compareConsumptionRecords), bytesScanned: result.bytesScanned };
  }
}
