import {
  FirehoseClient,
  FirehoseServiceException,
  InvalidArgumentException,
  PutRecordBatchCommand,
  ResourceNotFoundException,
  ServiceUnavailableException,
  type PutRecordBatchCommandInput,
  type PutRecordBatchCommandOutput,
} from '@aws-sdk/client-firehose';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  FirehoseDeliveryStream,
  classifyCallError,
  matchResponses,
  type FirehoseDeliveryStreamOptions,
} from '../../../adapters/firehose/firehose-delivery-stream';
import { PUT_RECORD_BATCH_LIMITS, RECORD_TOO_LARGE } from '../../../core/ingestion/delivery-stream';

const firehoseMock = mockClient(FirehoseClient);
const client = new FirehoseClient({ region: 'eu-west-1' });
const STREAM = 'amazon-apigateway-usage';
const KIB = 1024;

beforeEach(() => {
  firehoseMock.reset();
});

function stream(options: Partial<FirehoseDeliveryStreamOptions> = {}) {
  const sleep = jest.fn(async (_ms: number) => {});
  return { sleep, stream: new FirehoseDeliveryStream(client, { deliveryStreamName: STREAM, sleep, random: () => 0.5, ...options }) };
}

function records(count: number, size = 16): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => {
    const data = new Uint8Array(size);
    new DataView(data.buffer).setUint32(0, i);
    return data;
  });
}

const text = (value: string) => new TextEncoder().encode(value);

