/**
 * The local API's access logging (never bundled into a Lambda): renders one line per request from
 * the stage's access-log format, exactly as API Gateway fills it, and hands the lines in batches to
 * a sink — in a local run, Firehose PutRecordBatch on the local Firehose, the path API Gateway's
 * access logs take in AWS.
 *
 * Rendering. The format (`accessLogFormat()`, the one the stage is deployed with) is parsed once
 * into literal text and `$context` variables; each variable is replaced by its value, or by `-`
 * (API Gateway's "no value") when the request has none or an empty one — e.g. the claims of a
 * request the authorizer refused, the resource of a request that matched no route, the integration
 * latency when no integration ran. Values are JSON-escaped (quotes, backslashes, control characters, lone
 * surrogates), since every variable of the format sits inside a JSON string: the line stays one valid
 * JSON object whatever a client or a token puts in it. A variable the writer cannot fill is refused
 * when the format is compiled, so a format change cannot silently log `-` for everything.
 *
 * Delivery. Lines are buffered and handed over in batches (at most {@link MAX_LINES_PER_BATCH}, a
 * PutRecordBatch's worth) when a batch is full, every `flushIntervalMs`, and on `flush()`; one batch
 * at a time, in order. Lines the sink could not deliver are kept at the head of the buffer and sent
 * again next time (at least once — the lake's queries count each request id once): never dropped.
 * Each record is the line plus a newline, as API Gateway delivers access logs to Firehose (the
 * transform accepts either form).
 */
import type { FirehoseClient } from '@aws-sdk/client-firehose';
import { FirehoseDeliveryStream } from '../../adapters/firehose/firehose-delivery-stream';
import { ABSENT_VALUE, accessLogFormat } from '../../core/access-log/fields';
import type { DeliveryStream, PutFailure } from '../../core/ingestion/delivery-stream';

/** What API Gateway knows about one request when it writes its access log; absent values log `-`. */
export interface AccessLogContext {
  /** `$context.requestId` */
  readonly requestId: string;
  /** `$context.requestTimeEpoch`: when the request arrived, epoch ms. */
  readonly requestTimeEpoch: number;
  /** `$context.httpMethod` */
  readonly httpMethod: string;
  /** `$context.resourcePath`: the matched resource, e.g. `/random/strings`; absent when no route matched. */
  readonly resourcePath?: string;
  /** `$context.path`: the request path including the stage, e.g. `/prod/random/strings`. */
  readonly path?: string;
  /** `$context.status` */
  readonly status: number;
  /** `$context.protocol`, e.g. `HTTP/1.1`. */
  readonly protocol?: string;
  /** `$context.responseLength`: bytes of the response body. */
  readonly responseLength?: number;
  /** `$context.identity.sourceIp` */
  readonly sourceIp?: string;
  /** `$context.identity.userAgent` */
  readonly userAgent?: string;
  /** `$context.stage` */
  readonly stage: string;
  /** `$context.apiId` */
  readonly apiId: string;
  /** `$context.authorizer.claims`: the verified token's claims as API Gateway passes them; absent when none. */
  readonly claims?: Readonly<Record<string, string>>;
  /** `$context.responseLatency`, ms. */
  readonly responseLatency?: number;
  /** `$context.integration.latency` (= `$context.integrationLatency`), ms; absent when no integration ran. */
  readonly integrationLatency?: number;
  /** `$context.error.responseType`: the gateway response when API Gateway answered itself. */
  readonly errorResponseType?: string;
  /** `$context.error.message` */
  readonly errorMessage?: string;
}

/** Takes a batch of rendered lines; rejects when they were not all delivered. */
export type AccessLogSink = (lines: string[]) => Promise<void>;

/** The `$context` variables the writer can fill, by name without `$context.`. */
const VARIABLES: Readonly<Record<string, (context: AccessLogContext) => string | number | undefined>> = {
  requestId: (c) => c.requestId,
  requestTimeEpoch: (c) => c.requestTimeEpoch,
  requestTime: (c) => apiGatewayRequestTime(c.requestTimeEpoch),
  httpMethod: (c) => c.httpMethod,
  resourcePath: (c) => c.resourcePath,
  path: (c) => c.path,
  status: (c) => c.status,
  protocol: (c) => c.protocol,
  responseLength: (c) => c.responseLength,
  'identity.sourceIp': (c) => c.sourceIp,
  'identity.userAgent': (c) => c.userAgent,
  stage: (c) => c.stage,
  apiId: (c) => c.apiId,
  responseLatency: (c) => c.responseLatency,
  'integration.latency': (c) => c.integrationLatency,
  integrationLatency: (c) => c.integrationLatency,
  'error.responseType': (c) => c.errorResponseType,
  'error.message': (c) => c.errorMessage,
};

