/**
 * The TelemetrySender port over CloudZero's telemetry API, with the runtime's global `fetch`
 * (against https://api.cloudzero.com, or the local server of local/cloudzero/ through `baseUrl`).
 *
 * - Authorization: the API key itself in `Authorization`, "not a bearer token" (CloudZero
 *   reference/authorization and reference/sumallocationtelemetry). A key that is not one visible
 *   ASCII token is refused when the client is built: fetch would reject the header at every attempt.
 * - Requests go one at a time, in plan order (the rate limit is per organization).
 * - Retried: 429 ("Rate limit exceeded … Retry after a short delay") and 503 ("Retry after a short
 *   delay with exponential backoff"), both in CloudZero's responses for these endpoints; any other
 *   5xx and 408 (decision: a server or gateway fault, worth another try); a request that got no
 *   answer (connection refused or reset, DNS, the per-attempt timeout). Waits are capped exponential
 *   backoff with full jitter (core/ingestion/delivery-stream.ts). A `Retry-After` header (RFC 9110
 *   §10.2.3: seconds or an HTTP-date; CloudZero does not document one — decision: honoured when
 *   present) makes the wait at least that long; one longer than `maxRetryAfterMs` ends the attempts
 *   instead of retrying early.
 * - Not retried: any other 4xx (400 "Invalid request" with its reason, 413 over the size); the
 *   request fails with CloudZero's message. 401 and 403 concern the key, not the records: the
 *   requests not yet made are not attempted and fail with the same reason.
 * - A request counts as sent only when answered 2xx. A request answered with an error may still have
 *   been stored (a 5xx after the write, a lost answer): it is sent again, which the default `replace`
 *   operation makes harmless; with `sum` a retry can add a value twice.
 *
 * `send` never rejects for what happens to requests; it rejects only on a programming error.
 */
import { fullJitterDelayMs, type BackoffPolicy } from '../../core/ingestion/delivery-stream';
import { CLOUDZERO_API_URL, type FailedTelemetryRequest, type TelemetryRequest, type TelemetrySender, type TelemetrySendReport } from '../../core/cost/cloudzero-telemetry';

/** Options of {@link CloudZeroTelemetryClient}. */
export interface CloudZeroTelemetryClientOptions {
  /** The CloudZero API key (scope `unit-cost_v1:manage_telemetry_records`). */
  readonly apiKey: string;
  /** @default https://api.cloudzero.com */
  readonly baseUrl?: string;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** HTTP attempts per request, the first one included. @default 5 */
  readonly maxAttempts?: number;
  /** Caps of the waits between attempts. @default 500 ms doubling, at most 20 s */
  readonly backoff?: Partial<BackoffPolicy>;
  /** The longest `Retry-After` honoured; a longer one ends the attempts. @default 60 s */
  readonly maxRetryAfterMs?: number;
  /** Each attempt is abandoned (and retried) after this long. @default 30 s */
  readonly timeoutMs?: number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Uniform in [0, 1), for the jitter. @default Math.random */
  readonly random?: () => number;
  /** For HTTP-date `Retry-After` values. @default Date.now */
  readonly now?: () => number;
}

/** Backoff of a batch job with minutes to spare: 0.5, 1, 2, 4 s caps for 5 attempts, 20 s at most. */
export const TELEMETRY_BACKOFF: BackoffPolicy = Object.freeze({ baseDelayMs: 500, maxDelayMs: 20_000 });

/** An API key that cannot be sent in a header. */
export class CloudZeroApiKeyFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CloudZeroApiKeyFormatError';
  }
}

/** One visible ASCII token, as an `Authorization` value without a scheme must be. */
const API_KEY = /^[\x21-\x7e]+$/;

