import { batchRecords, recordKey, type MeteringRecord } from './metering-records';
import type { RateLimiter } from './rate-limiter';

/** Per-record statuses of BatchMeterUsage. */
export type MarketplaceStatus = 'Success' | 'CustomerNotSubscribed' | 'DuplicateRecord';

export interface CallResult {
  readonly results: readonly { readonly record: MeteringRecord; readonly status: MarketplaceStatus; readonly meteringRecordId?: string }[];
  /** Records Marketplace did not process this time (transient): resend them. */
  readonly unprocessed: readonly MeteringRecord[];
}

/**
 * A failed call. `reject-call`: the service refused the whole call because of (at least) one record —
 * e.g. a timestamp out of bounds or an unknown dimension — so the call is split to isolate it.
 * `retry`: throttling, a server error or a lost connection — the same call is sent again.
 * `fatal`: nothing can succeed (unknown product, API disabled, no permission) — the run stops.
 */
export class MeteringCallError extends Error {
  constructor(
    readonly code: string,
    readonly kind: 'reject-call' | 'retry' | 'fatal',
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'MeteringCallError';
  }
}

/** The Metering Service as the sender needs it (AWS SDK adapter, or the local simulator through the same SDK). */
export interface MeteringService {
  batchMeterUsage(records: readonly MeteringRecord[]): Promise<CallResult>;
}

/** What became of one record. */
export type RecordOutcome =
  | { readonly status: MarketplaceStatus; readonly meteringRecordId?: string }
  /** Refused on its own (after splitting): kept, reported, not retried by this run. */
  | { readonly status: 'Rejected'; readonly reason: string }
  /** Still unsent after every retry (throttling, outages): the next run sends it again. */
  | { readonly status: 'Unsent'; readonly reason: string };

export interface SenderOptions {
  readonly limiter: RateLimiter;
  /** Tries per call for retryable failures and unprocessed records. @default 5 */
  readonly maxAttempts?: number;
  /** Wait before try n+1 (ms). @default 200 · 2^(n-1), at most 5 s */
  readonly backoffMs?: (attempt: number) => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface SendReport {
  /** Outcome of every record, by {@link recordKey}. */
  readonly outcomes: Map<string, RecordOutcome>;
  readonly calls: number;
}

/**
 * Sends metering records: batched by product (and licence) in calls of at most 25, no faster than the
 * limiter allows; unprocessed records and retryable failures sent again with backoff; a call refused
 * because of one record split in halves until that record stands alone, so one bad record never
 * blocks the others. Every record gets exactly one outcome.
 */
export async function sendMeteringRecords(service: MeteringService, records: readonly MeteringRecord[], options: SenderOptions): Promise<SendReport> {
  const maxAttempts = options.maxAttempts ?? 5;
  const backoff = options.backoffMs ?? ((attempt: number) => Math.min(5000, 200 * 2 ** (attempt - 1)));
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const outcomes = new Map<string, RecordOutcome>();
  let calls = 0;

  async function send(batch: readonly MeteringRecord[], attempt: number): Promise<void> {
    if (batch.length === 0) return;
    const release = await options.limiter.take();
    calls += 1;
    let result: CallResult;
    try {
      result = await service.batchMeterUsage(batch).finally(release);
    } catch (error) {
      const failure = error instanceof MeteringCallError ? error : new MeteringCallError('NetworkError', 'retry', String(error));
      if (failure.kind === 'fatal') throw failure;
      if (failure.kind === 'reject-call') {
        if (batch.length === 1) {
          outcomes.set(recordKey(batch[0]), { status: 'Rejected', reason: failure.message });
          return;
        }
        const middle = Math.ceil(batch.length / 2);
        await send(batch.slice(0, middle), 1);
        await send(batch.slice(middle), 1);
        return;
      }
      if (attempt >= maxAttempts) {
        for (const record of batch) outcomes.set(recordKey(record), { status: 'Unsent', reason: failure.message });
        return;
      }
      await sleep(backoff(attempt));
      await send(batch, attempt + 1);
      return;
    }
    for (const r of result.results) outcomes.set(recordKey(r.record), { status: r.status, meteringRecordId: r.meteringRecordId });
    if (result.unprocessed.length > 0) {
      if (attempt >= maxAttempts) {
        for (const record of result.unprocessed) outcomes.set(recordKey(record), { status: 'Unsent', reason: 'still unprocessed after every retry' });
      } else {
        await sleep(backoff(attempt));
        await send(result.unprocessed, attempt + 1);
      }
    }
    // A record the service neither answered nor returned as unprocessed is not assumed sent.
    for (const record of batch) if (!outcomes.has(recordKey(record))) outcomes.set(recordKey(record), { status: 'Unsent', reason: 'no result returned for the record' });
  }

  for (const batch of batchRecords(records)) await send(batch, 1);
  return { outcomes, calls };
}
