/**
 * The DeliveryStream port over Amazon Data Firehose PutRecordBatch (against AWS, or the local
 * Firehose through the same SDK client via `endpoint`).
 *
 * - Records are cut into calls within the documented limits (core/ingestion/delivery-stream.ts); a
 *   record over 1,000 KiB is never sent and is reported failed with `RecordTooLarge`.
 * - Each call's `RequestResponses[i]` answers the i-th record of that call (API reference: "the index
 *   of the response element is the same as the index used in the request array"). Entries with an
 *   `ErrorCode` (FailedPutCount > 0) are resent, and only they, until `maxAttempts`.
 * - A whole call that fails with a retryable error (ServiceUnavailableException, throttling, any 5xx,
 *   a timeout or a lost connection) is sent again the same way. Waits between attempts are capped
 *   exponential backoff with full jitter.
 * - A call refused for good (InvalidArgumentException, ValidationException, ResourceNotFoundException,
 *   AccessDenied…) fails its records at once under the error's name. When the refusal concerns the
 *   stream or the credentials (not the records), the calls not yet made are not attempted: their
 *   records fail with the same code.
 * - A record is delivered only when Firehose answered it with a RecordId. If a response does not
 *   have exactly one entry per record sent, no entry of it can be matched with certainty and the
 *   whole call counts as failed (and is retried): at least once, never a guess.
 *
 * `put` never throws for what happens to records; it rejects only on a programming error.
 *
 * SDK retries. The FirehoseClient has its own retry strategy (3 attempts by default) that already
 * re-sends a call failing with 5xx or throttling; this adapter's attempts then multiply with it.
 * Give it a client built with `maxAttempts: 1` to let the adapter own the retries (and its backoff
 * and report); `calls` counts `client.send` calls, not HTTP requests.
 */
import { PutRecordBatchCommand, type FirehoseClient, type PutRecordBatchCommandOutput } from '@aws-sdk/client-firehose';
import {
  DEFAULT_BACKOFF,
  fullJitterDelayMs,
  planChunks,
  recordTooLarge,
  resolveLimits,
  type BackoffPolicy,
  type DeliveryStream,
  type PutFailure,
  type PutRecordBatchLimits,
  type PutReport,
} from '../../core/ingestion/delivery-stream';

/** Options of {@link FirehoseDeliveryStream}. */
export interface FirehoseDeliveryStreamOptions {
  /** The delivery stream to put records into. */
  readonly deliveryStreamName: string;
  /** Attempts per record, the first one included. @default 5 */
  readonly maxAttempts?: number;
  /** Caps of the waits between attempts. @default {@link DEFAULT_BACKOFF} (100 ms doubling, at most 2 s) */
  readonly backoff?: Partial<BackoffPolicy>;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Uniform in [0, 1), for the jitter. @default Math.random */
  readonly random?: () => number;
  /** Lower limits than Firehose's (tests, or a safety margin); higher ones are refused. @default Firehose's */
  readonly limits?: Partial<PutRecordBatchLimits>;
}

/** How a failed call is handled. */
export interface CallErrorClassification {
  /** The error's name (e.g. `ServiceUnavailableException`), or its Node.js code for a network error. */
  readonly code: string;
  readonly message: string;
  /** Sending the same call again may succeed. */
  readonly retryable: boolean;
  /** The stream or the credentials are unusable: no later call of this `put` can succeed. */
  readonly stopsStream: boolean;
}

/** Error names the AWS SDK's standard retry strategy treats as throttling (@smithy/core retry), plus Firehose's own. */
const THROTTLING_OR_UNAVAILABLE = new Set([
  'ServiceUnavailableException', 'InternalFailure', 'InternalServerError', 'InternalServiceError', 'ServiceUnavailable',
  'BandwidthLimitExceeded', 'LimitExceededException', 'PriorRequestNotComplete', 'ProvisionedThroughputExceededException',
  'RequestLimitExceeded', 'RequestThrottled', 'RequestThrottledException', 'SlowDown', 'ThrottledException', 'Throttling',
  'ThrottlingException', 'TooManyRequestsException',
  'TimeoutError', 'RequestTimeout', 'RequestTimeoutException',
]);
/** Node.js error codes of a call that never got an answer (as in @smithy/core retry). */
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** Refusals that concern the stream or the caller, not the records sent. */
const STREAM_LEVEL = new Set([
  'ResourceNotFoundException', 'InvalidKMSResourceException', 'InvalidSourceException', 'AccessDeniedException',
  'UnrecognizedClientException', 'InvalidSignatureException', 'MissingAuthenticationTokenException', 'IncompleteSignature',
  'InvalidClientTokenId', 'ExpiredTokenException', 'CredentialsProviderError',
]);

interface ErrorLike {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
  readonly $retryable?: unknown;
  readonly $fault?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
}

/**
 * Classifies an error thrown by `client.send(PutRecordBatchCommand)`. Retryable: a `$retryable` trait,
 * a `$fault` of `server`, HTTP 429 or 5xx, a throttling/unavailable/timeout name, or a network error
 * code (on the error or its causes). An AbortError (the caller gave up) and every other client error
 * are not.
 */
