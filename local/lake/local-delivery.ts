import type { FirehoseTransformationEventRecord } from 'aws-lambda';
import type { DuckDbLake } from '../../adapters/duckdb/duckdb-lake';
import { routingInDatabase, type Routing } from '../../core/ingestion/record-kinds';
import { transformBatch, type RecordFailure } from '../../core/ingestion/transform-batch';

/** The database name the local lake's routing uses (one database, as in AWS). */
export const LOCAL_DATABASE = 'local_usage';

/** A record on its way to the lake, as Firehose hands it to the transform (data decoded). */
export interface DeliveryRecord {
  readonly recordId: string;
  readonly data: Uint8Array;
  readonly approximateArrivalTimestamp: number;
}

/** A record the transform refused: kept, as Firehose keeps it under the lake's `errors/` prefix. */
export interface FailedDelivery extends RecordFailure {
  readonly data: Uint8Array;
}

/**
 * The local stand-in for Firehose's delivery into the Iceberg tables: each batch goes through the
 * real transform (`transformBatch`, the same code the Lambda runs), and every `Ok` record is appended
 * to the table its routing names in the DuckDB lake; refused records are kept in {@link failed} with
 * their reason. A batch is appended table by table; a failure throws, so the caller (the local
 * Firehose) hands the batch again — at least once, like Firehose.
 */
export class LocalLakeDelivery {
  readonly failed: FailedDelivery[] = [];
  private readonly routing: Routing = routingInDatabase(LOCAL_DATABASE);
  /** Rows appended, by table. */
  readonly delivered = new Map<string, number>();

  constructor(
    private readonly lake: DuckDbLake,
    private readonly now: () => number = Date.now,
  ) {}

  /** Transforms and appends one batch. */
  async deliver(records: readonly DeliveryRecord[]): Promise<void> {
    if (records.length === 0) return;
    const input: FirehoseTransformationEventRecord[] = records.map((r) => ({ recordId: r.recordId, approximateArrivalTimestamp: r.approximateArrivalTimestamp, data: Buffer.from(r.data).toString('base64') }));
    const result = transformBatch(input, this.routing, { nowMillis: this.now() });
    const rowsByTable = new Map<string, Record<string, unknown>[]>();
    result.records.forEach((record) => {
      if (record.result !== 'Ok') return;
      const table = record.metadata?.otfMetadata?.destinationTableName as string;
      const rows = rowsByTable.get(table) ?? [];
      rows.push(JSON.parse(Buffer.from(record.data, 'base64').toString('utf8')) as Record<string, unknown>);
      rowsByTable.set(table, rows);
    });
    for (const [table, rows] of rowsByTable) {
      await this.lake.appendRows(table, rows);
      this.delivered.set(table, (this.delivered.get(table) ?? 0) + rows.length);
    }
    const byId = new Map(records.map((r) => [r.recordId, r]));
    for (const failure of result.failures) this.failed.push({ ...failure, data: byId.get(failure.recordId)?.data ?? new Uint8Array() });
  }
}
