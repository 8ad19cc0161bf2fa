/**
 * The Firehose transformation of one batch: decode, validate, normalise and route every record, and
 * answer Firehose with exactly the records it sent, in order.
 *
 * Results. `Ok` for a valid record (its normalised JSON line, routed with `metadata.otfMetadata`);
 * `ProcessingFailed` for anything else, with the record's ORIGINAL data, so that Firehose writes it
 * untouched to the error prefix for inspection and replay. Never `Dropped`: an access log is a billable
 * fact and is either delivered or kept in the error prefix. A bad record never fails the batch.
 *
 * Duplicates. The transform does not de-duplicate and cannot: API Gateway and Firehose deliver at least
 * once, and a retry may land in another batch (or another invocation). Records are inserted as they
 * are (`operation: 'insert'`, no unique keys), and the hourly billing query counts each `request_id`
 * once; duplicates of one request carry the same `request_time`, so they fall into the same hour and
 * are removed exactly there.
 *
 * The 6 MB response limit (https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html).
 * Lambda rejects a synchronous response larger than 6 MB; Firehose would retry the whole batch and
 * finally send all of it to the error prefix. Normalising can make a record bigger (`"-"` → `null`,
 * milliseconds → microseconds, the routing metadata), so the response size is computed exactly while
 * it is built and kept within a budget (6,000,000 bytes by default) by reservation: a record is
 * answered `Ok` only if every later record still fits in its `ProcessingFailed` form. That form
 * (record id, result, original data) is smaller than the record's entry in the request, which also
 * carries `approximateArrivalTimestamp`, so answering every record `ProcessingFailed` always fits
 * whenever the request did. A record that does not fit is answered `ProcessingFailed` (category
 * `FailedResponseLimit`) with its original data and lands in the error prefix: kept, not lost.
 * Answering without `data` is not an option: Firehose treats a record without it as a failure
 * (https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-status-model.html) and does
 * not document what it would then keep. With a processor buffer of at most
 * {@link MAX_PROCESSOR_BUFFER_MIB} MiB the guard never fires, even for the worst-case record (a unit
 * test proves it); at Firehose's maximum of 3 MB, typical 400-byte access logs already come within
 * about 60 KB of the budget and the smallest possible ones exceed it.
 *
 * Pure: no AWS SDK, no clock unless none is given, no logging (the handler logs `failures`).
 */
import { isUtf8 } from 'node:buffer';
import type { FirehoseTransformationEventRecord, FirehoseTransformationResultRecord } from 'aws-lambda';
import { loggableRequestId, validationContextAt } from './access-log-schema';
import { ConfigurationError, kindOf, RECORD_KINDS, type RecordKind, type Routing, type ValidationContext } from './record-kinds';

/** Lambda's limit on a synchronous invocation response (6 MB). */
export const LAMBDA_RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024;
/** The response size the transform stays within by default: 6 MB less a safety margin. */
export const DEFAULT_RESPONSE_BUDGET_BYTES = 6_000_000;
/**
 * The largest Firehose processor buffer (`BufferSizeInMBs`) with which the response cannot reach the
 * budget even if every record is a smallest possible access log (the worst growth) and the destination
 * names are 64 characters long; the infrastructure should configure at most this (proved by a unit test).
 */
export const MAX_PROCESSOR_BUFFER_MIB = 2;
/** The largest decoded record accepted; an access-log line is a few hundred bytes. */
export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024;

/** Why a record failed; each category is also a CloudWatch metric. */
export const FAILURE_CATEGORIES = [
  /** Not base64, empty, not UTF-8, or without a record id. */
  'FailedDecode',
  /** Not JSON, or not exactly one JSON object. */
  'FailedJson',
  /** Valid JSON that breaks its record kind's schema. */
  'FailedSchema',
  /** Larger than the maximum record size. */
  'FailedTooLarge',
  /** Valid, but no room left in the 6 MB response: kept in the error prefix. */
  'FailedResponseLimit',
  /** An unexpected error while processing the record. */
  'FailedInternal',
] as const;
export type FailureCategory = (typeof FAILURE_CATEGORIES)[number];

/** Routing of one record to an Iceberg table (`metadata.otfMetadata`; absent from @types/aws-lambda). */
export interface OtfMetadata {
  readonly destinationDatabaseName: string;
  readonly destinationTableName: string;
  readonly operation: 'insert' | 'update' | 'delete';
}

/** A transformed record as Firehose expects it back from a processor for an Iceberg destination. */
export interface IcebergTransformationResultRecord extends Omit<FirehoseTransformationResultRecord, 'data' | 'metadata'> {
  /** Base64: the normalised record (`Ok`) or the original data, unchanged (`ProcessingFailed`). */
  data: string;
  /** The destination table of an `Ok` record. */
  metadata?: { readonly otfMetadata: OtfMetadata };
}

