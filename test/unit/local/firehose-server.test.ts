/**
 * The local Firehose driven through the real AWS SDK client (loopback HTTP): the JSON 1.1 protocol,
 * the documented limits, fault injection, buffering and the processor, counters.
 */
import {
  FirehoseServiceException,
  InvalidArgumentException,
  PutRecordBatchCommand,
  PutRecordCommand,
  ResourceNotFoundException,
  ServiceUnavailableException,
  type FirehoseClient,
  type PutRecordBatchCommandOutput,
} from '@aws-sdk/client-firehose';
import { startLocalFirehose, toTransformationEvent, type LocalFirehose, type LocalFirehoseOptions, type LocalFirehoseRecord } from '../../../local/firehose/local-firehose';

const STREAM = 'usage-stream';
const KIB = 1024;
const T0 = Date.UTC(2026, 10, 23, 14, 20);

const started: LocalFirehose[] = [];
afterAll(async () => {
  await Promise.all(started.map((f) => f.close()));
});

interface Harness {
  readonly firehose: LocalFirehose;
  readonly client: FirehoseClient;
  readonly batches: LocalFirehoseRecord[][];
}

async function setup(options: Partial<LocalFirehoseOptions> = {}): Promise<Harness> {
  const batches: LocalFirehoseRecord[][] = [];
  const firehose = await startLocalFirehose({
    processor: async (records) => {
      batches.push(records);
    },
    deliveryStreams: [STREAM],
    now: () => T0,
    ...options,
  });
  started.push(firehose);
  return { firehose, client: firehose.client(), batches };
}

const text = (value: string) => new TextEncoder().encode(value);
const decode = (data: Uint8Array) => new TextDecoder().decode(data);

function putBatch(client: FirehoseClient, data: readonly Uint8Array[], stream = STREAM): Promise<PutRecordBatchCommandOutput> {
  return client.send(new PutRecordBatchCommand({ DeliveryStreamName: stream, Records: data.map((Data) => ({ Data })) }));
}

/** The error a call fails with (the test fails if it succeeds). */
async function failure(call: Promise<unknown>): Promise<FirehoseServiceException> {
  try {
    await call;
  } catch (error) {
    expect(error).toBeInstanceOf(FirehoseServiceException);
    return error as FirehoseServiceException;
  }
  throw new Error('the call succeeded');
}

describe('PutRecordBatch', () => {
  it('accepts records, answers one RecordId per record in order, and hands them to the processor on flush', async () => {
    const { firehose, client, batches } = await setup();

    const output = await putBatch(client, [text('a'), text('b'), text('c')]);

    expect(output.FailedPutCount).toBe(0);
    expect(output.Encrypted).toBe(false);
    const ids = (output.RequestResponses ?? []).map((r) => r.RecordId);
    expect(new Set(ids).size).toBe(3);
    expect(batches).toEqual([]);
    await firehose.flush();
    expect(batches).toHaveLength(1);
    expect(batches[0].map((r) => [r.recordId, decode(r.data), r.approximateArrivalTimestamp])).toEqual([
      [ids[0], 'a', T0],
      [ids[1], 'b', T0],
      [ids[2], 'c', T0],
    ]);
    expect(firehose.stats()).toMatchObject({ calls: 1, putRecordBatchCalls: 1, recordsAccepted: 3, recordsDelivered: 3, batchesDelivered: 1, recordsBuffered: 0 });
  });

  it('refuses more than 500 records, or none, with ValidationException (HTTP 400)', async () => {
    const { firehose, client } = await setup();

    const tooMany = await failure(putBatch(client, Array.from({ length: 501 }, () => text('x'))));
    expect(tooMany).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    expect(tooMany.message).toContain('Member must have length less than or equal to 500');
    expect((await failure(putBatch(client, []))).name).toBe('ValidationException');
    expect((await putBatch(client, Array.from({ length: 500 }, () => text('x')))).FailedPutCount).toBe(0);
    expect(firehose.stats()).toMatchObject({ recordsAccepted: 500, callsFailed: 2 });
  });

  it('refuses a call with a record over 1,024,000 bytes (ValidationException), takes one of exactly that size', async () => {
    const { client } = await setup();

    const error = await failure(putBatch(client, [text('ok'), new Uint8Array(1_024_001)]));
    expect(error.name).toBe('ValidationException');
    expect(error.message).toContain("at 'records.2.member.data' failed to satisfy constraint: Member must have length less than or equal to 1024000");
    expect((await putBatch(client, [new Uint8Array(1_024_000)])).FailedPutCount).toBe(0);
  });

  it('refuses more than 4 MiB of data in a call (InvalidArgumentException), takes exactly 4 MiB', async () => {
    const { client } = await setup();

    const error = await failure(putBatch(client, Array.from({ length: 5 }, () => new Uint8Array(900 * KIB))));
    expect(error).toBeInstanceOf(InvalidArgumentException);
    expect(error.message).toBe('Records size exceeds 4 MB limit');
    const exact = [...Array.from({ length: 4 }, () => new Uint8Array(1_024_000)), new Uint8Array(4 * 1024 * KIB - 4 * 1_024_000)];
    expect((await putBatch(client, exact)).FailedPutCount).toBe(0);
  });

  it('answers ResourceNotFoundException for a stream that does not exist', async () => {
    const { client } = await setup();
    const error = await failure(putBatch(client, [text('a')], 'other-stream'));
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error.message).toBe('Firehose other-stream under account 000000000000 not found.');
  });

  it('accepts any stream name when no streams are declared, but not an invalid one', async () => {
    const { client } = await setup({ deliveryStreams: undefined });
    expect((await putBatch(client, [text('a')], 'whatever')).FailedPutCount).toBe(0);
    expect((await failure(putBatch(client, [text('a')], 'bad name!'))).name).toBe('ValidationException');
  });
});

