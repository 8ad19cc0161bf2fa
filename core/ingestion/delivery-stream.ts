/**
 * Delivery of records to an Amazon Data Firehose stream: the port the usage-events function writes
 * to, and the pure rules every implementation shares (the PutRecordBatch limits, how records are cut
 * into calls, the backoff between attempts). No AWS SDK here: the AWS side is
 * adapters/firehose/firehose-delivery-stream.ts, the local side local/firehose/.
 *
 * Limits (checked in the API reference and the SDK model, @aws-sdk/client-firehose 3.1169.0):
 * - https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html — "Each
 *   PutRecordBatch request supports up to 500 records. Each record in the request can be as large as
 *   1,000 KB (before base64 encoding), up to a limit of 4 MB for the entire request. These limits
 *   cannot be changed." The response has one entry per request record, in the same order; a failed
 *   entry carries `ErrorCode` (`ServiceUnavailableException` or `InternalFailure`) and `ErrorMessage`,
 *   an accepted one a `RecordId`; "resend only those records that might have failed processing".
 * - https://docs.aws.amazon.com/firehose/latest/APIReference/API_Record.html — `Data`: "The maximum
 *   size of the data blob, before base64-encoding, is 1,000 KiB", length constraint 0..1,024,000.
 * - https://docs.aws.amazon.com/firehose/latest/dev/limits.html (Firehose quota) — 500 records or
 *   4 MiB per PutRecordBatch call, whichever is smaller. The request limit is read as 4 MiB of record
 *   data (4,194,304 bytes, before base64), which also bounds the "4 MB" of the API reference.
 *
 * Delivery is at least once. A record counts as delivered only when Firehose answered it with a
 * `RecordId`; a record whose call timed out or failed on the server may in fact have been accepted
 * and is sent again, so the same event can reach the stream twice: consumers de-duplicate by the
 * event's own id, never by position or record id.
 */

/** The limits of one PutRecordBatch call. */
export interface PutRecordBatchLimits {
  /** Records per call. */
  readonly maxRecordsPerCall: number;
  /** Sum of the record data sizes (bytes, before base64) per call. */
  readonly maxBytesPerCall: number;
  /** Data size (bytes, before base64) of one record. */
  readonly maxRecordBytes: number;
}

/** Firehose's documented PutRecordBatch limits (see the file comment for the sources). */
export const PUT_RECORD_BATCH_LIMITS: PutRecordBatchLimits = Object.freeze({
  maxRecordsPerCall: 500,
  maxBytesPerCall: 4 * 1024 * 1024,
  maxRecordBytes: 1_000 * 1024,
});

/** Error code of a record over the per-record limit: never sent, reported failed. */
export const RECORD_TOO_LARGE = 'RecordTooLarge';

/** A stream of records (Firehose, or a local stand-in). */
export interface DeliveryStream {
  /**
   * Sends the records; resolves with what became of each of them. Never rejects because of what
   * happened to records: every index of `records` ends in exactly one of `delivered` and `failed`.
   */
  put(records: readonly Uint8Array[]): Promise<PutReport>;
}

/** A record never accepted by Firehose after every attempt (or never sent, e.g. too large). */
export interface PutFailure {
  /** Index in the `records` given to `put`. */
  readonly index: number;
  /** Firehose's per-record error code, the name of the call's error, or {@link RECORD_TOO_LARGE}. */
  readonly errorCode: string;
  readonly errorMessage?: string;
}

/** What became of the records of one `put`. */
export interface PutReport {
  /** Indexes Firehose accepted (answered with a RecordId), ascending. */
  readonly delivered: readonly number[];
  /** Indexes never accepted after all attempts, ascending by index. */
  readonly failed: readonly PutFailure[];
  /** PutRecordBatch calls made (each attempt of each chunk is one call). */
  readonly calls: number;
  /**
   * The most attempts any record took: 0 when nothing was sent, 1 when every call was answered for
   * every record the first time, up to the configured maximum.
   */
  readonly attempts: number;
}