/** The processor's answer to Firehose. */
export interface IcebergTransformationResult {
  records: IcebergTransformationResultRecord[];
}

/** One failed record, for the logs: never its payload. */
export interface RecordFailure {
  readonly recordId: string;
  /** The record's request id, when one could be read and looks like one. */
  readonly requestId?: string;
  readonly category: FailureCategory;
  readonly reason: string;
}

/** How many records ended how. */
export interface BatchCounts {
  readonly ok: number;
  readonly failed: number;
  readonly byCategory: Readonly<Record<FailureCategory, number>>;
}

/** The transformation of a batch. */
export interface BatchTransformation {
  /** One result per input record, same ids, same order. */
  readonly records: IcebergTransformationResultRecord[];
  readonly counts: BatchCounts;
  readonly failures: readonly RecordFailure[];
  /** The exact size in bytes of `JSON.stringify({ records })` (UTF-8). */
  readonly responseBytes: number;
}

/** Options of {@link transformBatch}; the defaults suit production. */
export interface TransformOptions {
  /** The current time in epoch milliseconds (default `Date.now()`), for the `request_time` window. */
  readonly nowMillis?: number;
  /** The record kinds, in recognition order (default {@link RECORD_KINDS}). */
  readonly kinds?: readonly RecordKind[];
  /** The response size to stay within (default {@link DEFAULT_RESPONSE_BUDGET_BYTES}). */
  readonly responseBudgetBytes?: number;
  /** The largest decoded record accepted (default {@link DEFAULT_MAX_RECORD_BYTES}). */
  readonly maxRecordBytes?: number;
}

interface Failure {
  readonly category: FailureCategory;
  readonly reason: string;
  readonly requestId?: string;
}

interface Normalised {
  /** The normalised record, newline-terminated, in base64. */
  readonly data: string;
  readonly kind: RecordKind;
}

interface Route {
  readonly metadata: { readonly otfMetadata: OtfMetadata };
  /** The bytes of an `Ok` entry besides its record id and data strings. */
  readonly okEntryOverhead: number;
}

const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');
/** `{"records":[]}`: the response around its entries. */
const RESPONSE_ENVELOPE_BYTES = utf8Bytes(JSON.stringify({ records: [] }));
/** The bytes of a `ProcessingFailed` entry besides its record id and data strings. */
const FAILED_ENTRY_OVERHEAD = utf8Bytes(JSON.stringify({ recordId: '', result: 'ProcessingFailed', data: '' })) - 4;
/** What JSON.stringify escapes in ASCII text: quote, backslash and control characters. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NEEDS_JSON_ESCAPE = /["\\\u0000-\u001f]/;
const EQUALS_SIGN = 0x3d;
const NEWLINE = 0x0a;

/** The exact UTF-8 size of `JSON.stringify(text)`. */
export function jsonStringBytes(text: string): number {
  const length = text.length;
  if (utf8Bytes(text) === length && !NEEDS_JSON_ESCAPE.test(text)) return length + 2;
  let bytes = 2;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) {
      if (code === 0x22 || code === 0x5c) bytes += 2;
      else if (code >= 0x20) bytes += 1;
      else bytes += code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d ? 2 : 6;
    } else if (code < 0x800) {
      bytes += 2;
    } else if (code >= 0xd800 && code <= 0xdbff && i + 1 < length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else {
      // A lone surrogate is written as a six-character \uXXXX escape.
      bytes += code >= 0xd800 && code <= 0xdfff ? 6 : 3;
    }
  }
  return bytes;
}

/**
 * Decodes strict base64 (standard alphabet, padded to a multiple of four) into `target` at `offset`;
 * returns the number of bytes written, or -1 when `text` is not strict base64. Node's decoder skips
 * characters outside the alphabet, accepts the URL-safe one and keeps only the low byte of other
 * characters: whatever it would silently reinterpret is refused first, and a decoded length short of
 * what the text's length promises reveals a skipped character. `target` needs room for
 * `text.length / 4 * 3` bytes.
 */
export function decodeStrictBase64Into(text: string, target: Buffer, offset: number): number {
  const length = text.length;
  if (length === 0 || length % 4 !== 0) return -1;
  if (utf8Bytes(text) !== length || text.indexOf('-') !== -1 || text.indexOf('_') !== -1) return -1;
  let padding = 0;
  if (text.charCodeAt(length - 1) === EQUALS_SIGN) padding = text.charCodeAt(length - 2) === EQUALS_SIGN ? 2 : 1;
  const expected = (length / 4) * 3 - padding;
  return target.write(text, offset, 'base64') === expected ? expected : -1;
}