describe('PutRecord', () => {
  it('accepts one record with a RecordId', async () => {
    const { firehose, client, batches } = await setup();
    const output = await client.send(new PutRecordCommand({ DeliveryStreamName: STREAM, Record: { Data: text('single') } }));
    expect(output.RecordId).toEqual(expect.any(String));
    await firehose.flush();
    expect(batches.flat().map((r) => [r.recordId, decode(r.data)])).toEqual([[output.RecordId, 'single']]);
    expect(firehose.stats()).toMatchObject({ putRecordCalls: 1, recordsAccepted: 1 });
  });

  it('fails the call when its record is picked by a record fault', async () => {
    const { firehose, client } = await setup({ faults: { failRecords: 1 } });
    const error = await failure(client.send(new PutRecordCommand({ DeliveryStreamName: STREAM, Record: { Data: text('x') } })));
    expect(error).toBeInstanceOf(ServiceUnavailableException);
    expect(firehose.stats()).toMatchObject({ recordsFailed: 1, recordsAccepted: 0 });
  });
});

describe('fault injection', () => {
  it('fails the next N records across calls with ServiceUnavailableException entries, not accepted', async () => {
    const { firehose, client, batches } = await setup();
    firehose.faults.set({ failRecords: 3 });

    const first = await putBatch(client, [text('a'), text('b')]);
    const second = await putBatch(client, [text('c'), text('d')]);

    expect(first.FailedPutCount).toBe(2);
    expect(first.RequestResponses).toEqual([{ ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' }, { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' }]);
    expect(second.FailedPutCount).toBe(1);
    expect(second.RequestResponses?.[0].ErrorCode).toBe('ServiceUnavailableException');
    expect(second.RequestResponses?.[1].RecordId).toEqual(expect.any(String));
    expect(firehose.faults.pending().failRecords).toBe(0);
    await firehose.flush();
    expect(batches.flat().map((r) => decode(r.data))).toEqual(['d']);
    expect(firehose.stats()).toMatchObject({ recordsFailed: 3, recordsAccepted: 1 });
    expect(firehose.callLog().map((c) => c.failedPutCount)).toEqual([2, 1]);
  });

  it('fails records picked by a predicate, with the chosen error code', async () => {
    const { firehose, client } = await setup();
    firehose.faults.set({ failRecords: (record) => decode(record.data).startsWith('bad'), recordErrorCode: 'InternalFailure' });

    const output = await putBatch(client, [text('good-1'), text('bad-1'), text('good-2')]);

    expect(output.FailedPutCount).toBe(1);
    expect(output.RequestResponses?.map((r) => r.ErrorCode)).toEqual([undefined, 'InternalFailure', undefined]);
    expect(output.RequestResponses?.[1].ErrorMessage).toBe('Internal service failure.');
  });

  it('fails the first N records of every call while failRecordsPerCall is set', async () => {
    const { firehose, client } = await setup({ faults: { failRecordsPerCall: 2 } });
    expect((await putBatch(client, [text('a'), text('b'), text('c')])).FailedPutCount).toBe(2);
    expect((await putBatch(client, [text('d')])).FailedPutCount).toBe(1);
    firehose.faults.clear();
    expect((await putBatch(client, [text('e')])).FailedPutCount).toBe(0);
  });

  it('throttles the next N calls whole with ServiceUnavailableException (HTTP 503), accepting nothing', async () => {
    const { firehose, client } = await setup({ faults: { throttleNext: 2 } });

    for (let i = 0; i < 2; i += 1) {
      const error = await failure(putBatch(client, [text('a')]));
      expect(error).toBeInstanceOf(ServiceUnavailableException);
      expect(error).toMatchObject({ $fault: 'server', message: 'Slow down.', $metadata: { httpStatusCode: 503 } });
    }
    expect((await putBatch(client, [text('a')])).FailedPutCount).toBe(0);
    expect(firehose.stats()).toMatchObject({ calls: 3, callsFailed: 2, recordsAccepted: 1 });
  });

  it('fails the next N calls with the chosen error (InternalFailure, HTTP 500, by default)', async () => {
    const { firehose, client } = await setup({ faults: { failNext: 1 } });
    expect(await failure(putBatch(client, [text('a')]))).toMatchObject({ name: 'InternalFailure', $metadata: { httpStatusCode: 500 } });
    firehose.faults.set({ failNext: 1, failWith: 'AccessDeniedException' });
    expect(await failure(putBatch(client, [text('a')]))).toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    expect(firehose.faults.pending()).toEqual({ failRecords: 0, throttleNext: 0, failNext: 0 });
    expect(firehose.callLog().map((c) => c.outcome)).toEqual(['InternalFailure', 'AccessDeniedException']);
  });

  it("is absorbed by the SDK's own retries when the client keeps them", async () => {
    const { firehose } = await setup({ faults: { throttleNext: 1 } });
    const client = firehose.client({ maxAttempts: 3 });
    const output = await putBatch(client, [text('a')]);
    expect(output.$metadata.attempts).toBe(2);
    expect(firehose.stats()).toMatchObject({ calls: 2, callsFailed: 1, recordsAccepted: 1 });
  });
});

