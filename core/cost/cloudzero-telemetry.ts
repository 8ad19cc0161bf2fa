/**
 * Tenant consumption as CloudZero allocation telemetry: the records, the requests that carry them
 * and the port a sender implements. Pure: no HTTP here (adapters/cloudzero/ sends, local/cloudzero/
 * answers locally).
 *
 * CloudZero splits the cost a telemetry stream targets (its `filter`) among the stream's elements in
 * proportion to their `value` for each hour or day. Here an element is a tenant, a stream is one of
 * the consumption streams of core/cost/consumption.ts, and the value is the tenant's consumption.
 *
 * Rules implemented, and their sources (CloudZero documentation, docs.cloudzero.com):
 * - Endpoints (reference/allocation-telemetry-api-1, "Allocation Telemetry"): per stream,
 *   `POST /unit-cost/v1/telemetry/allocation/{stream_name}/sum` adds records and
 *   `…/{stream_name}/replace` replaces the stored records that match the supplied properties; both
 *   create the stream when it does not exist (also reference/authorization, scope
 *   `unit-cost_v1:manage_telemetry_records`). The single `POST /unit-cost/v1/telemetry`, whose
 *   records name their stream, "continues to be supported, but has been deprecated"; it is kept as
 *   the `legacy` operation. Decision: `replace` is the default, because it makes a request
 *   idempotent: a batch sent again after a lost answer, or a day exported twice, leaves one value per
 *   tenant instead of a sum (docs/manage-streams: a record that matches an existing one in
 *   everything but the value replaces it).
 * - Record fields (reference/telemetry and the AWS APN blog on tenant cost allocation with CloudZero): `timestamp` (ISO 8601,
 *   written like the docs' example `2020-01-25T00:00:00Z`), `granularity` (`HOURLY`, `DAILY` or
 *   `MONTHLY`), the element name, `filter` (dimension → array of values) and `value`. The legacy
 *   endpoint's records spell the element `element-name` and carry `telemetry-stream`; the per-stream
 *   endpoints take the stream from the path, and their examples spell the element `element_name`
 *   (reference/allocation-telemetry-api-1); requests are written that way.
 * - `value`: the docs' examples send it as a string (`"250000000"`); it is sent as exact decimal
 *   text, never through a float. It must be greater than 0 (the stream page's API example payload:
 *   "<number greater than 0>"; docs/send-via-csv: "Must be greater than 0"): zero consumption is
 *   not sent and counted in `skippedZero` (a zero share changes no split).
 * - Stream names: "Only alphanumeric characters are allowed along with "_", ".", and "-""
 *   (reference/sumallocationtelemetry), up to 256 characters (docs/send-via-csv). Decision: the
 *   name is `<prefix>.<stream>`; a `/` (as in `saas-metering/api_requests`) is not a stream-name
 *   character, so a prefix with one is refused.
 * - Filters (reference/telemetry, "Targeting Limitations"): at most 5 keys, at most 20 values per
 *   key; "All records within a telemetry-stream must have the same set of keys defined in their
 *   filter" — a filter is configured per stream, so every record of a stream has the same one. Keys
 *   must be dimensions CloudZero knows (`custom:<dimension>`, `tag:<name>`, `account`, …; 400
 *   "Unrecognized filter keys"); that cannot be checked here.
 * - "All records in a stream must contain the same granularity as the stream's granularity"
 *   (reference/sumallocationtelemetry, 400 responses): one plan refuses mixed granularities in a
 *   stream.
 * - Size (reference/telemetry, Limits): "10KB size limit per record and 5MB size limit per
 *   request"; a record over 10 KB is refused here (it could never be sent). Decision: 5 MB and
 *   10 KB are read as 5,000,000 and 10,000 bytes of UTF-8 JSON, the smaller reading.
 * - Records per request: the docs give none beyond the size ("approximately 10,000 records of 512
 *   bytes each", reference/telemetry-api-1). Decision: at most 3,000, the batch size CloudZero's own
 *   tools use (cloudzero-uca-tools `UCA_API_BATCH_SIZE`, cloudzero-telemetry-library).
 * - Rate (reference/telemetry): "1m records per day and 300k records per minute" per organization
 *   (another page: 100 records per second with a burst of a day's worth); a daily export of five
 *   streams per tenant stays far below it. Requests are sent one at a time; 429 and 503 ("slow
 *   down") are retried by the sender.
 *
 * Element names (decision): the docs set no rule; the element is a tenant id, so it must have the
 * shape this system issues (core/identifiers.ts TENANT_ID).
 */
