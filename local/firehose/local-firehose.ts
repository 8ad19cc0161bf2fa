/**
 * A local Amazon Data Firehose (Direct PUT) for tests and the local runtime (never bundled into a
 * Lambda): an HTTP server on loopback that the real `@aws-sdk/client-firehose` client talks to
 * through `endpoint`, implementing PutRecordBatch and PutRecord with the documented limits, fault
 * injection, and a processor that receives the accepted records in batches, as the stream's Lambda
 * transform does (plug in the real transform and the local lake there).
 *
 * ```ts
 * const firehose = await startLocalFirehose({ processor: async (records) => { ... } });
 * const stream = new FirehoseDeliveryStream(firehose.client(), { deliveryStreamName: 'usage' });
 * firehose.faults.set({ failRecords: 3, throttleNext: 1 });
 * await stream.put(records); await firehose.flush(); firehose.stats(); await firehose.close();
 * ```
 *
 * Rules, and their sources:
 * - Records per PutRecordBatch: 1..500; record data: at most 1,024,000 bytes before base64; stream
 *   name: 1..64 characters of [a-zA-Z0-9_.-] (the Firehose Smithy model shipped in
 *   @aws-sdk/client-firehose 3.1169.0; API reference API_PutRecordBatch.html and API_Record.html).
 *   A request that breaks them is refused whole with ValidationException (HTTP 400), in the message
 *   format of AWS's request validation ("1 validation error detected: Value … at
 *   'records.2.member.data' failed to satisfy constraint: Member must have length less than or equal
 *   to 1024000", as reported against the real service).
 * - At most 4 MiB of record data per call (API reference: "up to a limit of 4 MB for the entire
 *   request"; the quota page: 4 MiB). More is refused whole with InvalidArgumentException, "Records
 *   size exceeds 4 MB limit" (the message seen from the real service; its code is not documented —
 *   decision).
 * - An unknown stream: ResourceNotFoundException (only when `deliveryStreams` is given; by default any
 *   name is accepted).
 * - Failed records are answered in `RequestResponses` with `ErrorCode` and `ErrorMessage`, accepted
 *   ones with a `RecordId`; `FailedPutCount` counts the failed ones (API_PutRecordBatch.html). A throttled
 *   record is answered `ServiceUnavailableException` / "Slow down.", as the real service does.
 * - Whole-call throttling is ServiceUnavailableException with HTTP 503 (its modelled httpError).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { FirehoseClient, type FirehoseClientConfig } from '@aws-sdk/client-firehose';
import type { FirehoseTransformationEvent } from 'aws-lambda';
import { FirehoseFaultInjector, type FirehoseFaultPlan, type PendingFirehoseFaults } from './firehose-faults';
import { FirehoseServiceError, parseJsonBody, startProtocolServer, type FirehoseErrorCode, type ProtocolServer } from './firehose-server';

export type { FirehoseFaultPlan, InjectedRecord, PendingFirehoseFaults, RecordErrorCode } from './firehose-faults';
export type { FirehoseErrorCode } from './firehose-server';

/** Records per PutRecordBatch call (model: PutRecordBatchRequestEntryList length 1..500). */
export const MAX_RECORDS_PER_CALL = 500;
/** Record data per call, before base64: 4 MiB. */
export const MAX_BYTES_PER_CALL = 4 * 1024 * 1024;
/** Data of one record, before base64 (model: Data length 0..1,024,000 = 1,000 KiB). */
export const MAX_RECORD_BYTES = 1_024_000;
/** Model: DeliveryStreamName length 1..64, pattern [a-zA-Z0-9_.-]+. */
const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,64}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Account id in error messages. */
const ACCOUNT = '000000000000';

/** A record as the processor receives it (the fields Firehose gives a Lambda transform, data decoded). */
export interface LocalFirehoseRecord {
  readonly recordId: string;
  readonly data: Uint8Array;
  /** When the local Firehose accepted the record (epoch ms, from `now`). */
  readonly approximateArrivalTimestamp: number;
}