describe('buffering and the processor', () => {
  it('hands batches of bufferRecords records as they fill, the rest on flush, in order', async () => {
    const { firehose, client, batches } = await setup({ bufferRecords: 3 });

    await putBatch(client, ['1', '2', '3', '4', '5', '6', '7'].map(text));
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches.map((b) => b.length)).toEqual([3, 3]);
    await firehose.flush();

    expect(batches.map((b) => b.map((r) => decode(r.data)))).toEqual([['1', '2', '3'], ['4', '5', '6'], ['7']]);
    expect(firehose.stats()).toMatchObject({ batchesDelivered: 3, recordsDelivered: 7, recordsBuffered: 0 });
  });

  it('never lets a batch pass bufferBytes (unless one record is larger)', async () => {
    const { firehose, client, batches } = await setup({ bufferBytes: 100 });
    await putBatch(client, [new Uint8Array(60), new Uint8Array(30), new Uint8Array(20), new Uint8Array(150), new Uint8Array(10)]);
    await firehose.flush();
    expect(batches.map((b) => b.map((r) => r.data.byteLength))).toEqual([[60, 30], [20], [150], [10]]);
  });

  it('keeps a batch the processor rejected and hands it again on the next flush', async () => {
    let fail = true;
    const seen: string[][] = [];
    const { firehose, client } = await setup({
      processor: async (records) => {
        seen.push(records.map((r) => decode(r.data)));
        if (fail) throw new Error('lake unavailable');
      },
    });
    await putBatch(client, [text('a'), text('b')]);

    await expect(firehose.flush()).rejects.toThrow('lake unavailable');
    expect(firehose.stats()).toMatchObject({ processorFailures: 1, recordsBuffered: 2, recordsDelivered: 0 });
    fail = false;
    await firehose.flush();

    expect(seen).toEqual([['a', 'b'], ['a', 'b']]);
    expect(firehose.stats()).toMatchObject({ processorFailures: 1, recordsBuffered: 0, recordsDelivered: 2 });
  });

  it('turns a batch into the event the Lambda transform receives (data in base64)', async () => {
    const { firehose, client, batches } = await setup();
    await putBatch(client, [text('{"a":1}\n'), new Uint8Array([0, 255, 7])]);
    await firehose.flush();

    const event = toTransformationEvent(batches[0], { deliveryStreamArn: 'arn:aws:firehose:eu-west-1:111122223333:deliverystream/usage', region: 'eu-west-1' });

    expect(event).toEqual({
      invocationId: expect.any(String),
      deliveryStreamArn: 'arn:aws:firehose:eu-west-1:111122223333:deliverystream/usage',
      region: 'eu-west-1',
      records: [
        { recordId: batches[0][0].recordId, approximateArrivalTimestamp: T0, data: Buffer.from('{"a":1}\n').toString('base64') },
        { recordId: batches[0][1].recordId, approximateArrivalTimestamp: T0, data: 'AP8H' },
      ],
    });
  });

  it('delivers on a timer when bufferIntervalMs is set', async () => {
    const { client, batches } = await setup({ bufferIntervalMs: 10 });
    await putBatch(client, [text('tick')]);
    for (let i = 0; i < 100 && batches.length === 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(batches.flat().map((r) => decode(r.data))).toEqual(['tick']);
  });
});