/** A `$context` variable: a dotted name, or a claim as `authorizer.claims['name']` / `authorizer.claims.name`. */
const VARIABLE = /\$context\.(?:authorizer\.claims(?:\['([^']+)'\]|\.([A-Za-z0-9_]+))|([A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*)*))/g;

/** Records per PutRecordBatch call: the most lines handed to the sink at once. */
export const MAX_LINES_PER_BATCH = 500;
/** How often buffered lines are handed over by default. */
export const DEFAULT_FLUSH_INTERVAL_MS = 1000;

/** The format names a variable the writer cannot fill. */
export class AccessLogFormatError extends Error {
  override readonly name = 'AccessLogFormatError';
}

/** The sink delivered only part of a batch: the rest is to be sent again. */
export class AccessLogDeliveryError extends Error {
  override readonly name = 'AccessLogDeliveryError';
  constructor(
    /** The lines not delivered, in their order. */
    readonly undeliveredLines: readonly string[],
    message: string,
  ) {
    super(message);
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;
const two = (n: number): string => String(n).padStart(2, '0');

/** `$context.requestTime` (and the proxy event's `requestContext.requestTime`): CLF-formatted, e.g. `23/Nov/2026:10:05:00 +0000`. */
export function apiGatewayRequestTime(epochMillis: number): string {
  const d = new Date(epochMillis);
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

/** A value as it appears inside a JSON string: escaped, without the surrounding quotes. */
function jsonStringContent(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

/** A value's text, or `-` when the request has none. */
function text(value: string | number | undefined): string {
  if (value === undefined) return ABSENT_VALUE;
  if (typeof value === 'number') return Number.isFinite(value) ? String(Math.trunc(value)) : ABSENT_VALUE;
  return value.length === 0 ? ABSENT_VALUE : value;
}

/** A compiled access-log format: renders the line of a request. */
export type AccessLogRenderer = (context: AccessLogContext) => string;

/**
 * Compiles an API Gateway access-log format (by default the stage's, {@link accessLogFormat}).
 * Throws {@link AccessLogFormatError} naming the first variable it cannot fill.
 */
export function compileAccessLogFormat(format: string = accessLogFormat()): AccessLogRenderer {
  const parts: ((context: AccessLogContext) => string)[] = [];
  let last = 0;
  for (const match of format.matchAll(VARIABLE)) {
    const literal = format.slice(last, match.index);
    parts.push(() => literal);
    last = match.index + match[0].length;
    const claim = match[1] ?? match[2];
    if (claim !== undefined) {
      parts.push((context) => jsonStringContent(text(context.claims?.[claim])));
      continue;
    }
    const name = match[3] as string;
    const get = VARIABLES[name];
    if (get === undefined) throw new AccessLogFormatError(`the access-log format uses $context.${name}, which the local API does not fill (it knows ${Object.keys(VARIABLES).map((v) => `$context.${v}`).join(', ')} and $context.authorizer.claims)`);
    parts.push((context) => jsonStringContent(text(get(context))));
  }
  const tail = format.slice(last);
  if (tail.includes('$context')) throw new AccessLogFormatError(`the access-log format has a $context variable the local API cannot read: ${JSON.stringify(tail.slice(tail.indexOf('$context'), tail.indexOf('$context') + 40))}`);
  parts.push(() => tail);
  return (context) => parts.map((part) => part(context)).join('');
}

/** Options of {@link AccessLogWriter}. */
export interface AccessLogWriterOptions {
  /** The stage's access-log format. @default {@link accessLogFormat}() */
  readonly format?: string;
  /** Hand buffered lines over this often; 0 = only when a batch is full or on `flush()`. @default {@link DEFAULT_FLUSH_INTERVAL_MS} */
  readonly flushIntervalMs?: number;
  /** Most lines per batch. @default {@link MAX_LINES_PER_BATCH} */
  readonly maxBatchLines?: number;
  /** Told when a delivery nobody awaits fails (the lines stay buffered). @default a line on stderr */
  readonly onError?: (error: unknown) => void;
}

/** Renders access-log lines and delivers them to a sink in batches (see the module comment). */
export class AccessLogWriter {
  private readonly render: AccessLogRenderer;
  private readonly maxBatchLines: number;
  private readonly onError: (error: unknown) => void;
  private readonly timer: NodeJS.Timeout | undefined;
  private buffer: string[] = [];
  private sending: Promise<void> | undefined;
  private deliveredLines = 0;

  constructor(
    private readonly sink: AccessLogSink,
    options: AccessLogWriterOptions = {},
  ) {
    this.render = compileAccessLogFormat(options.format);
    this.maxBatchLines = options.maxBatchLines ?? MAX_LINES_PER_BATCH;
    if (!Number.isSafeInteger(this.maxBatchLines) || this.maxBatchLines < 1 || this.maxBatchLines > MAX_LINES_PER_BATCH) {
      throw new RangeError(`maxBatchLines must be a whole number from 1 to ${MAX_LINES_PER_BATCH}, got ${options.maxBatchLines}`);
    }
    this.onError = options.onError ?? ((error) => process.stderr.write(`access logs: delivery failed, will retry: ${error instanceof Error ? error.message : String(error)}\n`));
    const interval = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    if (!Number.isSafeInteger(interval) || interval < 0) throw new RangeError(`flushIntervalMs must be a whole number of milliseconds ≥ 0, got ${options.flushIntervalMs}`);
    if (interval > 0) {
      this.timer = setInterval(() => this.sendInBackground(), interval);
      this.timer.unref();
    }
  }

  /** Renders the line of a request, buffers it and returns it. */
  write(context: AccessLogContext): string {
    const line = this.render(context);
    this.buffer.push(line);
    if (this.buffer.length >= this.maxBatchLines) this.sendInBackground();
    return line;
  }

  /** Lines buffered and not yet delivered. */
  get pendingLines(): number {
    return this.buffer.length;
  }

  /** Lines the sink took so far. */
  get delivered(): number {
    return this.deliveredLines;
  }

  /**
   * Delivers every line written so far; resolves once the sink took them all. Rejects with the
   * sink's error when it did not (the lines stay buffered for the next attempt).
   */
  async flush(): Promise<void> {
    for (;;) {
      if (this.sending !== undefined) await this.sending;
      if (this.buffer.length === 0) return;
      await this.send();
    }
  }

  /** Stops the interval and delivers what is left (rejecting like `flush()`). */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.flush();
  }

  private sendInBackground(): void {
    if (this.buffer.length === 0 && this.sending === undefined) return;
    this.send().catch(this.onError);
  }

  /** The one delivery in progress (started when none is). */
  private send(): Promise<void> {
    this.sending ??= this.deliverAll().finally(() => {
      this.sending = undefined;
    });
    return this.sending;
  }

  private async deliverAll(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.maxBatchLines);
      try {
        await this.sink(batch);
        this.deliveredLines += batch.length;
      } catch (error) {
        const undelivered = error instanceof AccessLogDeliveryError ? error.undeliveredLines : batch;
        this.deliveredLines += batch.length - undelivered.length;
        this.buffer = [...undelivered, ...this.buffer];
        throw error;
      }
    }
  }
}

/** Where {@link firehoseAccessLogSink} puts the lines: a delivery stream, or a Firehose client and stream name. */
export type FirehoseTarget = DeliveryStream | { readonly client: FirehoseClient; readonly deliveryStreamName: string };

/**
 * A sink that puts each line (plus a newline) as one record on a Firehose delivery stream with
 * PutRecordBatch, through {@link FirehoseDeliveryStream} (per-record resends, backoff). Lines still
 * refused after its attempts reject with an {@link AccessLogDeliveryError} listing them.
 */
export function firehoseAccessLogSink(target: FirehoseTarget): AccessLogSink {
  const stream: DeliveryStream = 'put' in target ? target : new FirehoseDeliveryStream(target.client, { deliveryStreamName: target.deliveryStreamName });
  const encoder = new TextEncoder();
  return async (lines) => {
    const report = await stream.put(lines.map((line) => encoder.encode(`${line}\n`)));
    if (report.failed.length > 0) {
      throw new AccessLogDeliveryError(report.failed.map((failure) => lines[failure.index] as string), `${report.failed.length} of ${lines.length} access-log records not delivered: ${describeFailures(report.failed)}`);
    }
  };
}

function describeFailures(failures: readonly PutFailure[]): string {
  const byCode = new Map<string, number>();
  for (const failure of failures) byCode.set(failure.errorCode, (byCode.get(failure.errorCode) ?? 0) + 1);
  const first = failures[0]?.errorMessage;
  return `${[...byCode].map(([code, count]) => `${count} × ${code}`).join(', ')}${first ? ` (${first})` : ''}`;
}
