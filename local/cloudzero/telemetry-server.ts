/**
 * A local CloudZero telemetry API for tests and the local runtime (never bundled into a Lambda): an
 * HTTP server on loopback that answers the allocation telemetry endpoints the way CloudZero documents
 * them, stores what it accepts, and injects faults. Point the real client at it with `baseUrl`.
 *
 * ```ts
 * const cloudzero = await startLocalCloudZeroTelemetry({ apiKeys: ['local-key'] });
 * const client = new CloudZeroTelemetryClient({ apiKey: 'local-key', baseUrl: cloudzero.endpoint });
 * cloudzero.faults.set({ throttleNext: 1, retryAfterSeconds: 2 });
 * await client.send(requests); cloudzero.records('saas-metering.api_requests'); await cloudzero.close();
 * ```
 *
 * Endpoints (docs.cloudzero.com reference/allocation-telemetry-api-1): `POST
 * /unit-cost/v1/telemetry/allocation/{stream}/sum` adds, `…/replace` replaces stored records that
 * match in everything but the value (docs/manage-streams), both creating the stream; `…/{stream}`
 * alone is the deprecated form of `sum`; `POST /unit-cost/v1/telemetry` is the deprecated endpoint
 * whose records name their `telemetry-stream`. `…/delete` is not simulated (404).
 *
 * Rules, and their sources (CloudZero's reference pages for these endpoints unless noted):
 * - `Authorization: <api key>`, "not a bearer token"; otherwise 403 "Not authorized". With
 *   `apiKeys` only those keys are accepted; without, any non-empty key that is not `Bearer …`.
 * - 400 with the documented reasons: "Invalid JSON"; "Invalid Schema: Missing required fields"
 *   (timestamp, granularity, value, the element name); "Timestamp too far into the future"
 *   (decision: any timestamp after the server's clock); "All records in a stream must contain the same
 *   filter keys"; "All records in a stream must contain the same granularity as the stream's
 *   granularity". Filters: at most 5 keys, at most 20 values each (reference/telemetry).
 * - Granularity `HOURLY`, `DAILY` or `MONTHLY`; timestamps ISO 8601. Stream names: letters, digits,
 *   `_`, `.`, `-` (reference/sumallocationtelemetry), at most 256 (docs/send-via-csv).
 * - Value greater than 0, a number or numeric text (the stream page's example payload: "<number
 *   greater than 0>"). Decision: otherwise 400 "Invalid Schema: value …".
 * - 10 KB per record, 5 MB per request (reference/telemetry), read as 10,000 and 5,000,000 bytes.
 *   Decision: a request over 5 MB is answered 413, a record over 10 KB 400.
 * - Error bodies are JSON `{"message": "…"}` (decision: the docs show no error body); a request is
 *   stored whole or not at all.
 * - Faults: throttling (429 with `Retry-After`, the documented "Rate limit exceeded"), server errors
 *   before storing (500/502/503/504; 503 is the documented "slow down"), server errors after storing
 *   (a lost answer), connection resets, latency.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatDecimal, parseDecimal } from '../../core/cost/decimal-amount';
import { readRequestBody } from '../http/request-body';

/** Largest request body (reference/telemetry: 5 MB). */
export const MAX_REQUEST_BYTES = 5_000_000;
/** Largest record (reference/telemetry: 10 KB). */
export const MAX_RECORD_BYTES = 10_000;
const MAX_FILTER_KEYS = 5;
const MAX_FILTER_VALUES = 20;
const STREAM_NAME = /^[A-Za-z0-9_.-]{1,256}$/;
const GRANULARITIES = new Set(['HOURLY', 'DAILY', 'MONTHLY']);
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const DECIMAL_TEXT = /^\d+(?:\.\d+)?$/;

/** How a request changes its stream. */
export type LocalTelemetryOperation = 'sum' | 'replace' | 'legacy';

/** A record as stored. */
export interface StoredTelemetryRecord {
  readonly stream: string;
  /** Normalized to ISO 8601 UTC with milliseconds. */
  readonly timestamp: string;
  readonly granularity: string;
  readonly elementName: string;
  readonly filter?: Readonly<Record<string, readonly string[]>>;
  /** Decimal text (sums of decimal text stay exact). */
  readonly value: string;
}

/** A stream as the server knows it. */
export interface LocalTelemetryStream {
  readonly name: string;
  readonly granularity: string;
  readonly filterKeys: readonly string[];
}

