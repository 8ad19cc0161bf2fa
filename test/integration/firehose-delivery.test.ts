/**
 * The delivery side end to end on loopback: the real FirehoseClient and FirehoseDeliveryStream
 * against the local Firehose, with injected partial failures, throttling and failing calls. Every
 * event reaches the processor exactly once or is reported failed (and then never reaches it); the
 * adapter's report agrees with what the server saw. Property counts are in the test names (numRuns).
 */
import type { FirehoseClient } from '@aws-sdk/client-firehose';
import fc from 'fast-check';
import { FirehoseDeliveryStream, type FirehoseDeliveryStreamOptions } from '../../adapters/firehose/firehose-delivery-stream';
import { RECORD_TOO_LARGE } from '../../core/ingestion/delivery-stream';
import { startLocalFirehose, type InjectedRecord, type LocalFirehose, type LocalFirehoseOptions } from '../../local/firehose/local-firehose';

const STREAM = 'amazon-apigateway-usage';
const KIB = 1024;

const started: LocalFirehose[] = [];
afterAll(async () => {
  await Promise.all(started.map((f) => f.close()));
});

interface Harness {
  readonly firehose: LocalFirehose;
  readonly client: FirehoseClient;
  /** How many times the processor received each event id. */
  readonly received: Map<string, number>;
  stream(options?: Partial<FirehoseDeliveryStreamOptions>): FirehoseDeliveryStream;
}

async function setup(options: Partial<LocalFirehoseOptions> = {}): Promise<Harness> {
  const received = new Map<string, number>();
  const firehose = await startLocalFirehose({
    processor: async (records) => {
      for (const record of records) {
        const id = eventId(record.data);
        received.set(id, (received.get(id) ?? 0) + 1);
      }
    },
    deliveryStreams: [STREAM],
    bufferRecords: 200,
    ...options,
  });
  started.push(firehose);
  const client = firehose.client();
  return {
    firehose,
    client,
    received,
    stream: (streamOptions = {}) =>
      new FirehoseDeliveryStream(client, { deliveryStreamName: STREAM, backoff: { baseDelayMs: 1, maxDelayMs: 4 }, ...streamOptions }),
  };
}

/** A usage event as one JSON line; `pad` makes it bigger. */
function usageEvent(n: number, pad = 0): Uint8Array {
  const event = { event_id: `evt-${String(n).padStart(6, '0')}`, tenant_id: `tenant-${n % 7}`, dimension: 'api_calls', quantity: 1, timestamp: 1_795_000_000_000 + n, pad: 'x'.repeat(pad) };
  return new TextEncoder().encode(`${JSON.stringify(event)}\n`);
}

function eventId(data: Uint8Array): string {
  return (JSON.parse(new TextDecoder().decode(data)) as { event_id: string }).event_id;
}

/** Counts how many times each event reached the fault check (i.e. was sent and not refused whole). */
function sightings() {
  const seen = new Map<string, number>();
  return {
    seen,
    /** Records the sighting; returns how many times the event was seen before this one. */
    see(record: InjectedRecord): number {
      const id = eventId(record.data);
      const before = seen.get(id) ?? 0;
      seen.set(id, before + 1);
      return before;
    },
  };
}