/** Strict base64 (see {@link decodeStrictBase64Into}): the decoded bytes, or undefined. */
export function decodeStrictBase64(text: string): Buffer | undefined {
  const target = Buffer.alloc((text.length >>> 2) * 3 + 3);
  const written = decodeStrictBase64Into(text, target, 0);
  return written < 0 ? undefined : target.subarray(0, written);
}

function routesFor(kinds: readonly RecordKind[], routing: Routing): Map<RecordKind, Route> {
  const routes = new Map<RecordKind, Route>();
  for (const kind of kinds) {
    const destination = routing.get(kind.name);
    if (destination === undefined) throw new ConfigurationError(`no destination for record kind ${kind.name}`);
    const metadata = {
      otfMetadata: {
        destinationDatabaseName: destination.databaseName,
        destinationTableName: destination.tableName,
        operation: 'insert',
      },
    } as const;
    const okEntryOverhead = utf8Bytes(JSON.stringify({ recordId: '', result: 'Ok', data: '', metadata })) - 4;
    routes.set(kind, { metadata, okEntryOverhead });
  }
  return routes;
}

/** The record at `index`, or an empty one in its place when the event holds null there. */
function recordAt(records: readonly FirehoseTransformationEventRecord[], index: number): FirehoseTransformationEventRecord {
  return records[index] ?? ({} as FirehoseTransformationEventRecord);
}

function failure(category: FailureCategory, reason: string, requestId?: string): Failure {
  return requestId === undefined ? { category, reason } : { category, reason, requestId };
}

/** The decoded records of a batch, end to end in one buffer. */
interface DecodedBatch {
  readonly bytes: Buffer;
  readonly starts: Float64Array;
  readonly lengths: Float64Array;
  /** Why a record could not be decoded (undefined when it was). */
  readonly failures: (Failure | undefined)[];
  readonly longest: number;
}

function tooLarge(maxRecordBytes: number): Failure {
  return failure('FailedTooLarge', `larger than ${maxRecordBytes} bytes`);
}

function decodeAll(records: readonly FirehoseTransformationEventRecord[], maxRecordBytes: number): DecodedBatch {
  const count = records.length;
  const maxBase64Length = Math.ceil(maxRecordBytes / 3) * 4;
  let capacity = 0;
  for (let i = 0; i < count; i++) {
    const data: unknown = recordAt(records, i).data;
    if (typeof data === 'string' && data.length <= maxBase64Length) capacity += (data.length >>> 2) * 3;
  }
  const bytes = Buffer.allocUnsafe(capacity);
  const starts = new Float64Array(count);
  const lengths = new Float64Array(count);
  const failures: (Failure | undefined)[] = new Array(count);
  let offset = 0;
  let longest = 0;
  for (let i = 0; i < count; i++) {
    const { recordId, data } = recordAt(records, i) as { recordId: unknown; data: unknown };
    if (typeof recordId !== 'string') failures[i] = failure('FailedDecode', 'record has no recordId');
    else if (typeof data !== 'string') failures[i] = failure('FailedDecode', 'data is not a string');
    else if (data.length === 0) failures[i] = failure('FailedDecode', 'data is empty');
    else if (data.length > maxBase64Length) failures[i] = tooLarge(maxRecordBytes);
    else {
      const written = decodeStrictBase64Into(data, bytes, offset);
      if (written < 0) failures[i] = failure('FailedDecode', 'data is not valid base64');
      else if (written > maxRecordBytes) failures[i] = tooLarge(maxRecordBytes);
      else {
        starts[i] = offset;
        lengths[i] = written;
        offset += written;
        if (written > longest) longest = written;
      }
    }
  }
  return { bytes, starts, lengths, failures, longest };
}