/** One request received, in arrival order. */
export interface LocalTelemetryRequestLog {
  readonly method: string;
  readonly path: string;
  readonly at: number;
  readonly status: number | 'reset';
  readonly operation?: LocalTelemetryOperation;
  readonly stream?: string;
  /** Records in the body (when it could be read). */
  readonly records?: number;
  readonly bytes: number;
  /** The fault injected, if any. */
  readonly fault?: 'throttle' | 'fail' | 'reset' | 'applyThenFail';
  /** The answer's message. */
  readonly message?: string;
}

/** What to inject. `set` replaces the whole plan; counters count down as requests consume them. */
export interface TelemetryFaultPlan {
  /** The next N requests are answered 429 "Rate limit exceeded" before anything else is checked. */
  readonly throttleNext?: number;
  /** `Retry-After` of those answers: seconds, or an HTTP-date; null for no header. @default 1 */
  readonly retryAfter?: number | string | null;
  /** The next N requests are answered `failStatus` before anything is stored. */
  readonly failNext?: number;
  /** @default 500 */
  readonly failStatus?: 500 | 502 | 503 | 504;
  /** The connection of the next N requests is reset after the body is read; nothing is stored. */
  readonly resetNext?: number;
  /** The next N valid requests are stored, then answered 500: the answer is lost. */
  readonly applyThenFailNext?: number;
  /** Delay before every answer. */
  readonly latencyMs?: number;
}

/** Counters still pending. */
export interface PendingTelemetryFaults {
  readonly throttleNext: number;
  readonly failNext: number;
  readonly resetNext: number;
  readonly applyThenFailNext: number;
}

/** Options of the local telemetry API. */
export interface LocalCloudZeroTelemetryOptions {
  /** Accepted API keys; by default any non-empty key. */
  readonly apiKeys?: readonly string[];
  /** 0 (default) for any free port. */
  readonly port?: number;
  /** The server's clock, for "too far into the future". @default Date.now */
  readonly now?: () => number;
  readonly faults?: TelemetryFaultPlan;
}

/** An error answer. */
class TelemetryApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

interface StreamState {
  granularity: string;
  filterKeys: string[];
  /** match key → record */
  records: Map<string, StoredTelemetryRecord>;
}

interface ParsedRecord {
  readonly record: StoredTelemetryRecord;
  readonly key: string;
}

/** The local CloudZero telemetry API. `start()` before use; `close()` after. */
export class LocalCloudZeroTelemetry {
  private readonly now: () => number;
  private readonly apiKeys: ReadonlySet<string> | undefined;
  private readonly state = new Map<string, StreamState>();
  private readonly log: LocalTelemetryRequestLog[] = [];
  private plan: MutablePlan = emptyPlan();
  private server: http.Server | undefined;
  private url: string | undefined;

  /** Injected faults. */
  readonly faults: {
    /** Replaces the fault plan. */
    set(plan: TelemetryFaultPlan): void;
    clear(): void;
    pending(): PendingTelemetryFaults;
  };

  constructor(private readonly options: LocalCloudZeroTelemetryOptions = {}) {
    this.now = options.now ?? Date.now;
    this.apiKeys = options.apiKeys !== undefined ? new Set(options.apiKeys) : undefined;
    this.setPlan(options.faults ?? {});
    this.faults = {
      set: (plan) => this.setPlan(plan),
      clear: () => this.setPlan({}),
      pending: () => ({ throttleNext: this.plan.throttleNext, failNext: this.plan.failNext, resetNext: this.plan.resetNext, applyThenFailNext: this.plan.applyThenFailNext }),
    };
  }