import { TENANT_ID } from '../identifiers';
import { CONSUMPTION_STREAMS, type ConsumptionRecord, type ConsumptionStream, type Granularity } from './consumption';
import { CONSUMPTION_VALUE_SCALE, formatDecimal, parseDecimal } from './decimal-amount';

/** Requests go one stream at a time, with the stream in the path (`replace`, `sum`) or in each record (`legacy`). */
export type TelemetryOperation = 'replace' | 'sum' | 'legacy';

export const TELEMETRY_OPERATIONS: readonly TelemetryOperation[] = ['replace', 'sum', 'legacy'];

/** A CloudZero filter: dimension → the values of it whose cost the stream splits. */
export type TelemetryFilter = Readonly<Record<string, readonly string[]>>;

/** One allocation telemetry record, in the fields CloudZero documents. */
export interface TelemetryRecord {
  /** ISO 8601 UTC, whole seconds: `2026-11-20T00:00:00Z`. */
  readonly timestamp: string;
  readonly granularity: Granularity;
  /** The tenant. */
  readonly 'element-name': string;
  readonly 'telemetry-stream': string;
  /** Absent when the stream targets no particular cost. */
  readonly filter?: TelemetryFilter;
  /** Exact decimal text, greater than 0. */
  readonly value: string;
}

/** The limits one request is planned within (see the module comment for the sources). */
export interface TelemetryLimits {
  /** UTF-8 bytes of a request's JSON body. */
  readonly maxRequestBytes: number;
  /** UTF-8 bytes of one record's JSON. */
  readonly maxRecordBytes: number;
  readonly maxRecordsPerRequest: number;
}

/** CloudZero's documented limits and the record count decision. */
export const CLOUDZERO_TELEMETRY_LIMITS: TelemetryLimits = Object.freeze({
  maxRequestBytes: 5_000_000,
  maxRecordBytes: 10_000,
  maxRecordsPerRequest: 3_000,
});

/** Filter keys per stream (reference/telemetry). */
export const MAX_FILTER_KEYS = 5;
/** Values per filter key (reference/telemetry). */
export const MAX_FILTER_VALUES = 20;
/** Stream names: letters, digits, `_`, `.`, `-`; at most 256 characters. */
export const STREAM_NAME = /^[A-Za-z0-9_.-]{1,256}$/;
/** The public API (reference/telemetry). */
export const CLOUDZERO_API_URL = 'https://api.cloudzero.com';

/** How consumption becomes telemetry. */
export interface TelemetryMapping {
  /** Put in front of each consumption stream's name: `<prefix>.<stream>`; empty for the bare name. */
  readonly streamPrefix: string;
  /** The filter of every stream without its own; absent or empty for none. */
  readonly filter?: TelemetryFilter;
  /** A stream's own filter; `null` for none even when `filter` is set. */
  readonly filters?: Readonly<Partial<Record<ConsumptionStream, TelemetryFilter | null>>>;
}

/** Consumption that cannot become telemetry, or a configuration CloudZero would refuse. */
export class TelemetryRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TelemetryRecordError';
  }
}

/** The CloudZero stream of a consumption stream: `<prefix>.<stream>`, checked against CloudZero's rule. */
export function telemetryStreamName(prefix: string, stream: string): string {
  const name = prefix === '' ? stream : `${prefix}.${stream}`;
  if (!STREAM_NAME.test(name)) {
    throw new TelemetryRecordError(`telemetry stream name ${JSON.stringify(name)} is not allowed: CloudZero stream names are 1-256 letters, digits, "_", "." or "-"`);
  }
  return name;
}

/**
 * Checks a filter against CloudZero's targeting limits and returns it with its keys sorted (so every
 * record of a stream writes it the same way), or undefined for no filter (absent or no keys).
 */