/**
 * Receives accepted records in batches, one batch at a time, in acceptance order. A rejection keeps
 * the batch at the head of the queue: it is handed again on the next delivery (at least once).
 */
export type RecordProcessor = (records: LocalFirehoseRecord[]) => Promise<void>;

/** Options of {@link LocalFirehose}. */
export interface LocalFirehoseOptions {
  readonly processor: RecordProcessor;
  /** @default 0 (any free port) */
  readonly port?: number;
  /** The streams that exist; calls naming another get ResourceNotFoundException. @default any name is accepted */
  readonly deliveryStreams?: readonly string[];
  /** The service's clock (epoch ms), for approximateArrivalTimestamp. @default Date.now */
  readonly now?: () => number;
  /** A batch is handed to the processor once it holds this many records. @default 500 */
  readonly bufferRecords?: number;
  /**
   * A batch is handed to the processor once it holds this many bytes of data, and never holds more
   * (unless a single record is larger). @default 1 MiB (Firehose's default processor buffer)
   */
  readonly bufferBytes?: number;
  /** Also hand over whatever is buffered every this many ms. @default none: by size, or on flush() */
  readonly bufferIntervalMs?: number;
  /** Faults injected from the start. */
  readonly faults?: FirehoseFaultPlan;
}

/** One call the local Firehose received (after the HTTP envelope was accepted). */
export interface FirehoseCallRecord {
  readonly operation: string;
  /** Clock when the call arrived. */
  readonly at: number;
  /** Records in the request, when its body could be read. */
  readonly recordCount?: number;
  /** Bytes of record data in the request (decoded), when it could be read. */
  readonly dataBytes?: number;
  readonly outcome: 'Success' | FirehoseErrorCode;
  /** Records answered with an error entry (PutRecordBatch). */
  readonly failedPutCount?: number;
}

/** Counters. */
export interface LocalFirehoseStats {
  /** Calls received (every operation, every outcome). */
  readonly calls: number;
  readonly putRecordBatchCalls: number;
  readonly putRecordCalls: number;
  /** Calls answered with an error (nothing of them accepted). */
  readonly callsFailed: number;
  /** Records accepted (answered with a RecordId). */
  readonly recordsAccepted: number;
  /** Records answered with an error entry (or a PutRecord refused by an injected record fault). */
  readonly recordsFailed: number;
  /** Records the processor took (its promise resolved). */
  readonly recordsDelivered: number;
  readonly batchesDelivered: number;
  /** Records accepted and not yet delivered. */
  readonly recordsBuffered: number;
  /** Processor rejections. */
  readonly processorFailures: number;
}

interface MutableCallRecord {
  operation: string;
  at: number;
  recordCount?: number;
  dataBytes?: number;
  outcome: 'Success' | FirehoseErrorCode;
  failedPutCount?: number;
}

interface Batch {
  readonly records: LocalFirehoseRecord[];
  bytes: number;
}

/** The local Firehose. `start()` before use; `close()` after. */
export class LocalFirehose {
  private readonly now: () => number;
  private readonly streams: ReadonlySet<string> | undefined;
  private readonly bufferRecords: number;
  private readonly bufferBytes: number;
  private readonly injector = new FirehoseFaultInjector();
  private readonly log: MutableCallRecord[] = [];
  private readonly clients: FirehoseClient[] = [];
  /** Batches cut and waiting for the processor, oldest first. */
  private readonly ready: Batch[] = [];
  private buffer: Batch = { records: [], bytes: 0 };
  private draining: Promise<boolean> | undefined;
  private lastProcessorError: unknown;
  private server: ProtocolServer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private counters = { recordsAccepted: 0, recordsFailed: 0, recordsDelivered: 0, batchesDelivered: 0, processorFailures: 0 };

  /** Injected faults. */
  readonly faults: {
    /** Replaces the fault plan. */
    set(plan: FirehoseFaultPlan): void;
    clear(): void;
    pending(): PendingFirehoseFaults;
  };