describe('protocol and server', () => {
  it('answers requests that are not Firehose JSON 1.1 calls the way AWS does', async () => {
    const { firehose } = await setup();
    const post = (headers: Record<string, string>, body = '{}') => fetch(firehose.endpoint, { method: 'POST', headers, body });
    const auth = 'AWS4-HMAC-SHA256 Credential=local/20261123/us-east-1/firehose/aws4_request, SignedHeaders=host, Signature=00';
    const json = 'application/x-amz-json-1.1';

    const unknown = await post({ 'x-amz-target': 'Firehose_20150804.Nope', 'content-type': json, authorization: auth });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { __type: string }).__type).toBe('com.amazon.coral.service#UnknownOperationException');
    const notSimulated = await post({ 'x-amz-target': 'Firehose_20150804.CreateDeliveryStream', 'content-type': json, authorization: auth });
    expect(((await notSimulated.json()) as { message: string }).message).toBe('CreateDeliveryStream is not simulated');
    const unsigned = await post({ 'x-amz-target': 'Firehose_20150804.PutRecordBatch', 'content-type': json });
    expect(unsigned.status).toBe(403);
    const wrongService = await post({ 'x-amz-target': 'Firehose_20150804.PutRecordBatch', 'content-type': json, authorization: auth.replace('/firehose/', '/kinesis/') });
    expect(((await wrongService.json()) as { __type: string }).__type).toBe('InvalidSignatureException');
    const notJson = await post({ 'x-amz-target': 'Firehose_20150804.PutRecordBatch', 'content-type': json, authorization: auth }, '{nope');
    expect(((await notJson.json()) as { __type: string }).__type).toBe('com.amazon.coral.service#SerializationException');
    const notBase64 = await post({ 'x-amz-target': 'Firehose_20150804.PutRecordBatch', 'content-type': json, authorization: auth }, JSON.stringify({ DeliveryStreamName: STREAM, Records: [{ Data: '***' }] }));
    expect(((await notBase64.json()) as { __type: string }).__type).toBe('com.amazon.coral.service#SerializationException');
    expect(firehose.stats().recordsAccepted).toBe(0);
  });

  it('listens on a free port by default and says clearly when an explicit port is busy', async () => {
    const { firehose } = await setup();
    const port = Number(new URL(firehose.endpoint).port);
    expect(port).toBeGreaterThan(0);

    const busy = startLocalFirehose({ processor: async () => {}, port });
    await expect(busy).rejects.toThrow(`Local Firehose: port ${port} on 127.0.0.1 is already in use`);
    await expect(busy).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