export function checkTelemetryFilter(filter: unknown, label = 'filter'): TelemetryFilter | undefined {
  if (filter === undefined || filter === null) return undefined;
  if (typeof filter !== 'object' || Array.isArray(filter)) throw new TelemetryRecordError(`${label} must be an object of dimension → array of values`);
  const keys = Object.keys(filter).sort();
  if (keys.length === 0) return undefined;
  if (keys.length > MAX_FILTER_KEYS) throw new TelemetryRecordError(`${label} has ${keys.length} keys; CloudZero allows at most ${MAX_FILTER_KEYS}`);
  const checked: Record<string, readonly string[]> = {};
  for (const key of keys) {
    if (key.trim() !== key || key.length === 0) throw new TelemetryRecordError(`${label} key ${JSON.stringify(key)} must be a dimension id without surrounding spaces`);
    const values = (filter as Record<string, unknown>)[key];
    if (!Array.isArray(values) || values.length === 0) throw new TelemetryRecordError(`${label}[${JSON.stringify(key)}] must be a non-empty array of values`);
    if (values.length > MAX_FILTER_VALUES) throw new TelemetryRecordError(`${label}[${JSON.stringify(key)}] has ${values.length} values; CloudZero allows at most ${MAX_FILTER_VALUES}`);
    for (const value of values) {
      if (typeof value !== 'string' || value.length === 0) throw new TelemetryRecordError(`${label}[${JSON.stringify(key)}] values must be non-empty strings, got ${JSON.stringify(value)}`);
    }
    checked[key] = Object.freeze([...(values as string[])]);
  }
  return Object.freeze(checked);
}

/** A filter from JSON text (an environment variable); empty text is no filter. */
export function parseTelemetryFilter(text: string | undefined, label = 'filter'): TelemetryFilter | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new TelemetryRecordError(`${label} is not valid JSON: ${JSON.stringify(text.slice(0, 200))}`);
  }
  return checkTelemetryFilter(value, label);
}

/** The telemetry of some consumption. */
export interface TelemetryRecords {
  /** In the order of the consumption records they come from. */
  readonly records: readonly TelemetryRecord[];
  /** Consumption records with value 0: nothing to send (CloudZero wants values greater than 0). */
  readonly skippedZero: number;
}

const DECIMAL = /^(\d+)(?:\.(\d{1,6}))?$/;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * Turns consumption into telemetry records. Refuses (TelemetryRecordError, naming the record) an
 * unknown stream, a tenant id of the wrong shape, a start not on its hour or UTC day, a value that is
 * not non-negative decimal text with at most 6 fraction digits, mixed granularities in one stream,
 * and the same tenant, stream and start twice (which of the two would CloudZero keep?).
 */
export function toTelemetryRecords(consumption: readonly ConsumptionRecord[], mapping: TelemetryMapping): TelemetryRecords {
  const streams = new Map<ConsumptionStream, { name: string; filter: TelemetryFilter | undefined; granularity?: Granularity }>();
  const seen = new Set<string>();
  const records: TelemetryRecord[] = [];
  let skippedZero = 0;
  consumption.forEach((record, index) => {
    const where = `consumption record ${index} (tenant ${JSON.stringify(record.tenantId)}, stream ${JSON.stringify(record.stream)})`;
    if (!(CONSUMPTION_STREAMS as readonly string[]).includes(record.stream)) throw new TelemetryRecordError(`${where}: unknown consumption stream`);
    let stream = streams.get(record.stream);
    if (stream === undefined) {
      const own = mapping.filters?.[record.stream];
      const filter = own === null ? undefined : checkTelemetryFilter(own ?? mapping.filter, own !== undefined ? `filter of ${record.stream}` : 'filter');
      stream = { name: telemetryStreamName(mapping.streamPrefix, record.stream), filter };
      streams.set(record.stream, stream);
    }
    if (typeof record.tenantId !== 'string' || !TENANT_ID.test(record.tenantId)) throw new TelemetryRecordError(`${where}: the tenant id must be 1-64 letters, digits, "_", "." or "-"`);
    if (record.granularity !== 'HOURLY' && record.granularity !== 'DAILY') throw new TelemetryRecordError(`${where}: granularity must be HOURLY or DAILY, got ${JSON.stringify(record.granularity)}`);
    stream.granularity ??= record.granularity;
    if (stream.granularity !== record.granularity) throw new TelemetryRecordError(`${where}: stream ${stream.name} mixes ${stream.granularity} and ${record.granularity} records; CloudZero keeps one granularity per stream`);
    const timestamp = periodTimestamp(record.start, record.granularity, where);
    const key = `${record.stream}\u0000${record.tenantId}\u0000${record.start}`;
    if (seen.has(key)) throw new TelemetryRecordError(`${where}: a second record for ${timestamp}`);
    seen.add(key);
    const value = canonicalDecimal(record.value, where);
    if (value === '0') {
      skippedZero += 1;
      return;
    }
    records.push({
      timestamp,
      granularity: record.granularity,
      'element-name': record.tenantId,
      'telemetry-stream': stream.name,
      ...(stream.filter !== undefined ? { filter: stream.filter } : {}),
      value,
    });
  });
  return { records, skippedZero };
}