/** Validates and normalises one decoded record, `input[start, end)`; `output` is scratch space. */
function normalise(input: Buffer, start: number, end: number, output: Buffer, kinds: readonly RecordKind[], context: ValidationContext): Normalised | Failure {
  for (const kind of kinds) {
    if (kind.fastPath === undefined) continue;
    const outputEnd = kind.fastPath.normalise(input, start, end, output, 0, context);
    if (outputEnd >= 0) {
      output[outputEnd] = NEWLINE;
      return { data: output.toString('base64', 0, outputEnd + 1), kind };
    }
  }
  if (!isUtf8(input.subarray(start, end))) return failure('FailedDecode', 'data is not valid UTF-8');
  let value: unknown;
  try {
    value = JSON.parse(input.toString('utf8', start, end));
  } catch {
    // The SyntaxError's message quotes the input: never pass it on.
    return failure('FailedJson', 'not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return failure('FailedJson', 'not a JSON object');
  const record = value as Readonly<Record<string, unknown>>;
  const kind = kindOf(record, kinds);
  if (kind === undefined) return failure('FailedSchema', 'recognised by no record kind');
  const outcome = kind.normalise(record, context);
  if (!outcome.ok) return failure('FailedSchema', `${kind.name}: ${outcome.reason}`, outcome.requestId);
  return { data: Buffer.from(`${outcome.json}\n`, 'utf8').toString('base64'), kind };
}

/**
 * Transforms one Firehose batch. Never throws because of record content; throws a
 * {@link ConfigurationError} when `routing` lacks the destination of a kind.
 */
export function transformBatch(
  records: readonly FirehoseTransformationEventRecord[],
  routing: Routing,
  options: TransformOptions = {},
): BatchTransformation {
  const kinds = options.kinds ?? RECORD_KINDS;
  const budget = options.responseBudgetBytes ?? DEFAULT_RESPONSE_BUDGET_BYTES;
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const context = validationContextAt(options.nowMillis ?? Date.now());
  const routes = routesFor(kinds, routing);
  const count = records.length;

  // Pass 1: decode every record and reserve room for its ProcessingFailed form.
  const decoded = decodeAll(records, maxRecordBytes);
  const recordIdBytes = new Float64Array(count);
  const fallbackBytes = new Float64Array(count);
  let reserved = 0;
  for (let i = 0; i < count; i++) {
    const { recordId, data } = recordAt(records, i) as { recordId: unknown; data: unknown };
    if (typeof recordId === 'string' && typeof data === 'string') {
      recordIdBytes[i] = jsonStringBytes(recordId);
      // Strict base64 needs no JSON escaping.
      const dataJsonBytes = decoded.failures[i] === undefined ? data.length + 2 : jsonStringBytes(data);
      fallbackBytes[i] = FAILED_ENTRY_OVERHEAD + (recordIdBytes[i] as number) + dataJsonBytes;
    } else {
      fallbackBytes[i] = utf8Bytes(JSON.stringify({ recordId, result: 'ProcessingFailed', data }));
    }
    reserved += fallbackBytes[i] as number;
  }

  // Pass 2: transform, in order, answering Ok only while the reservation holds.
  const maxGrowth = Math.max(0, ...kinds.map((kind) => kind.fastPath?.maxGrowthBytes ?? 0));
  const scratch = Buffer.allocUnsafe(decoded.longest + maxGrowth + 1);
  const fixedBytes = RESPONSE_ENVELOPE_BYTES + Math.max(0, count - 1);
  const results: IcebergTransformationResultRecord[] = new Array(count);
  const failures: RecordFailure[] = [];
  const byCategory = Object.fromEntries(FAILURE_CATEGORIES.map((category) => [category, 0])) as Record<FailureCategory, number>;
  let committed = 0;
  let ok = 0;
  for (let i = 0; i < count; i++) {
    const record = recordAt(records, i);
    reserved -= fallbackBytes[i] as number;
    let outcome: Normalised | Failure;
    try {
      const start = decoded.starts[i] as number;
      outcome = decoded.failures[i] ?? normalise(decoded.bytes, start, start + (decoded.lengths[i] as number), scratch, kinds, context);
    } catch (error) {
      outcome = failure('FailedInternal', `unexpected ${error instanceof Error ? error.name : 'error'}`);
    }
    if ('data' in outcome) {
      const route = routes.get(outcome.kind) as Route;
      const entryBytes = route.okEntryOverhead + (recordIdBytes[i] as number) + outcome.data.length + 2;
      if (committed + entryBytes + reserved + fixedBytes <= budget) {
        results[i] = { recordId: record.recordId, result: 'Ok', data: outcome.data, metadata: route.metadata };
        committed += entryBytes;
        ok++;
        continue;
      }
      outcome = failure('FailedResponseLimit', `no room left in the ${budget}-byte response`, requestIdOf(outcome.data));
    }
    results[i] = { recordId: record.recordId, result: 'ProcessingFailed', data: record.data };
    committed += fallbackBytes[i] as number;
    byCategory[outcome.category]++;
    const recordId = recordIdText(record.recordId);
    failures.push(
      outcome.requestId === undefined
        ? { recordId, category: outcome.category, reason: outcome.reason }
        : { recordId, requestId: outcome.requestId, category: outcome.category, reason: outcome.reason },
    );
  }

  return {
    records: results,
    counts: { ok, failed: count - ok, byCategory },
    failures,
    responseBytes: committed + fixedBytes,
  };
}

/** The request id of a normalised record (valid, so safe to parse again), if it has a loggable one. */
function requestIdOf(base64: string): string | undefined {
  return loggableRequestId(JSON.parse(Buffer.from(base64, 'base64').toString('utf8')) as Record<string, unknown>);
}

/** A record id as text for the failure list; Firehose sends strings, anything else must not stop the batch. */
function recordIdText(recordId: unknown): string {
  if (typeof recordId === 'string') return recordId;
  try {
    return String(recordId);
  } catch {
    return '(a record id that cannot be written as text)';
  }
}