  /** Listens on 127.0.0.1. */
  async start(): Promise<this> {
    if (this.server !== undefined) throw new Error('Local CloudZero telemetry: already started');
    const port = this.options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new RangeError(`Local CloudZero telemetry: invalid port ${port}`);
    const server = http.createServer((request, response) => {
      void this.serve(request, response);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        reject(error.code === 'EADDRINUSE' ? Object.assign(new Error(`Local CloudZero telemetry: port ${port} on 127.0.0.1 is already in use; choose another or pass 0`, { cause: error }), { code: 'EADDRINUSE' }) : error);
      });
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  /** `http://127.0.0.1:<port>`: the client's `baseUrl`. */
  get endpoint(): string {
    if (this.url === undefined) throw new Error('Local CloudZero telemetry: not started');
    return this.url;
  }

  /** Stored records, of one stream or all, ordered by stream, timestamp and element. */
  records(stream?: string): StoredTelemetryRecord[] {
    const names = stream !== undefined ? [stream] : [...this.state.keys()].sort();
    return names.flatMap((name) => [...(this.state.get(name)?.records.values() ?? [])])
      .sort((a, b) => compare(a.stream, b.stream) || compare(a.timestamp, b.timestamp) || compare(a.elementName, b.elementName));
  }

  /** Streams created so far. */
  streams(): LocalTelemetryStream[] {
    return [...this.state.entries()].sort(([a], [b]) => compare(a, b)).map(([name, s]) => ({ name, granularity: s.granularity, filterKeys: [...s.filterKeys] }));
  }

  /** Every request received, in arrival order. */
  requestLog(): LocalTelemetryRequestLog[] {
    return this.log.map((entry) => ({ ...entry }));
  }

  /** Forgets every stream and request (faults stay). */
  reset(): void {
    this.state.clear();
    this.log.length = 0;
  }

  /** Stops listening. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  private setPlan(plan: TelemetryFaultPlan): void {
    this.plan = {
      throttleNext: count(plan.throttleNext),
      retryAfter: plan.retryAfter === undefined ? 1 : plan.retryAfter,
      failNext: count(plan.failNext),
      failStatus: plan.failStatus ?? 500,
      resetNext: count(plan.resetNext),
      applyThenFailNext: count(plan.applyThenFailNext),
      latencyMs: Math.max(0, plan.latencyMs ?? 0),
    };
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0];
    const entry: { -readonly [K in keyof LocalTelemetryRequestLog]: LocalTelemetryRequestLog[K] } = { method: request.method ?? '', path, at: this.now(), status: 200, bytes: 0 };
    this.log.push(entry);
    let status = 200;
    let body: unknown = { message: 'Telemetry accepted' };
    const headers: Record<string, string> = {};
    try {
      const raw = await readRequestBody(request, MAX_REQUEST_BYTES);
      entry.bytes = raw.size;
      const route = routeOf(request.method ?? '', path);
      entry.operation = route.operation;
      if (route.stream !== undefined) entry.stream = route.stream;
      // Injected faults come first, as at the front door of the service: such a request stores nothing.
      if (this.plan.resetNext > 0) {
        this.plan.resetNext -= 1;
        entry.status = 'reset';
        entry.fault = 'reset';
        await this.delay();
        request.socket.destroy();
        return;
      }
      if (this.plan.throttleNext > 0) {
        this.plan.throttleNext -= 1;
        entry.fault = 'throttle';
        if (this.plan.retryAfter !== null) headers['retry-after'] = String(this.plan.retryAfter);
        throw new TelemetryApiError(429, 'Rate limit exceeded');
      }
      if (this.plan.failNext > 0) {
        this.plan.failNext -= 1;
        entry.fault = 'fail';
        throw new TelemetryApiError(this.plan.failStatus, this.plan.failStatus === 503 ? 'Slow down' : 'Internal server error (injected)');
      }
      this.authorize(request);
      if (raw.bytes === undefined) throw new TelemetryApiError(413, `Request body exceeds the ${MAX_REQUEST_BYTES} byte limit`);
      const parsed = this.parse(raw.bytes.toString('utf8'), route);
      entry.records = parsed.length;
      this.apply(parsed, route.operation);
      if (this.plan.applyThenFailNext > 0) {
        this.plan.applyThenFailNext -= 1;
        entry.fault = 'applyThenFail';
        throw new TelemetryApiError(500, 'Internal server error (injected after the records were stored)');
      }
    } catch (error) {
      const failure = error instanceof TelemetryApiError ? error : new TelemetryApiError(500, `Local CloudZero telemetry failure: ${String(error)}`);
      status = failure.status;
      body = { message: failure.message };
      entry.message = failure.message;
    }
    entry.status = status;
    await this.delay();
    const text = JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    response.end(text);
  }

  private async delay(): Promise<void> {
    if (this.plan.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.plan.latencyMs));
  }

  private authorize(request: IncomingMessage): void {
    const value = request.headers.authorization;
    const key = typeof value === 'string' ? value : '';
    const ok = this.apiKeys !== undefined ? this.apiKeys.has(key) : key.length > 0 && !/^bearer\s/i.test(key);
    if (!ok) throw new TelemetryApiError(403, "Not authorized, make sure you're using a valid API key in the header Authorization");
  }

  /** The request's records, checked; throws the documented 400 answers. */
  private parse(text: string, route: Route): ParsedRecord[] {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new TelemetryApiError(400, 'Invalid JSON');
    }
    const records = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as { records?: unknown }).records : undefined;
    if (!Array.isArray(records) || records.length === 0) throw new TelemetryApiError(400, 'Invalid Schema: Missing required fields: records must be a non-empty array');
    if (route.stream !== undefined && !STREAM_NAME.test(route.stream)) {
      throw new TelemetryApiError(400, `Invalid stream name ${JSON.stringify(route.stream)}: only alphanumeric characters, "_", "." and "-" are allowed (at most 256)`);
    }
    const parsed = records.map((record, index) => this.parseRecord(record, index, route));
    // One granularity and one set of filter keys per stream, across this request and what is stored.
    const shapes = new Map<string, { granularity: string; keys: string }>();
    for (const [name, s] of this.state) shapes.set(name, { granularity: s.granularity, keys: s.filterKeys.join('\u0000') });
    for (const { record } of parsed) {
      const keys = Object.keys(record.filter ?? {}).sort().join('\u0000');
      const shape = shapes.get(record.stream);
      if (shape === undefined) {
        shapes.set(record.stream, { granularity: record.granularity, keys });
        continue;
      }
      if (shape.keys !== keys) throw new TelemetryApiError(400, `All records in a stream must contain the same filter keys (stream ${record.stream})`);
      if (shape.granularity !== record.granularity) throw new TelemetryApiError(400, `All records in a stream must contain the same granularity as the stream's granularity (stream ${record.stream} is ${shape.granularity})`);
    }
    return parsed;
  }

  private parseRecord(value: unknown, index: number, route: Route): ParsedRecord {
    const at = `records[${index}]`;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TelemetryApiError(400, `Invalid Schema: ${at} must be an object`);
    const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
    if (bytes > MAX_RECORD_BYTES) throw new TelemetryApiError(400, `Invalid Schema: ${at} is ${bytes} bytes; a record may have at most ${MAX_RECORD_BYTES}`);
    const record = value as Record<string, unknown>;
    const element = record.element_name ?? record['element-name'];
    const stream = route.operation === 'legacy' ? record['telemetry-stream'] : route.stream;
    const missing = [
      ...(record.timestamp === undefined ? ['timestamp'] : []),
      ...(record.granularity === undefined ? ['granularity'] : []),
      ...(record.value === undefined ? ['value'] : []),
      ...(element === undefined ? ['element_name'] : []),
      ...(stream === undefined ? ['telemetry-stream'] : []),
    ];
    if (missing.length > 0) throw new TelemetryApiError(400, `Invalid Schema: Missing required fields: ${at} has no ${missing.join(', ')}`);
    if (typeof stream !== 'string' || !STREAM_NAME.test(stream)) throw new TelemetryApiError(400, `Invalid Schema: ${at} telemetry-stream ${JSON.stringify(stream)} must be 1-256 letters, digits, "_", "." or "-"`);
    if (typeof element !== 'string' || element.length === 0) throw new TelemetryApiError(400, `Invalid Schema: ${at} element_name must be a non-empty string`);
    if (typeof record.granularity !== 'string' || !GRANULARITIES.has(record.granularity)) throw new TelemetryApiError(400, `Invalid Schema: ${at} granularity must be HOURLY, DAILY or MONTHLY`);
    const time = typeof record.timestamp === 'string' && ISO_8601.test(record.timestamp) ? Date.parse(record.timestamp) : Number.NaN;
    if (Number.isNaN(time)) throw new TelemetryApiError(400, `Invalid Schema: ${at} timestamp must be an ISO 8601 date-time`);
    if (time > this.now()) throw new TelemetryApiError(400, `Timestamp too far into the future: ${at} ${record.timestamp}`);
    const filter = parseFilter(record.filter, at);
    const amount = parseValue(record.value, at);
    const timestamp = new Date(time).toISOString();
    const stored: StoredTelemetryRecord = { stream, timestamp, granularity: record.granularity, elementName: element, ...(filter !== undefined ? { filter } : {}), value: amount };
    const filterKey = JSON.stringify(Object.keys(filter ?? {}).sort().map((k) => [k, [...(filter as Record<string, string[]>)[k]].sort()]));
    return { record: stored, key: [timestamp, record.granularity, element, filterKey].join('\u0000') };
  }

  private apply(records: readonly ParsedRecord[], operation: LocalTelemetryOperation): void {
    for (const { record, key } of records) {
      let stream = this.state.get(record.stream);
      if (stream === undefined) {
        stream = { granularity: record.granularity, filterKeys: Object.keys(record.filter ?? {}).sort(), records: new Map() };
        this.state.set(record.stream, stream);
      }
      const existing = stream.records.get(key);
      const value = operation === 'replace' || existing === undefined ? record.value : addDecimal(existing.value, record.value);
      stream.records.set(key, { ...record, value });
    }
  }
}