function periodTimestamp(start: number, granularity: Granularity, where: string): string {
  const unit = granularity === 'DAILY' ? DAY_MS : HOUR_MS;
  if (!Number.isSafeInteger(start) || start < 0 || start % unit !== 0) {
    throw new TelemetryRecordError(`${where}: start ${start} is not the start of a UTC ${granularity === 'DAILY' ? 'day' : 'hour'} (epoch ms)`);
  }
  return new Date(start).toISOString().replace('.000Z', 'Z');
}

/** `"012.500"` → `"12.5"`; refuses anything that is not non-negative decimal text with ≤ 6 fraction digits. */
function canonicalDecimal(value: unknown, where: string): string {
  if (typeof value !== 'string' || !DECIMAL.test(value)) throw new TelemetryRecordError(`${where}: value ${JSON.stringify(value)} is not non-negative decimal text with at most 6 fraction digits`);
  return formatDecimal(parseDecimal(value, CONSUMPTION_VALUE_SCALE), CONSUMPTION_VALUE_SCALE, 0);
}

/** One HTTP request of a plan: a stream's records within the limits. */
export interface TelemetryRequest {
  /** The CloudZero stream. */
  readonly stream: string;
  /** Path below the API URL, e.g. `/unit-cost/v1/telemetry/allocation/saas-metering.api_requests/replace`. */
  readonly path: string;
  /** The JSON body, exactly as sent. */
  readonly body: string;
  /** UTF-8 bytes of `body`. */
  readonly bytes: number;
  /** The records in the body, in order. */
  readonly records: readonly TelemetryRecord[];
}

/**
 * The limits to plan within: CloudZero's, or lower ones (tests, or a margin). A limit above
 * CloudZero's, or not a positive integer, is a RangeError.
 */
export function resolveTelemetryLimits(overrides: Partial<TelemetryLimits> = {}): TelemetryLimits {
  const limits = { ...CLOUDZERO_TELEMETRY_LIMITS, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) } as TelemetryLimits;
  for (const key of Object.keys(CLOUDZERO_TELEMETRY_LIMITS) as (keyof TelemetryLimits)[]) {
    const value = limits[key];
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${key} must be a positive integer, got ${value}`);
    if (value > CLOUDZERO_TELEMETRY_LIMITS[key]) throw new RangeError(`${key} ${value} is above CloudZero's limit of ${CLOUDZERO_TELEMETRY_LIMITS[key]}`);
  }
  if (limits.maxRecordBytes + ENVELOPE_BYTES > limits.maxRequestBytes) throw new RangeError('maxRequestBytes must leave room for one record of maxRecordBytes');
  return Object.freeze(limits);
}

const BODY_HEAD = '{"records":[';
const BODY_TAIL = ']}';
/** Bytes of a body around its records. */
const ENVELOPE_BYTES = BODY_HEAD.length + BODY_TAIL.length;

/** The record as the operation's endpoint takes it. */
export function wireRecord(record: TelemetryRecord, operation: TelemetryOperation): Record<string, unknown> {
  const filter = record.filter !== undefined ? { filter: record.filter } : {};
  if (operation === 'legacy') {
    return { timestamp: record.timestamp, granularity: record.granularity, 'element-name': record['element-name'], 'telemetry-stream': record['telemetry-stream'], ...filter, value: record.value };
  }
  return { timestamp: record.timestamp, granularity: record.granularity, element_name: record['element-name'], ...filter, value: record.value };
}