  constructor(private readonly options: LocalFirehoseOptions) {
    this.now = options.now ?? Date.now;
    this.streams = options.deliveryStreams !== undefined ? new Set(options.deliveryStreams) : undefined;
    this.bufferRecords = positive('bufferRecords', options.bufferRecords ?? 500);
    this.bufferBytes = positive('bufferBytes', options.bufferBytes ?? 1024 * 1024);
    if (options.bufferIntervalMs !== undefined) positive('bufferIntervalMs', options.bufferIntervalMs);
    this.injector.set(options.faults ?? {});
    this.faults = {
      set: (plan) => this.injector.set(plan),
      clear: () => this.injector.clear(),
      pending: () => this.injector.pending(),
    };
  }

  /** Listens on 127.0.0.1 (`port` option, any free port by default). */
  async start(): Promise<this> {
    if (this.server !== undefined) throw new Error('Local Firehose: already started');
    this.server = await startProtocolServer((operation, body) => this.handle(operation, body), this.options.port ?? 0);
    if (this.options.bufferIntervalMs !== undefined) {
      this.timer = setInterval(() => {
        this.cut();
        void this.drain();
      }, this.options.bufferIntervalMs);
      this.timer.unref();
    }
    return this;
  }

  /** `http://127.0.0.1:<port>`: pass as `endpoint` to a FirehoseClient. */
  get endpoint(): string {
    if (this.server === undefined) throw new Error('Local Firehose: not started');
    return this.server.endpoint;
  }

  /**
   * A FirehoseClient pointed at the local Firehose (region us-east-1, fake credentials, maxAttempts 1
   * so that tests see raw behaviour). Destroyed by `close()`.
   */
  client(config: Partial<FirehoseClientConfig> = {}): FirehoseClient {
    const client = new FirehoseClient({
      endpoint: this.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
      ...config,
    });
    this.clients.push(client);
    return client;
  }

  /**
   * Hands every buffered record to the processor and resolves when it took them all. Rejects with
   * the processor's error if a batch could not be delivered (it stays buffered for the next flush).
   */
  async flush(): Promise<void> {
    this.cut();
    for (;;) {
      const emptied = await this.drain();
      if (this.ready.length === 0) return;
      // A drain that ended just before a batch was queued: go again; a rejected batch: report it.
      if (!emptied) throw this.lastProcessorError;
    }
  }

  /** Counters so far. */
  stats(): LocalFirehoseStats {
    const batch = this.log.filter((call) => call.operation === 'PutRecordBatch').length;
    return {
      calls: this.log.length,
      putRecordBatchCalls: batch,
      putRecordCalls: this.log.filter((call) => call.operation === 'PutRecord').length,
      callsFailed: this.log.filter((call) => call.outcome !== 'Success').length,
      ...this.counters,
      recordsBuffered: this.buffer.records.length + this.ready.reduce((sum, b) => sum + b.records.length, 0),
    };
  }

  /** Every call received, in arrival order. */
  callLog(): FirehoseCallRecord[] {
    return this.log.map((call) => ({ ...call }));
  }

