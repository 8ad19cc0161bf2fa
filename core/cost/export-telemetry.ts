/**
 * The daily CloudZero export: one UTC day of tenant consumption, read from a ConsumptionSource at
 * the configured granularity, turned into allocation telemetry and sent. Only the ports are used
 * (the source and the TelemetrySender), so the job runs the same against AWS and locally.
 *
 * A day is exported only once it is over: consumption of an open day is partial, and CloudZero
 * refuses timestamps "too far into the future" (reference/sumallocationtelemetry). Running the same
 * day again is safe with the default `replace` operation: each tenant's value is replaced, not added.
 * The report says what was sent and what was not; the caller decides whether a failed request fails
 * the run (the scheduled function throws, so the schedule's retries and dead-letter queue see it).
 */
import { planTelemetryRequests, toTelemetryRecords, type FailedTelemetryRequest, type TelemetryLimits, type TelemetryMapping, type TelemetryOperation, type TelemetrySender } from './cloudzero-telemetry';
import type { ConsumptionSource, Granularity } from './consumption';

export const DAY_MS = 86_400_000;

/** What the export needs. */
export interface TelemetryExportDependencies {
  readonly source: ConsumptionSource;
  readonly sender: TelemetrySender;
  readonly mapping: TelemetryMapping;
  /** @default 'DAILY' */
  readonly granularity?: Granularity;
  /** @default 'replace' */
  readonly operation?: TelemetryOperation;
  /** Lower limits than CloudZero's (tests, or a margin). */
  readonly limits?: Partial<TelemetryLimits>;
  /** @default Date.now */
  readonly now?: () => number;
}

/** What one export did. */
export interface TelemetryExportReport {
  /** `yyyy-mm-dd` (UTC). */
  readonly day: string;
  readonly granularity: Granularity;
  /** The range read, epoch ms, `[start, end)`. */
  readonly range: { readonly start: number; readonly end: number };
  /** Consumption records read. */
  readonly consumptionRecords: number;
  /** Of those, with value 0 (not sent). */
  readonly skippedZero: number;
  /** Telemetry records to send, per CloudZero stream. */
  readonly streams: Readonly<Record<string, number>>;
  readonly telemetryRecords: number;
  /** Requests planned. */
  readonly batches: number;
  /** Requests answered 2xx, and their records. */
  readonly batchesSent: number;
  readonly recordsSent: number;
  readonly retries: number;
  readonly httpRequests: number;
  readonly failed: readonly FailedTelemetryRequest[];
  /** Every planned request was answered 2xx. */
  readonly ok: boolean;
}

/** A day that cannot be exported, or consumption the source should not have returned. */
export class TelemetryExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TelemetryExportError';
  }
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Start of a `yyyy-mm-dd` UTC day, epoch ms; a malformed or impossible date is a TelemetryExportError. */
export function parseUtcDay(day: string): number {
  const match = typeof day === 'string' ? DAY.exec(day) : null;
  const start = match === null ? Number.NaN : Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  if (match === null || Number.isNaN(start) || utcDay(start) !== day) throw new TelemetryExportError(`day must be a UTC date written yyyy-mm-dd, got ${JSON.stringify(day)}`);
  return start;
}

/** The `yyyy-mm-dd` of the UTC day containing `millis`. */
export function utcDay(millis: number): string {
  return new Date(Math.floor(millis / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}

/** The UTC day before the one containing `now`: what the daily schedule exports. */
export function previousUtcDay(now: number): string {
  return utcDay(now - DAY_MS);
}

/**
 * Exports one UTC day. Rejects (TelemetryExportError) a day not yet over, or consumption outside
 * the day or at another granularity than asked; rejects with TelemetryRecordError consumption that
 * cannot become telemetry. Both happen before anything is sent. Resolves with the report otherwise,
 * failed requests included.
 */
export async function exportTelemetryForDay(deps: TelemetryExportDependencies, day: string): Promise<TelemetryExportReport> {
  const granularity = deps.granularity ?? 'DAILY';
  const operation = deps.operation ?? 'replace';
  const start = parseUtcDay(day);
  const end = start + DAY_MS;
  const now = (deps.now ?? Date.now)();
  if (end > now) throw new TelemetryExportError(`day ${day} is not over yet (it ends ${new Date(end).toISOString()}); only past days are exported`);

  const consumption = await deps.source.read({ start, end }, granularity);
  consumption.forEach((record, index) => {
    if (!(record.start >= start && record.start < end)) {
      throw new TelemetryExportError(`the consumption source returned record ${index} (tenant ${record.tenantId}, ${record.stream}) starting ${record.start}, outside ${day}`);
    }
    if (record.granularity !== granularity) {
      throw new TelemetryExportError(`the consumption source returned record ${index} (tenant ${record.tenantId}, ${record.stream}) at ${record.granularity} granularity; ${granularity} was asked`);
    }
  });
  const { records, skippedZero } = toTelemetryRecords(consumption, deps.mapping);
  const requests = planTelemetryRequests(records, operation, deps.limits);
  const streams: Record<string, number> = {};
  for (const record of records) streams[record['telemetry-stream']] = (streams[record['telemetry-stream']] ?? 0) + 1;

  const sent = requests.length > 0 ? await deps.sender.send(requests) : { batchesSent: 0, recordsSent: 0, retries: 0, httpRequests: 0, failed: [] };
  return {
    day,
    granularity,
    range: { start, end },
    consumptionRecords: consumption.length,
    skippedZero,
    streams,
    telemetryRecords: records.length,
    batches: requests.length,
    batchesSent: sent.batchesSent,
    recordsSent: sent.recordsSent,
    retries: sent.retries,
    httpRequests: sent.httpRequests,
    failed: sent.failed,
    ok: sent.failed.length === 0 && sent.batchesSent === requests.length,
  };
}