/** The path of a stream's requests. */
export function telemetryPath(stream: string, operation: TelemetryOperation): string {
  if (operation === 'legacy') return '/unit-cost/v1/telemetry';
  return `/unit-cost/v1/telemetry/allocation/${encodeURIComponent(stream)}/${operation}`;
}

/**
 * Cuts records into requests: one stream per request (streams in order of first appearance, each
 * stream's records in input order), greedily, a new request when the next record would pass the
 * record count or the body size. A record over `maxRecordBytes` is a TelemetryRecordError: it can
 * never be sent, and leaving it out would shift the split silently.
 */
export function planTelemetryRequests(records: readonly TelemetryRecord[], operation: TelemetryOperation = 'replace', limitOverrides: Partial<TelemetryLimits> = {}): TelemetryRequest[] {
  if (!TELEMETRY_OPERATIONS.includes(operation)) throw new RangeError(`unknown telemetry operation ${JSON.stringify(operation)}; expected one of ${TELEMETRY_OPERATIONS.join(', ')}`);
  const limits = resolveTelemetryLimits(limitOverrides);
  const byStream = new Map<string, { json: string; bytes: number; record: TelemetryRecord }[]>();
  records.forEach((record, index) => {
    const json = JSON.stringify(wireRecord(record, operation));
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes > limits.maxRecordBytes) {
      throw new TelemetryRecordError(`telemetry record ${index} (stream ${record['telemetry-stream']}, element ${record['element-name']}) is ${bytes} bytes; CloudZero takes at most ${limits.maxRecordBytes}`);
    }
    const list = byStream.get(record['telemetry-stream']) ?? [];
    list.push({ json, bytes, record });
    byStream.set(record['telemetry-stream'], list);
  });

  const requests: TelemetryRequest[] = [];
  for (const [stream, entries] of byStream) {
    let current: typeof entries = [];
    let bytes = ENVELOPE_BYTES;
    const flush = () => {
      if (current.length === 0) return;
      const body = BODY_HEAD + current.map((entry) => entry.json).join(',') + BODY_TAIL;
      requests.push({ stream, path: telemetryPath(stream, operation), body, bytes, records: current.map((entry) => entry.record) });
      current = [];
      bytes = ENVELOPE_BYTES;
    };
    for (const entry of entries) {
      const added = entry.bytes + (current.length > 0 ? 1 : 0);
      if (current.length >= limits.maxRecordsPerRequest || bytes + added > limits.maxRequestBytes) flush();
      bytes += entry.bytes + (current.length > 0 ? 1 : 0);
      current.push(entry);
    }
    flush();
  }
  return requests;
}

/** A request CloudZero never accepted (no 2xx answer). */
export interface FailedTelemetryRequest {
  readonly stream: string;
  readonly path: string;
  /** Records in the request. */
  readonly records: number;
  /** HTTP attempts made (0 when it was not sent because an earlier request showed none could succeed). */
  readonly attempts: number;
  /** The last HTTP status, when there was an answer. */
  readonly status?: number;
  /** Why: CloudZero's message, the network error, or why it was not retried. */
  readonly reason: string;
}

/** What became of the requests of one `send`. */
export interface TelemetrySendReport {
  /** Requests answered 2xx. */
  readonly batchesSent: number;
  /** Records in those requests. */
  readonly recordsSent: number;
  /** HTTP attempts after the first of each request. */
  readonly retries: number;
  /** HTTP requests made in all. */
  readonly httpRequests: number;
  /** Requests never answered 2xx, in plan order. */
  readonly failed: readonly FailedTelemetryRequest[];
}

/** Sends planned requests to CloudZero (adapters/cloudzero/cloudzero-telemetry-client.ts). */
export interface TelemetrySender {
  /**
   * Sends each request until it is answered 2xx or given up. Resolves with what became of every
   * request (each one ends either sent or in `failed`); rejects only on a programming error.
   */
  send(requests: readonly TelemetryRequest[]): Promise<TelemetrySendReport>;
}