/** Answers every record with a RecordId except the positions given, answered ServiceUnavailableException. */
function answer(sent: number, failedPositions: readonly number[] = []): PutRecordBatchCommandOutput {
  const failed = new Set(failedPositions);
  return {
    $metadata: {},
    FailedPutCount: failed.size,
    RequestResponses: Array.from({ length: sent }, (_, i) => (failed.has(i) ? { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' } : { RecordId: `id-${i}` })),
  };
}

/** Accepts every record of every call. */
function acceptAll() {
  firehoseMock.on(PutRecordBatchCommand).callsFake(async (input: PutRecordBatchCommandInput) => answer(input.Records?.length ?? 0));
}

function sentRecords(call: number): Uint8Array[] {
  const input = firehoseMock.commandCalls(PutRecordBatchCommand)[call].args[0].input;
  return (input.Records ?? []).map((r) => r.Data as Uint8Array);
}

function allSent(): Uint8Array[] {
  return firehoseMock.commandCalls(PutRecordBatchCommand).flatMap((_, call) => sentRecords(call));
}

const unavailable = () => new ServiceUnavailableException({ message: 'Slow down.', $metadata: { httpStatusCode: 503 } });

describe('FirehoseDeliveryStream.put', () => {
  it('delivers every record in one call when Firehose accepts them all', async () => {
    acceptAll();
    const { stream: s, sleep } = stream();
    const input = [text('a'), text('b'), text('c')];

    const report = await s.put(input);

    expect(report).toEqual({ delivered: [0, 1, 2], failed: [], calls: 1, attempts: 1 });
    expect(firehoseMock).toHaveReceivedCommandTimes(PutRecordBatchCommand, 1);
    expect(firehoseMock).toHaveReceivedCommandWith(PutRecordBatchCommand, { DeliveryStreamName: STREAM, Records: input.map((Data) => ({ Data })) });
    expect(sleep).not.toHaveBeenCalled();
  });

  it('makes no call for no records', async () => {
    const { stream: s } = stream();
    expect(await s.put([])).toEqual({ delivered: [], failed: [], calls: 0, attempts: 0 });
    expect(firehoseMock).not.toHaveReceivedCommand(PutRecordBatchCommand);
  });

  it('resends only the records answered with an ErrorCode, and they are delivered on the retry', async () => {
    firehoseMock.on(PutRecordBatchCommand).resolvesOnce(answer(5, [1, 3])).resolvesOnce(answer(2));
    const { stream: s, sleep } = stream();
    const input = records(5);

    const report = await s.put(input);

    expect(report).toEqual({ delivered: [0, 1, 2, 3, 4], failed: [], calls: 2, attempts: 2 });
    expect(sentRecords(1)).toEqual([input[1], input[3]]);
    expect(sentRecords(1)[0]).toBe(input[1]);
    expect(sleep).toHaveBeenCalledTimes(1);
  });

  it('keeps the original indexes across several partial failures', async () => {
    // call 1: 6 records, positions 0, 2, 5 fail → resend [0, 2, 5]; call 2: position 1 (index 2) fails; call 3: ok.
    firehoseMock.on(PutRecordBatchCommand).resolvesOnce(answer(6, [0, 2, 5])).resolvesOnce(answer(3, [1])).resolvesOnce(answer(1));
    const { stream: s } = stream();
    const input = records(6);

    const report = await s.put(input);

    expect(report.delivered).toEqual([0, 1, 2, 3, 4, 5]);
    expect(sentRecords(1)).toEqual([input[0], input[2], input[5]]);
    expect(sentRecords(2)).toEqual([input[2]]);
    expect(report).toMatchObject({ calls: 3, attempts: 3 });
  });

  it('reports a record failed, with the last ErrorCode, when it is still refused after maxAttempts', async () => {
    firehoseMock.on(PutRecordBatchCommand).callsFake(async (input: PutRecordBatchCommandInput) => {
      const sent = (input.Records ?? []).map((r) => r.Data as Uint8Array);
      // The record of index 2 (written into its first bytes by records()) is always refused.
      return answer(sent.length, sent.flatMap((data, i) => (new DataView(data.buffer).getUint32(0) === 2 ? [i] : [])));
    });
    const { stream: s, sleep } = stream({ maxAttempts: 3 });

    const report = await s.put(records(4));

    expect(report.delivered).toEqual([0, 1, 3]);
    expect(report.failed).toEqual([{ index: 2, errorCode: 'ServiceUnavailableException', errorMessage: 'Slow down.' }]);
    expect(report).toMatchObject({ calls: 3, attempts: 3 });
    expect(sleep).toHaveBeenCalledTimes(2);
  });

  it('retries a throttled whole call and delivers on the next attempt', async () => {
    firehoseMock.on(PutRecordBatchCommand).rejectsOnce(unavailable()).resolvesOnce(answer(3));
    const { stream: s, sleep } = stream();

    const report = await s.put(records(3));

    expect(report).toEqual({ delivered: [0, 1, 2], failed: [], calls: 2, attempts: 2 });
    expect(sleep).toHaveBeenCalledTimes(1);
  });

  it('fails the records with the error name when a retryable call error persists', async () => {
    firehoseMock.on(PutRecordBatchCommand).rejects(unavailable());
    const { stream: s } = stream({ maxAttempts: 4 });

    const report = await s.put(records(2));

    expect(report.delivered).toEqual([]);
    expect(report.failed).toEqual([0, 1].map((index) => ({ index, errorCode: 'ServiceUnavailableException', errorMessage: 'Slow down.' })));
    expect(report).toMatchObject({ calls: 4, attempts: 4 });
  });

  it('fails the records at once on a non-retryable call error, and sends the other chunks', async () => {
    firehoseMock
      .on(PutRecordBatchCommand)
      .rejectsOnce(new InvalidArgumentException({ message: 'Records size exceeds 4 MB limit', $metadata: { httpStatusCode: 400 } }))
      .resolves(answer(2));
    const { stream: s, sleep } = stream({ limits: { maxRecordsPerCall: 2 } });

    const report = await s.put(records(4));

    expect(report.failed).toEqual([0, 1].map((index) => ({ index, errorCode: 'InvalidArgumentException', errorMessage: 'Records size exceeds 4 MB limit' })));
    expect(report.delivered).toEqual([2, 3]);
    expect(report).toMatchObject({ calls: 2, attempts: 1 });
    expect(sleep).not.toHaveBeenCalled();
  });

  it('stops at a stream-level refusal: the later chunks are not sent and fail with the same code', async () => {
    firehoseMock.on(PutRecordBatchCommand).rejects(new ResourceNotFoundException({ message: 'Firehose x not found.', $metadata: { httpStatusCode: 400 } }));
    const { stream: s } = stream();

    const report = await s.put(records(1_200));

    expect(report.delivered).toEqual([]);
    expect(report.failed).toHaveLength(1_200);
    expect(new Set(report.failed.map((f) => f.errorCode))).toEqual(new Set(['ResourceNotFoundException']));
    expect(report.failed[0].errorMessage).toBe('Firehose x not found.');
    expect(report.failed[700].errorMessage).toMatch(/^Not sent: an earlier call failed with ResourceNotFoundException/);
    expect(report).toMatchObject({ calls: 1, attempts: 1 });
  });

  it('never throws for an unexpected error from the client: the records fail with its name', async () => {
    firehoseMock.on(PutRecordBatchCommand).rejects(new TypeError('boom'));
    const { stream: s } = stream();

    const report = await s.put(records(2));

    expect(report.failed.map((f) => f.errorCode)).toEqual(['TypeError', 'TypeError']);
    expect(report.calls).toBe(1);
  });

  it('cuts 1,200 records into 3 calls of 500, 500 and 200, in order', async () => {
    acceptAll();
    const { stream: s } = stream();
    const input = records(1_200);

    const report = await s.put(input);

    expect(report.calls).toBe(3);
    expect(report.delivered).toHaveLength(1_200);
    expect([0, 1, 2].map((call) => sentRecords(call).length)).toEqual([500, 500, 200]);
    expect(allSent()).toEqual(input);
  });

  it('cuts by bytes: 5 records of 900 KiB make 2 calls (4 MiB per call)', async () => {
    acceptAll();
    const { stream: s } = stream();

    const report = await s.put(records(5, 900 * KIB));

    expect(report).toMatchObject({ delivered: [0, 1, 2, 3, 4], calls: 2 });
    expect([0, 1].map((call) => sentRecords(call).length)).toEqual([4, 1]);
    for (const call of [0, 1]) expect(sentRecords(call).reduce((sum, r) => sum + r.byteLength, 0)).toBeLessThanOrEqual(4 * 1024 * KIB);
  });

  it('never sends a record over 1,000 KiB: it is reported RecordTooLarge, the others go through', async () => {
    acceptAll();
    const { stream: s } = stream();
    const input = [text('small'), new Uint8Array(PUT_RECORD_BATCH_LIMITS.maxRecordBytes + 1), new Uint8Array(PUT_RECORD_BATCH_LIMITS.maxRecordBytes)];

    const report = await s.put(input);

    expect(report.delivered).toEqual([0, 2]);
    expect(report.failed).toEqual([{ index: 1, errorCode: RECORD_TOO_LARGE, errorMessage: expect.stringContaining('1024001 bytes') }]);
    expect(report.calls).toBe(1);
    expect(allSent()).toEqual([input[0], input[2]]);
  });

  it('reports only oversized records without making any call when nothing else is left', async () => {
    const { stream: s } = stream();
    const report = await s.put([new Uint8Array(2_000_000)]);
    expect(report).toEqual({ delivered: [], failed: [expect.objectContaining({ index: 0, errorCode: RECORD_TOO_LARGE })], calls: 0, attempts: 0 });
    expect(firehoseMock).not.toHaveReceivedCommand(PutRecordBatchCommand);
  });

  it('waits with full jitter: each wait within its cap, the caps doubling up to the maximum', async () => {
    firehoseMock.on(PutRecordBatchCommand).rejects(unavailable());
    const nearlyOne = stream({ maxAttempts: 7, random: () => 0.999999, backoff: { baseDelayMs: 100, maxDelayMs: 1_000 } });
    await nearlyOne.stream.put(records(1));
    const waits = nearlyOne.sleep.mock.calls.map(([ms]) => ms);
    const caps = [100, 200, 400, 800, 1_000, 1_000];
    expect(waits).toHaveLength(6);
    waits.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThanOrEqual(caps[i]);
      expect(ms).toBeGreaterThanOrEqual(caps[i] * 0.99);
    });

    const zero = stream({ maxAttempts: 4, random: () => 0 });
    await zero.stream.put(records(1));
    expect(zero.sleep.mock.calls.map(([ms]) => ms)).toEqual([0, 0, 0]);

    const half = stream({ maxAttempts: 5, random: () => 0.5 });
    await half.stream.put(records(1));
    expect(half.sleep.mock.calls.map(([ms]) => ms)).toEqual([50, 100, 200, 400]); // default base 100 ms
  });

  it('treats a response without one entry per record as failed for all of them (and retries them)', async () => {
    firehoseMock.on(PutRecordBatchCommand).resolvesOnce(answer(2)).resolvesOnce(answer(3));
    const { stream: s } = stream();

    const report = await s.put(records(3));

    expect(report).toMatchObject({ delivered: [0, 1, 2], calls: 2 });
    expect(sentRecords(1)).toHaveLength(3);
  });

  it('never counts an entry without a RecordId as delivered', async () => {
    firehoseMock.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0, RequestResponses: [{ RecordId: 'r0' }, {}] });
    const { stream: s } = stream({ maxAttempts: 1 });

    const report = await s.put(records(2));

    expect(report.delivered).toEqual([0]);
    expect(report.failed).toEqual([{ index: 1, errorCode: 'MissingRecordId', errorMessage: expect.any(String) }]);
  });

  it('refuses options that could only fail', () => {
    expect(() => new FirehoseDeliveryStream(client, { deliveryStreamName: STREAM, maxAttempts: 0 })).toThrow(RangeError);
    expect(() => new FirehoseDeliveryStream(client, { deliveryStreamName: STREAM, limits: { maxRecordsPerCall: 501 } })).toThrow(/above Firehose's limit/);
    expect(() => new FirehoseDeliveryStream(client, { deliveryStreamName: '' })).toThrow(RangeError);
  });
});