describe('FirehoseDeliveryStream → local Firehose', () => {
  it('delivers 1,200 events exactly once through throttled calls and records failing up to twice each', async () => {
    const { firehose, received, stream } = await setup();
    const events = Array.from({ length: 1_200 }, (_, n) => usageEvent(n));
    const sighted = sightings();
    // Event n fails on its first (n % 3) attempts that reach processing; the first two calls are throttled.
    firehose.faults.set({ throttleNext: 2, failRecords: (record) => sighted.see(record) < Number(eventId(record.data).slice(4)) % 3 });

    const report = await stream().put(events);
    await firehose.flush();

    expect(report.failed).toEqual([]);
    expect(report.delivered).toEqual(events.map((_, i) => i));
    expect(received.size).toBe(1_200);
    expect([...received.values()].every((count) => count === 1)).toBe(true);
    const injectedRecordFailures = events.reduce((sum, _, n) => sum + (n % 3), 0);
    expect(firehose.stats()).toMatchObject({
      calls: report.calls,
      callsFailed: 2,
      recordsAccepted: 1_200,
      recordsFailed: injectedRecordFailures,
      recordsDelivered: 1_200,
      recordsBuffered: 0,
    });
    expect(report.attempts).toBe(5); // the first chunk: 2 throttled calls, 2 partial failures, then the rest
    expect(firehose.callLog().every((call) => (call.recordCount ?? 0) <= 500)).toBe(true);
  });

  it('reports the events still refused after maxAttempts as failed, and never delivers them', async () => {
    const { firehose, received, stream } = await setup();
    const events = Array.from({ length: 300 }, (_, n) => usageEvent(n));
    const poison = new Set(['evt-000007', 'evt-000150', 'evt-000299']);
    const sighted = sightings();
    firehose.faults.set({ failRecords: (record) => sighted.see(record) >= 0 && poison.has(eventId(record.data)) });

    const report = await stream({ maxAttempts: 3 }).put(events);
    await firehose.flush();

    expect(report.failed).toEqual([7, 150, 299].map((index) => ({ index, errorCode: 'ServiceUnavailableException', errorMessage: 'Slow down.' })));
    expect(report.delivered).toHaveLength(297);
    for (const id of poison) {
      expect(received.has(id)).toBe(false);
      expect(sighted.seen.get(id)).toBe(3);
    }
    expect(received.size).toBe(297);
    expect([...received.values()].every((count) => count === 1)).toBe(true);
    expect(report).toMatchObject({ calls: 3, attempts: 3 });
  });

  it('retries calls failing with InternalFailure (HTTP 500) and delivers', async () => {
    const { firehose, received, stream } = await setup({ faults: { failNext: 2 } });

    const report = await stream().put([usageEvent(1), usageEvent(2)]);
    await firehose.flush();

    expect(report).toEqual({ delivered: [0, 1], failed: [], calls: 3, attempts: 3 });
    expect([...received.keys()]).toEqual(['evt-000001', 'evt-000002']);
  });

  it('fails every event at once, without retrying, when the stream does not exist', async () => {
    const { firehose, received, stream } = await setup();

    const report = await stream({ deliveryStreamName: 'no-such-stream' }).put(Array.from({ length: 700 }, (_, n) => usageEvent(n)));
    await firehose.flush();

    expect(report.delivered).toEqual([]);
    expect(report.failed).toHaveLength(700);
    expect(report.failed.every((f) => f.errorCode === 'ResourceNotFoundException')).toBe(true);
    expect(report.calls).toBe(1);
    expect(firehose.stats()).toMatchObject({ calls: 1, recordsAccepted: 0 });
    expect(received.size).toBe(0);
  });

  it('cuts by bytes within the real limits (5 events of 900 KiB → 2 calls) and never sends an oversized event', async () => {
    const { firehose, received, stream } = await setup({ bufferBytes: 3 * 1024 * KIB });
    const events = [...Array.from({ length: 5 }, (_, n) => usageEvent(n, 900 * KIB - 200)), usageEvent(5, 1_024_000)];

    const report = await stream().put(events);
    await firehose.flush();

    expect(report.delivered).toEqual([0, 1, 2, 3, 4]);
    expect(report.failed).toEqual([{ index: 5, errorCode: RECORD_TOO_LARGE, errorMessage: expect.stringContaining('at most 1024000 bytes') }]);
    expect(firehose.callLog().map((call) => [call.outcome, call.recordCount])).toEqual([['Success', 4], ['Success', 1]]);
    expect([...received.keys()].sort()).toEqual(['evt-000000', 'evt-000001', 'evt-000002', 'evt-000003', 'evt-000004']);
  });

  it("stays exactly once with the SDK's own retries stacked under the adapter's", async () => {
    const { firehose, received } = await setup();
    const sighted = sightings();
    firehose.faults.set({ throttleNext: 4, failRecords: (record) => sighted.see(record) === 0 && Number(eventId(record.data).slice(4)) % 2 === 0 });
    const stream = new FirehoseDeliveryStream(firehose.client({ maxAttempts: 3 }), { deliveryStreamName: STREAM, backoff: { baseDelayMs: 1, maxDelayMs: 4 } });
    const events = Array.from({ length: 40 }, (_, n) => usageEvent(n));

    const report = await stream.put(events);
    await firehose.flush();

    expect(report.failed).toEqual([]);
    expect(received.size).toBe(40);
    expect([...received.values()].every((count) => count === 1)).toBe(true);
    // 4 throttled HTTP calls absorbed by the SDK (3 per client.send) and the adapter.
    expect(firehose.stats().calls).toBeGreaterThan(report.calls);
  });

  it('under random record and call failures, every event ends delivered once or failed and undelivered (numRuns 25)', async () => {
    const { firehose, received, stream } = await setup();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 4 }),
        fc.double({ min: 0, max: 0.8, noNaN: true }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        async (count, maxAttempts, failRate, throttleNext, failNext, seed) => {
          run += 1;
          const random = mulberry32(seed);
          const events = Array.from({ length: count }, (_, n) => usageEvent(run * 1_000 + n));
          firehose.faults.set({ throttleNext, failNext, failRecords: () => random() < failRate });
          received.clear();

          const report = await stream({ maxAttempts, limits: { maxRecordsPerCall: 7 } }).put(events);
          await firehose.flush();

          const failed = new Set(report.failed.map((f) => f.index));
          expect(report.delivered.length + failed.size).toBe(count);
          events.forEach((event, index) => {
            expect(received.get(eventId(event)) ?? 0).toBe(failed.has(index) ? 0 : 1);
          });
        },
      ),
      { numRuns: 25 },
    );
  });
});

/** A small seeded PRNG, so a failing run can be replayed from its seed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