/** Creates and starts a local CloudZero telemetry API. */
export async function startLocalCloudZeroTelemetry(options: LocalCloudZeroTelemetryOptions = {}): Promise<LocalCloudZeroTelemetry> {
  return new LocalCloudZeroTelemetry(options).start();
}

interface Route {
  readonly operation: LocalTelemetryOperation;
  readonly stream?: string;
}

function routeOf(method: string, path: string): Route {
  if (method !== 'POST') throw new TelemetryApiError(405, `${method} ${path} is not supported; telemetry is sent with POST`);
  if (path === '/unit-cost/v1/telemetry') return { operation: 'legacy' };
  const match = /^\/unit-cost\/v1\/telemetry\/allocation\/([^/]+)(?:\/(sum|replace|delete))?$/.exec(path);
  if (match === null) throw new TelemetryApiError(404, `No telemetry endpoint at ${path}`);
  let stream: string;
  try {
    stream = decodeURIComponent(match[1]);
  } catch {
    throw new TelemetryApiError(400, `Invalid stream name in ${path}`);
  }
  if (match[2] === 'delete') throw new TelemetryApiError(404, 'The delete operation is not simulated');
  return { operation: match[2] === 'replace' ? 'replace' : 'sum', stream };
}

function parseFilter(value: unknown, at: string): Record<string, readonly string[]> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new TelemetryApiError(400, `Invalid Schema: ${at} filter must be an object`);
  const keys = Object.keys(value);
  if (keys.length > MAX_FILTER_KEYS) throw new TelemetryApiError(400, `Invalid Schema: ${at} filter has ${keys.length} keys; at most ${MAX_FILTER_KEYS} are allowed`);
  const filter: Record<string, readonly string[]> = {};
  for (const key of keys) {
    const values = (value as Record<string, unknown>)[key];
    if (!Array.isArray(values) || values.length === 0 || values.some((v) => typeof v !== 'string')) {
      throw new TelemetryApiError(400, `Invalid Schema: ${at} filter ${JSON.stringify(key)} must be a non-empty array of strings`);
    }
    if (values.length > MAX_FILTER_VALUES) throw new TelemetryApiError(400, `Invalid Schema: ${at} filter ${JSON.stringify(key)} has ${values.length} values; at most ${MAX_FILTER_VALUES} are allowed`);
    filter[key] = [...(values as string[])];
  }
  return keys.length > 0 ? filter : undefined;
}