  /** Stops listening (buffered records are not delivered: flush() first to deliver them). */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    for (const client of this.clients.splice(0)) client.destroy();
    const server = this.server;
    this.server = undefined;
    await server?.close();
    await this.draining;
  }

  private async handle(operation: string, raw: string | undefined): Promise<unknown> {
    const call: MutableCallRecord = { operation, at: this.now(), outcome: 'Success' };
    this.log.push(call);
    try {
      if (raw === undefined) throw new FirehoseServiceError('InvalidArgumentException', 'Records size exceeds 4 MB limit');
      const body = parseJsonBody(raw);
      // Injected call faults come first, as at the front door of the service: such a call does nothing.
      const failure = this.injector.takeCallFailure();
      if (failure !== undefined) throw new FirehoseServiceError(failure, failure === 'InternalFailure' ? 'Internal service failure (injected)' : `${failure} (injected)`);
      if (this.injector.takeThrottle()) throw new FirehoseServiceError('ServiceUnavailableException', 'Slow down.');
      return operation === 'PutRecord' ? this.putRecord(body, call) : this.putRecordBatch(body, call);
    } catch (error) {
      call.outcome = error instanceof FirehoseServiceError ? error.code : 'InternalFailure';
      throw error;
    } finally {
      const latency = this.injector.latencyMs;
      if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    }
  }

  private putRecordBatch(body: Record<string, unknown>, call: MutableCallRecord): unknown {
    const streamName = body.DeliveryStreamName;
    const records = body.Records;
    if (Array.isArray(records)) call.recordCount = records.length;
    const errors = streamNameErrors(streamName);
    if (!Array.isArray(records)) {
      errors.push(`Value null at 'records' failed to satisfy constraint: Member must not be null`);
    } else if (records.length < 1 || records.length > MAX_RECORDS_PER_CALL) {
      const bound = records.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${MAX_RECORDS_PER_CALL}`;
      errors.push(`Value '[${records.length} records]' at 'records' failed to satisfy constraint: Member must have length ${bound}`);
    }
    const decoded = Array.isArray(records) ? records.map((entry, i) => decodeRecord(entry, `records.${i + 1}.member.data`, errors)) : [];
    throwIfInvalid(errors);
    const dataBytes = decoded.reduce((sum, data) => sum + data.byteLength, 0);
    call.dataBytes = dataBytes;
    if (dataBytes > MAX_BYTES_PER_CALL) throw new FirehoseServiceError('InvalidArgumentException', 'Records size exceeds 4 MB limit');
    this.checkStream(streamName as string);

    const callNumber = this.log.length;
    const arrival = this.now();
    let failedPutCount = 0;
    const responses = decoded.map((data, position) => {
      if (this.injector.takeRecordFailure({ data, position, call: callNumber })) {
        failedPutCount += 1;
        return { ErrorCode: this.injector.recordErrorCode, ErrorMessage: recordErrorMessage(this.injector.recordErrorCode) };
      }
      return { RecordId: this.accept(data, arrival) };
    });
    this.counters.recordsFailed += failedPutCount;
    call.failedPutCount = failedPutCount;
    return { FailedPutCount: failedPutCount, Encrypted: false, RequestResponses: responses };
  }

  private putRecord(body: Record<string, unknown>, call: MutableCallRecord): unknown {
    const streamName = body.DeliveryStreamName;
    const errors = streamNameErrors(streamName);
    const record = body.Record;
    if (record === undefined || record === null) errors.push(`Value null at 'record' failed to satisfy constraint: Member must not be null`);
    const data = record === undefined || record === null ? new Uint8Array() : decodeRecord(record, 'record.data', errors);
    throwIfInvalid(errors);
    call.recordCount = 1;
    call.dataBytes = data.byteLength;
    this.checkStream(streamName as string);
    if (this.injector.takeRecordFailure({ data, position: 0, call: this.log.length })) {
      // PutRecord has no per-record entries: a record Firehose could not take fails the call.
      this.counters.recordsFailed += 1;
      const code = this.injector.recordErrorCode;
      throw new FirehoseServiceError(code, recordErrorMessage(code));
    }
    return { RecordId: this.accept(data, this.now()), Encrypted: false };
  }

  private checkStream(name: string): void {
    if (this.streams !== undefined && !this.streams.has(name)) {
      throw new FirehoseServiceError('ResourceNotFoundException', `Firehose ${name} under account ${ACCOUNT} not found.`);
    }
  }

  /** Buffers an accepted record; hands a batch to the processor when the buffer is full. */
  private accept(data: Uint8Array, approximateArrivalTimestamp: number): string {
    const recordId = randomBytes(57).toString('base64');
    if (this.buffer.records.length > 0 && this.buffer.bytes + data.byteLength > this.bufferBytes) this.cut();
    this.buffer.records.push({ recordId, data, approximateArrivalTimestamp });
    this.buffer.bytes += data.byteLength;
    this.counters.recordsAccepted += 1;
    if (this.buffer.records.length >= this.bufferRecords || this.buffer.bytes >= this.bufferBytes) {
      this.cut();
      void this.drain();
    }
    return recordId;
  }

  /** Moves the buffer, if not empty, to the queue of batches ready for the processor. */
  private cut(): void {
    if (this.buffer.records.length === 0) return;
    this.ready.push(this.buffer);
    this.buffer = { records: [], bytes: 0 };
  }

  /**
   * Hands ready batches to the processor one at a time, one drain at a time. Resolves true when the
   * queue is empty, false when the processor rejected a batch (which stays at the head); never rejects.
   */
  private drain(): Promise<boolean> {
    if (this.draining === undefined) {
      this.draining = this.deliverReady().finally(() => {
        this.draining = undefined;
      });
    }
    return this.draining;
  }

  private async deliverReady(): Promise<boolean> {
    while (this.ready.length > 0) {
      const batch = this.ready[0];
      try {
        await this.options.processor([...batch.records]);
      } catch (error) {
        this.counters.processorFailures += 1;
        this.lastProcessorError = error;
        return false;
      }
      this.ready.shift();
      this.counters.recordsDelivered += batch.records.length;
      this.counters.batchesDelivered += 1;
    }
    return true;
  }
}

/**
 * The event Firehose would invoke the stream's Lambda transform with for a batch (data base64-encoded),
 * so a processor can run the real transform: `transformBatch(toTransformationEvent(records).records, routing)`.
 */
export function toTransformationEvent(
  records: readonly LocalFirehoseRecord[],
  stream: { readonly deliveryStreamArn?: string; readonly region?: string } = {},
): FirehoseTransformationEvent {
  return {
    invocationId: randomUUID(),
    deliveryStreamArn: stream.deliveryStreamArn ?? `arn:aws:firehose:us-east-1:${ACCOUNT}:deliverystream/local`,
    region: stream.region ?? 'us-east-1',
    records: records.map((record) => ({
      recordId: record.recordId,
      approximateArrivalTimestamp: record.approximateArrivalTimestamp,
      data: Buffer.from(record.data.buffer, record.data.byteOffset, record.data.byteLength).toString('base64'),
    })),
  };
}

/** Creates and starts a local Firehose. */
export async function startLocalFirehose(options: LocalFirehoseOptions): Promise<LocalFirehose> {
  return new LocalFirehose(options).start();
}

function streamNameErrors(name: unknown): string[] {
  if (name === undefined || name === null) return [`Value null at 'deliveryStreamName' failed to satisfy constraint: Member must not be null`];
  if (typeof name !== 'string') throw new FirehoseServiceError('SerializationException', 'DeliveryStreamName must be a string');
  if (!STREAM_NAME.test(name)) {
    return [`Value '${name}' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+ and have length between 1 and 64`];
  }
  return [];
}

/** The record's data, decoded; adds a validation error when it is over the per-record limit. */
function decodeRecord(entry: unknown, path: string, errors: string[]): Uint8Array {
  const data = typeof entry === 'object' && entry !== null ? (entry as { Data?: unknown }).Data : undefined;
  if (data === undefined || data === null) {
    errors.push(`Value null at '${path}' failed to satisfy constraint: Member must not be null`);
    return new Uint8Array();
  }
  if (typeof data !== 'string' || !BASE64.test(data)) throw new FirehoseServiceError('SerializationException', `Base64 encoded data expected at '${path}'`);
  const buffer = Buffer.from(data, 'base64');
  if (buffer.byteLength > MAX_RECORD_BYTES) {
    errors.push(`Value 'java.nio.HeapByteBuffer[pos=0 lim=${buffer.byteLength} cap=${buffer.byteLength}]' at '${path}' failed to satisfy constraint: Member must have length less than or equal to ${MAX_RECORD_BYTES}`);
  }
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function throwIfInvalid(errors: readonly string[]): void {
  if (errors.length === 0) return;
  const head = `${errors.length} validation error${errors.length === 1 ? '' : 's'} detected: `;
  throw new FirehoseServiceError('ValidationException', head + errors.slice(0, 10).join('; '));
}

function recordErrorMessage(code: string): string {
  return code === 'ServiceUnavailableException' ? 'Slow down.' : 'Internal service failure.';
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`Local Firehose: ${name} must be positive, got ${value}`);
  return value;
}