/** How `put` cuts records into calls. */
export interface ChunkPlan {
  /** Indexes (into the sizes given) per call, in input order; each chunk within the limits. */
  readonly chunks: readonly (readonly number[])[];
  /** Indexes of the records over the per-record limit, ascending: never sent. */
  readonly oversized: readonly number[];
}

/**
 * The limits to apply: Firehose's, or lower ones (tests, or a margin). A limit above Firehose's, or
 * not a positive integer, is a RangeError: it would make every call that uses it fail.
 */
export function resolveLimits(overrides: Partial<PutRecordBatchLimits> = {}): PutRecordBatchLimits {
  const limits = { ...PUT_RECORD_BATCH_LIMITS, ...definedOnly(overrides) };
  for (const key of Object.keys(PUT_RECORD_BATCH_LIMITS) as (keyof PutRecordBatchLimits)[]) {
    const value = limits[key];
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${key} must be a positive integer, got ${value}`);
    if (value > PUT_RECORD_BATCH_LIMITS[key]) throw new RangeError(`${key} ${value} is above Firehose's limit of ${PUT_RECORD_BATCH_LIMITS[key]}`);
  }
  return Object.freeze(limits);
}

/**
 * Cuts records, given by their data sizes in bytes, into PutRecordBatch calls: greedily and in
 * order, a new call when the next record would pass the record count or the byte limit of the
 * current one. Records over the per-record limit are left out and listed in `oversized`. Any record
 * within the per-record limit fits in a call of its own, since the per-record limit is below the
 * per-call one, so every other index is in exactly one chunk.
 */
export function planChunks(sizes: readonly number[], limits: PutRecordBatchLimits = PUT_RECORD_BATCH_LIMITS): ChunkPlan {
  if (limits.maxRecordBytes > limits.maxBytesPerCall) throw new RangeError('maxRecordBytes must not exceed maxBytesPerCall');
  const chunks: number[][] = [];
  const oversized: number[] = [];
  let current: number[] = [];
  let bytes = 0;
  sizes.forEach((size, index) => {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`record ${index} has an invalid size: ${size}`);
    if (size > limits.maxRecordBytes) {
      oversized.push(index);
      return;
    }
    if (current.length > 0 && (current.length >= limits.maxRecordsPerCall || bytes + size > limits.maxBytesPerCall)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(index);
    bytes += size;
  });
  if (current.length > 0) chunks.push(current);
  return { chunks, oversized };
}

/** The failure reported for a record over the per-record limit. */
export function recordTooLarge(index: number, size: number, limits: PutRecordBatchLimits = PUT_RECORD_BATCH_LIMITS): PutFailure {
  return {
    index,
    errorCode: RECORD_TOO_LARGE,
    errorMessage: `Record is ${size} bytes; a Firehose record holds at most ${limits.maxRecordBytes} bytes (before base64)`,
  };
}

/** Capped exponential backoff. */
export interface BackoffPolicy {
  /** Cap of the wait before the first retry (ms). */
  readonly baseDelayMs: number;
  /** Largest cap (ms). */
  readonly maxDelayMs: number;
}

/**
 * Defaults for a synchronous caller (the POST /usage function answers within API Gateway's 29 s):
 * with 5 attempts the waits are capped by 100, 200, 400 and 800 ms, at most 1.5 s in all.
 */
export const DEFAULT_BACKOFF: BackoffPolicy = Object.freeze({ baseDelayMs: 100, maxDelayMs: 2_000 });

/** The cap of the wait before retry `retry` (1 = the wait before the second attempt): min(max, base·2^(retry−1)). */
export function backoffCapMs(retry: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
}

/**
 * "Full jitter" (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/): a wait
 * drawn uniformly in [0, cap] so that clients throttled together do not come back together.
 * `random` returns a number in [0, 1), like Math.random; anything outside is clamped.
 */
export function fullJitterDelayMs(retry: number, random: () => number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const cap = backoffCapMs(retry, policy);
  const draw = Math.min(1, Math.max(0, random()));
  return Math.floor(draw * cap);
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
