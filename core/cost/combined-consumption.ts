/**
 * Consumption comes from several places — the usage lake (requests, bytes) and the tenant metrics the
 * functions write as EMF (invocations, duration, DynamoDB capacity) — but whoever allocates cost or
 * exports telemetry wants one source. This module composes sources into one.
 */
import { checkConsumptionRange, compareConsumptionRecords, type ConsumptionRange, type ConsumptionRecord, type ConsumptionSource, type Granularity } from './consumption';

/** Two sources reported the same tenant, stream and period: they measure the same thing twice. */
export class ConsumptionOverlapError extends Error {
  override readonly name = 'ConsumptionOverlapError';
}

const recordKey = (r: ConsumptionRecord) => JSON.stringify([r.tenantId, r.stream, r.granularity, r.start]);

/**
 * One source over several: reads every source for the same range (concurrently) and returns their
 * records together, ordered. Each stream has exactly one source (the lake measures requests and
 * bytes, the tenant metrics invocations, duration and capacity), so a tenant, stream and period
 * reported by two sources is a configuration error, not something to add up silently.
 */
export class CombinedConsumptionSource implements ConsumptionSource {
  constructor(private readonly sources: readonly ConsumptionSource[]) {}

  /**
   * @throws ConsumptionRangeError for a range no source can read
   * @throws ConsumptionOverlapError when two sources report the same tenant, stream and period
   */
  async read(range: ConsumptionRange, granularity: Granularity): Promise<ConsumptionRecord[]> {
    checkConsumptionRange(range, granularity);
    const parts = await Promise.all(this.sources.map((source) => source.read(range, granularity)));
    const seen = new Map<string, number>();
    parts.forEach((records, index) => {
      for (const record of records) {
        const key = recordKey(record);
        const other = seen.get(key);
        if (other !== undefined && other !== index) {
          throw new ConsumptionOverlapError(
            `sources ${other} and ${index} both report ${record.stream} of tenant ${JSON.stringify(record.tenantId)} for ${new Date(record.start).toISOString()}`,
          );
        }
        seen.set(key, index);
      }
    });
    return parts.flat().sort(compareConsumptionRecords);
  }
}