describe('classifyCallError', () => {
  const serverError = (name: string, status: number) =>
    new FirehoseServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message: name });

  it.each([
    ['ServiceUnavailableException (503)', unavailable(), 'ServiceUnavailableException'],
    ['InternalFailure (500)', serverError('InternalFailure', 500), 'InternalFailure'],
    ['an unmodelled 502', serverError('BadGateway', 502), 'BadGateway'],
    ['ThrottlingException (400)', serverError('ThrottlingException', 400), 'ThrottlingException'],
    ['HTTP 429', serverError('TooManyRequests', 429), 'TooManyRequests'],
    ['a connection reset', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'ECONNRESET'],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'ECONNREFUSED'],
    ['a TimeoutError', Object.assign(new Error('timed out'), { name: 'TimeoutError' }), 'TimeoutError'],
    ['a $retryable trait', Object.assign(new Error('x'), { name: 'Whatever', $retryable: {} }), 'Whatever'],
    ['a network error as cause', Object.assign(new Error('wrapped'), { name: 'Wrapped', cause: Object.assign(new Error('x'), { code: 'EPIPE' }) }), 'Wrapped'],
  ])('retries %s', (_label, error, code) => {
    expect(classifyCallError(error)).toMatchObject({ code, retryable: true, stopsStream: false });
  });

  it.each([
    ['InvalidArgumentException', new InvalidArgumentException({ message: 'bad', $metadata: { httpStatusCode: 400 } }), false],
    ['ValidationException', serverError('ValidationException', 400), false],
    ['ResourceNotFoundException', new ResourceNotFoundException({ message: 'nope', $metadata: { httpStatusCode: 400 } }), true],
    ['AccessDeniedException', serverError('AccessDeniedException', 400), true],
    ['a missing credential', Object.assign(new Error('Could not load credentials'), { name: 'CredentialsProviderError' }), true],
    ['an AbortError', Object.assign(new Error('aborted'), { name: 'AbortError' }), false],
  ])('does not retry %s', (code, error, stopsStream) => {
    expect(classifyCallError(error)).toMatchObject({ retryable: false, stopsStream });
    if (!code.includes(' ')) expect(classifyCallError(error).code).toBe(code);
  });

  it('describes anything thrown, even a non-error', () => {
    expect(classifyCallError('oops')).toEqual({ code: 'Error', message: 'oops', retryable: false, stopsStream: false });
  });
});

describe('matchResponses', () => {
  it('maps entries to original indexes by position', () => {
    const outcome = matchResponses([7, 3, 9], { RequestResponses: [{ RecordId: 'a' }, { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service failure.' }, { RecordId: 'c' }] });
    expect(outcome).toEqual({ accepted: [7, 9], rejected: [{ index: 3, errorCode: 'InternalFailure', errorMessage: 'Internal service failure.' }] });
  });

  it('counts an entry with an ErrorCode as failed even if it also has a RecordId', () => {
    expect(matchResponses([0], { RequestResponses: [{ RecordId: 'a', ErrorCode: 'ServiceUnavailableException' }] }).accepted).toEqual([]);
  });
});