function parseValue(value: unknown, at: string): string {
  let text: string | undefined;
  if (typeof value === 'number' && Number.isFinite(value)) text = DECIMAL_TEXT.test(String(value)) ? String(value) : undefined;
  if (typeof value === 'string' && DECIMAL_TEXT.test(value)) text = value;
  if (text === undefined) throw new TelemetryApiError(400, `Invalid Schema: ${at} value must be a number, got ${JSON.stringify(value)}`);
  if (!/[1-9]/.test(text)) throw new TelemetryApiError(400, `Invalid Schema: ${at} value must be greater than 0`);
  return text;
}

/** Exact sum of two non-negative decimal texts. */
function addDecimal(a: string, b: string): string {
  const scale = Math.max(a.split('.')[1]?.length ?? 0, b.split('.')[1]?.length ?? 0);
  return formatDecimal(parseDecimal(a, scale) + parseDecimal(b, scale), scale, 0);
}

type MutablePlan = { -readonly [K in keyof Required<TelemetryFaultPlan>]: K extends 'retryAfter' ? number | string | null : Exclude<TelemetryFaultPlan[K], undefined> };

function emptyPlan(): MutablePlan {
  return { throttleNext: 0, retryAfter: 1, failNext: 0, failStatus: 500, resetNext: 0, applyThenFailNext: 0, latencyMs: 0 };
}

function count(value: number | undefined): number {
  return Math.max(0, Math.floor(value ?? 0));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