/** Checks that `key` can be the whole `Authorization` header; says why not (without echoing the key). */
export function checkApiKeyShape(key: string, source = 'the CloudZero API key'): string {
  if (key.length === 0) throw new CloudZeroApiKeyFormatError(`${source} is empty`);
  if (/^bearer\s/i.test(key)) throw new CloudZeroApiKeyFormatError(`${source} starts with "Bearer": CloudZero takes the key itself in Authorization, not a bearer token`);
  if (!API_KEY.test(key)) throw new CloudZeroApiKeyFormatError(`${source} contains spaces, line breaks or non-ASCII characters, which an Authorization header cannot carry`);
  return key;
}

/** What one attempt came to. */
type Outcome =
  | { readonly kind: 'sent' }
  | { readonly kind: 'retry'; readonly status?: number; readonly reason: string; readonly retryAfterMs?: number }
  | { readonly kind: 'fail'; readonly status: number; readonly reason: string; readonly stopsAll: boolean };

/** CloudZero's telemetry API as a TelemetrySender. */
export class CloudZeroTelemetryClient implements TelemetrySender {
  private readonly baseUrl: string;
  private readonly fetch: typeof fetch;
  private readonly maxAttempts: number;
  private readonly backoff: BackoffPolicy;
  private readonly maxRetryAfterMs: number;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(private readonly options: CloudZeroTelemetryClientOptions) {
    checkApiKeyShape(options.apiKey);
    this.baseUrl = checkBaseUrl(options.baseUrl ?? CLOUDZERO_API_URL);
    this.fetch = options.fetch ?? globalThis.fetch;
    this.maxAttempts = options.maxAttempts ?? 5;
    if (!Number.isSafeInteger(this.maxAttempts) || this.maxAttempts < 1) throw new RangeError(`maxAttempts must be a positive integer, got ${options.maxAttempts}`);
    this.backoff = { ...TELEMETRY_BACKOFF, ...Object.fromEntries(Object.entries(options.backoff ?? {}).filter(([, v]) => v !== undefined)) };
    if (!(this.backoff.baseDelayMs >= 0 && this.backoff.maxDelayMs >= 0)) throw new RangeError('backoff delays must be non-negative');
    this.maxRetryAfterMs = nonNegative('maxRetryAfterMs', options.maxRetryAfterMs ?? 60_000);
    this.timeoutMs = nonNegative('timeoutMs', options.timeoutMs ?? 30_000);
    this.sleep = options.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  async send(requests: readonly TelemetryRequest[]): Promise<TelemetrySendReport> {
    let batchesSent = 0;
    let recordsSent = 0;
    let retries = 0;
    let httpRequests = 0;
    const failed: FailedTelemetryRequest[] = [];
    let stopped: string | undefined;

    for (const request of requests) {
      const base = { stream: request.stream, path: request.path, records: request.records.length };
      if (stopped !== undefined) {
        failed.push({ ...base, attempts: 0, reason: `not sent: ${stopped}` });
        continue;
      }
      for (let attempt = 1; ; attempt += 1) {
        httpRequests += 1;
        if (attempt > 1) retries += 1;
        const outcome = await this.attempt(request);
        if (outcome.kind === 'sent') {
          batchesSent += 1;
          recordsSent += request.records.length;
          break;
        }
        if (outcome.kind === 'fail') {
          failed.push({ ...base, attempts: attempt, status: outcome.status, reason: outcome.reason });
          if (outcome.stopsAll) stopped = `an earlier request was refused with HTTP ${outcome.status}: ${outcome.reason}`;
          break;
        }
        const status = outcome.status !== undefined ? { status: outcome.status } : {};
        if (attempt >= this.maxAttempts) {
          failed.push({ ...base, attempts: attempt, ...status, reason: `${outcome.reason} (gave up after ${attempt} attempts)` });
          break;
        }
        if (outcome.retryAfterMs !== undefined && outcome.retryAfterMs > this.maxRetryAfterMs) {
          failed.push({ ...base, attempts: attempt, ...status, reason: `${outcome.reason} (CloudZero asked to retry after ${Math.ceil(outcome.retryAfterMs / 1000)} s, more than the ${Math.ceil(this.maxRetryAfterMs / 1000)} s this client waits)` });
          break;
        }
        await this.sleep(Math.max(outcome.retryAfterMs ?? 0, fullJitterDelayMs(attempt, this.random, this.backoff)));
      }
    }
    return { batchesSent, recordsSent, retries, httpRequests, failed };
  }

  private async attempt(request: TelemetryRequest): Promise<Outcome> {
    let response: Response;
    try {
      response = await this.fetch(this.baseUrl + request.path, {
        method: 'POST',
        headers: { authorization: this.options.apiKey, 'content-type': 'application/json', accept: 'application/json' },
        body: request.body,
        redirect: 'manual',
        ...(this.timeoutMs > 0 ? { signal: AbortSignal.timeout(this.timeoutMs) } : {}),
      });
    } catch (error) {
      return { kind: 'retry', reason: networkReason(error, this.timeoutMs) };
    }
    let text = '';
    try {
      text = await response.text();
    } catch (error) {
      // A 2xx whose body was cut is still an answer; an error without its message is retried or failed on its status.
      if (response.status < 200 || response.status >= 300) text = `(body unreadable: ${networkReason(error, this.timeoutMs)})`;
    }
    const status = response.status;
    if (status >= 200 && status < 300) return { kind: 'sent' };
    const reason = `HTTP ${status}: ${errorMessage(text, response.statusText)}`;
    if (status === 429 || status === 408 || status >= 500) {
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), this.now());
      return { kind: 'retry', status, reason, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    }
    return { kind: 'fail', status, reason, stopsAll: status === 401 || status === 403 };
  }
}