export function classifyCallError(error: unknown): CallErrorClassification {
  const e = (typeof error === 'object' && error !== null ? error : {}) as ErrorLike;
  const name = typeof e.name === 'string' && e.name.length > 0 ? e.name : 'Error';
  const nodeCode = typeof e.code === 'string' ? e.code : undefined;
  const code = name === 'Error' && nodeCode !== undefined ? nodeCode : name;
  const message = typeof e.message === 'string' && e.message.length > 0 ? e.message : String(error);
  const retryable = name !== 'AbortError' && isRetryable(e, 0);
  return { code, message, retryable, stopsStream: !retryable && STREAM_LEVEL.has(code) };
}

function isRetryable(e: ErrorLike, depth: number): boolean {
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  if (e.$retryable !== undefined || e.$fault === 'server') return true;
  if (status !== undefined && (status === 429 || status >= 500)) return true;
  if (typeof e.name === 'string' && THROTTLING_OR_UNAVAILABLE.has(e.name)) return true;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  return depth < 5 && typeof e.cause === 'object' && e.cause !== null && isRetryable(e.cause as ErrorLike, depth + 1);
}

/** PutRecordBatch with chunking, per-record resends and backoff. */
export class FirehoseDeliveryStream implements DeliveryStream {
  private readonly limits: PutRecordBatchLimits;
  private readonly maxAttempts: number;
  private readonly backoff: BackoffPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(
    private readonly client: FirehoseClient,
    private readonly options: FirehoseDeliveryStreamOptions,
  ) {
    if (options.deliveryStreamName.length === 0) throw new RangeError('deliveryStreamName must not be empty');
    this.limits = resolveLimits(options.limits);
    this.maxAttempts = options.maxAttempts ?? 5;
    if (!Number.isSafeInteger(this.maxAttempts) || this.maxAttempts < 1) throw new RangeError(`maxAttempts must be a positive integer, got ${options.maxAttempts}`);
    this.backoff = { ...DEFAULT_BACKOFF, ...definedOnly(options.backoff ?? {}) };
    this.sleep = options.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
  }

  async put(records: readonly Uint8Array[]): Promise<PutReport> {
    const sizes = records.map((record) => record.byteLength);
    const plan = planChunks(sizes, this.limits);
    const delivered: number[] = [];
    const failed: PutFailure[] = plan.oversized.map((index) => recordTooLarge(index, sizes[index], this.limits));
    let calls = 0;
    let attempts = 0;
    let stopped: CallErrorClassification | undefined;

    for (const chunk of plan.chunks) {
      if (stopped !== undefined) {
        const reason = `Not sent: an earlier call failed with ${stopped.code}: ${stopped.message}`;
        for (const index of chunk) failed.push({ index, errorCode: stopped.code, errorMessage: reason });
        continue;
      }
      let pending: readonly number[] = chunk;
      for (let attempt = 1; pending.length > 0; attempt += 1) {
        if (attempt > 1) await this.sleep(fullJitterDelayMs(attempt - 1, this.random, this.backoff));
        attempts = Math.max(attempts, attempt);
        calls += 1;
        const last = attempt >= this.maxAttempts;
        let output: PutRecordBatchCommandOutput;
        try {
          output = await this.client.send(new PutRecordBatchCommand({
            DeliveryStreamName: this.options.deliveryStreamName,
            Records: pending.map((index) => ({ Data: records[index] })),
          }));
        } catch (error) {
          const failure = classifyCallError(error);
          if (failure.retryable && !last) continue;
          for (const index of pending) failed.push({ index, errorCode: failure.code, errorMessage: failure.message });
          if (failure.stopsStream) stopped = failure;
          break;
        }
        const outcome = matchResponses(pending, output);
        delivered.push(...outcome.accepted);
        if (last) {
          failed.push(...outcome.rejected);
          break;
        }
        pending = outcome.rejected.map((failure) => failure.index);
      }
    }

    delivered.sort((a, b) => a - b);
    failed.sort((a, b) => a.index - b.index);
    return { delivered, failed, calls, attempts };
  }
}

/**
 * Splits the records of one answered call into those Firehose accepted (a RecordId and no ErrorCode)
 * and those it did not, with the reason. `sent[i]` is the original index of the call's i-th record.
 */
export function matchResponses(sent: readonly number[], output: Pick<PutRecordBatchCommandOutput, 'RequestResponses'>): { accepted: number[]; rejected: PutFailure[] } {
  const entries = output.RequestResponses ?? [];
  if (entries.length !== sent.length) {
    const errorMessage = `PutRecordBatch answered ${entries.length} entries for ${sent.length} records; none can be matched`;
    return { accepted: [], rejected: sent.map((index) => ({ index, errorCode: 'MismatchedResponse', errorMessage })) };
  }
  const accepted: number[] = [];
  const rejected: PutFailure[] = [];
  sent.forEach((index, position) => {
    const entry = entries[position];
    if (entry.ErrorCode !== undefined && entry.ErrorCode !== null && entry.ErrorCode !== '') {
      rejected.push({ index, errorCode: entry.ErrorCode, ...(entry.ErrorMessage !== undefined ? { errorMessage: entry.ErrorMessage } : {}) });
    } else if (typeof entry.RecordId === 'string' && entry.RecordId.length > 0) {
      accepted.push(index);
    } else {
      rejected.push({ index, errorCode: 'MissingRecordId', errorMessage: 'PutRecordBatch answered the record with neither a RecordId nor an ErrorCode' });
    }
  });
  return { accepted, rejected };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
