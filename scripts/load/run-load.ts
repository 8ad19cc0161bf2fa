/** Outcome of one request: an HTTP response (any status), or a failure without a response. */
export type RequestResult =
  | { kind: 'response'; status: number; latencyMs: number }
  | {
      kind: 'failure';
      /** `timeout`, a system/undici error code such as `ECONNREFUSED`, or `network error`. */
      failure: string;
      latencyMs: number;
    };

/** What to send; see {@link runLoad}. */
export interface RunLoadOptions {
  /** Base URL of the stage; `path` is appended to its path. */
  url: string;
  /** Sent verbatim as the `Authorization` header value. */
  token: string;
  count: number;
  concurrency: number;
  /** Default `/`; appended to the base URL's path. */
  path?: string;
  /** Query string without `?`; default none. */
  query?: string;
  timeoutMs: number;
  /** Called after each completed request (response or failure). */
  onProgress?: (done: number, total: number) => void;
  /** Aborting stops starting new requests and cancels those in flight (not recorded). */
  signal?: AbortSignal;
}

/** Injectable collaborators, for tests. */
export interface RunLoadDeps {
  fetch?: typeof fetch;
  /** Monotonic clock in milliseconds. */
  now?: () => number;
}

/** What {@link runLoad} measured. */
export interface LoadRun {
  /** The URL every request was sent to. */
  targetUrl: string;
  /** One entry per completed request, in completion order. */
  results: RequestResult[];
  /** Wall-clock duration of the whole run in milliseconds. */
  wallMs: number;
  /** True when `signal` aborted the run before all requests completed. */
  interrupted: boolean;
}

/**
 * Joins a stage base URL, a resource path and a query string.
 * Unlike `new URL(path, base)`, keeps the base path:
 * `…/prod` + `/random/strings` → `…/prod/random/strings`.
 */
export function buildTargetUrl(baseUrl: string, path = '/', query = ''): string {
  const url = new URL(baseUrl);
  url.pathname = url.pathname.replace(/\/+$/, '') + path;
  url.search = query.replace(/^\?/, '');
  url.hash = '';
  return url.toString();
}

/**
 * Sends `count` GET requests to the target URL with at most `concurrency` in flight, each with
 * its own `timeoutMs` timeout (covering headers and body), and records status or failure kind
 * plus latency (`performance.now()`, until the body has been read).
 *
 * Never rejects because of request failures: those are recorded as `kind: 'failure'` results.
 * It only rejects on invalid `count`/`concurrency`/`timeoutMs` (a programming error) or if
 * `onProgress` throws.
 */
export async function runLoad(options: RunLoadOptions, deps: RunLoadDeps = {}): Promise<LoadRun> {
  const { count, concurrency, timeoutMs, onProgress, signal } = options;
  assertPositiveInteger('count', count);
  assertPositiveInteger('concurrency', concurrency);
  assertPositiveInteger('timeoutMs', timeoutMs);

  const doFetch = deps.fetch ?? ((input, init) => fetch(input, init));
  const now = deps.now ?? (() => performance.now());
  const targetUrl = buildTargetUrl(options.url, options.path, options.query);
  // One listener on the outer signal cancels every request in flight (one listener per
  // request would trip Node's MaxListenersExceededWarning above 10 concurrent requests).
  const inFlight = new Set<AbortController>();
  const cancelAll = () => inFlight.forEach((controller) => controller.abort());
  signal?.addEventListener('abort', cancelAll, { once: true });
  const context: SendContext = { targetUrl, token: options.token, timeoutMs, signal, inFlight, doFetch, now };

  const results: RequestResult[] = [];
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < count && !signal?.aborted) {
      started += 1;
      const result = await sendOne(context);
      if (result === undefined) return; // cancelled by `signal`
      results.push(result);
      onProgress?.(results.length, count);
    }
  };

  const startedAt = now();
  const workers = Array.from({ length: Math.min(concurrency, count) }, worker);
  try {
    await Promise.all(workers);
  } finally {
    signal?.removeEventListener('abort', cancelAll);
  }
  const wallMs = now() - startedAt;
  return { targetUrl, results, wallMs, interrupted: signal?.aborted === true && results.length < count };
}

interface SendContext {
  targetUrl: string;
  token: string;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  /** Controllers of the requests in flight, aborted together when `signal` aborts. */
  inFlight: Set<AbortController>;
  doFetch: typeof fetch;
  now: () => number;
}

/** One request; `undefined` when cancelled through the outer signal. Never rejects. */
async function sendOne(ctx: SendContext): Promise<RequestResult | undefined> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, ctx.timeoutMs);
  ctx.inFlight.add(controller);
  const startedAt = ctx.now();
  try {
    const response = await ctx.doFetch(ctx.targetUrl, {
      method: 'GET',
      headers: { Authorization: ctx.token },
      signal: controller.signal,
    });
    // Read the body: it is part of the latency, and lets the connection be reused.
    await response.arrayBuffer();
    return { kind: 'response', status: response.status, latencyMs: ctx.now() - startedAt };
  } catch (error) {
    if (!timedOut && ctx.signal?.aborted) return undefined;
    const failure = timedOut ? 'timeout' : classifyFailure(error);
    return { kind: 'failure', failure, latencyMs: ctx.now() - startedAt };
  } finally {
    clearTimeout(timer);
    ctx.inFlight.delete(controller);
  }
}

/**
 * Names a fetch failure by the first error code found on the error or its causes
 * (`fetch failed` wraps e.g. `ECONNREFUSED`, `ECONNRESET`, `ENOTFOUND`, `UND_ERR_SOCKET`);
 * `network error` when there is none.
 */
export function classifyFailure(error: unknown): string {
  return findErrorCode(error, 0) ?? 'network error';
}

function findErrorCode(error: unknown, depth: number): string | undefined {
  if (depth > 5 || typeof error !== 'object' || error === null) return undefined;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code)) return code;
  const fromCause = findErrorCode(cause, depth + 1);
  if (fromCause !== undefined) return fromCause;
  // AggregateError, e.g. when every address of a host refused the connection.
  return Array.isArray(errors) ? findErrorCode(errors[0], depth + 1) : undefined;
}

function assertPositiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
}