/**
 * A `Retry-After` value in milliseconds (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date from which
 * `now` is subtracted (never below 0). Undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date) || !/[a-z]/i.test(text)) return undefined;
  return Math.max(0, date - now);
}

/** The message of an error answer: CloudZero's JSON `message` (or a similar field), else the text, else the status text. */
export function errorMessage(body: string, statusText = ''): string {
  const text = body.trim();
  if (text.length > 0) {
    try {
      const parsed = JSON.parse(text) as unknown;
      const found = messageIn(parsed);
      if (found !== undefined) return found;
    } catch {
      // Not JSON: the text itself is the message.
    }
    return text.length > 500 ? `${text.slice(0, 500)}…` : text;
  }
  return statusText.length > 0 ? statusText : '(no message)';
}

function messageIn(value: unknown): string | undefined {
  if (typeof value === 'string' && value.length > 0) return value;
  if (Array.isArray(value)) {
    const messages = value.map(messageIn).filter((m): m is string => m !== undefined);
    return messages.length > 0 ? messages.join('; ') : undefined;
  }
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    for (const key of ['message', 'Message', 'error', 'errors', 'detail']) {
      const found = messageIn(record[key]);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function networkReason(error: unknown, timeoutMs: number): string {
  const e = error as { name?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } } | undefined;
  if (e?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const code = typeof e?.cause?.code === 'string' ? e.cause.code : undefined;
  const causeMessage = typeof e?.cause?.message === 'string' ? e.cause.message : undefined;
  const message = typeof e?.message === 'string' ? e.message : String(error);
  return `no answer: ${message}${code !== undefined ? ` (${code})` : causeMessage !== undefined ? ` (${causeMessage})` : ''}`;
}

function checkBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new RangeError(`the CloudZero API URL ${JSON.stringify(value)} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new RangeError(`the CloudZero API URL must be http(s), got ${JSON.stringify(value)}`);
  if (url.search !== '' || url.hash !== '') throw new RangeError(`the CloudZero API URL must not have a query or fragment, got ${JSON.stringify(value)}`);
  return url.toString().replace(/\/+$/, '');
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number, got ${value}`);
  return value;
}
