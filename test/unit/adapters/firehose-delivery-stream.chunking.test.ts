/**
 * The pure rules of core/ingestion/delivery-stream.ts: PutRecordBatch limits, chunking, backoff.
 * Property counts are given per property (numRuns) and in the test names.
 */
import fc from 'fast-check';
import {
  DEFAULT_BACKOFF,
  PUT_RECORD_BATCH_LIMITS,
  RECORD_TOO_LARGE,
  backoffCapMs,
  fullJitterDelayMs,
  planChunks,
  recordTooLarge,
  resolveLimits,
  type PutRecordBatchLimits,
} from '../../../core/ingestion/delivery-stream';

const KIB = 1024;
const MIB = 1024 * KIB;

describe('PUT_RECORD_BATCH_LIMITS', () => {
  it('are the documented ones: 500 records, 4 MiB per call, 1,000 KiB per record', () => {
    expect(PUT_RECORD_BATCH_LIMITS).toEqual({ maxRecordsPerCall: 500, maxBytesPerCall: 4_194_304, maxRecordBytes: 1_024_000 });
  });
});

describe('planChunks', () => {
  const lengths = (sizes: number[]) => planChunks(sizes).chunks.map((chunk) => chunk.length);

  it('makes no chunk for no records', () => {
    expect(planChunks([])).toEqual({ chunks: [], oversized: [] });
  });

  it('cuts by count: 1,200 records → 500, 500, 200', () => {
    expect(lengths(Array(1_200).fill(100))).toEqual([500, 500, 200]);
    expect(lengths(Array(500).fill(0))).toEqual([500]);
    expect(lengths(Array(501).fill(0))).toEqual([500, 1]);
  });

  it('cuts by bytes: 5 records of 900 KiB → 4 + 1', () => {
    expect(lengths(Array(5).fill(900 * KIB))).toEqual([4, 1]);
  });

  it('fills a call up to exactly 4 MiB, not one byte more', () => {
    const exact = [1_024_000, 1_024_000, 1_024_000, 1_024_000, 4 * MIB - 4 * 1_024_000];
    expect(lengths(exact)).toEqual([5]);
    expect(lengths([...exact.slice(0, 4), exact[4] + 1])).toEqual([4, 1]);
  });

  it('leaves records over 1,000 KiB out, keeps one of exactly 1,000 KiB', () => {
    const plan = planChunks([10, 1_024_001, 1_024_000, 5 * MIB, 20]);
    expect(plan.oversized).toEqual([1, 3]);
    expect(plan.chunks).toEqual([[0, 2, 4]]);
  });

  it('refuses sizes that are not byte counts', () => {
    expect(() => planChunks([1, -1])).toThrow(RangeError);
    expect(() => planChunks([Number.NaN])).toThrow(RangeError);
  });

  const limitsArb = fc
    .record({ maxRecordsPerCall: fc.integer({ min: 1, max: 12 }), maxBytesPerCall: fc.integer({ min: 1, max: 200 }), maxRecordBytes: fc.integer({ min: 1, max: 200 }) })
    .filter((l) => l.maxRecordBytes <= l.maxBytesPerCall);

  it('partitions the records that fit, in order, into greedy chunks within every limit (numRuns 1000)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 250 }), { maxLength: 80 }), limitsArb, (sizes, limits: PutRecordBatchLimits) => {
        const { chunks, oversized } = planChunks(sizes, limits);
        // Every index exactly once, in order; oversized exactly those over the per-record limit.
        const flat = chunks.flat();
        expect([...flat, ...oversized].sort((a, b) => a - b)).toEqual(sizes.map((_, i) => i));
        expect(flat).toEqual([...flat].sort((a, b) => a - b));
        expect(oversized).toEqual(sizes.flatMap((size, i) => (size > limits.maxRecordBytes ? [i] : [])));
        chunks.forEach((chunk, c) => {
          const bytes = chunk.reduce((sum, i) => sum + sizes[i], 0);
          expect(chunk.length).toBeGreaterThan(0);
          expect(chunk.length).toBeLessThanOrEqual(limits.maxRecordsPerCall);
          expect(bytes).toBeLessThanOrEqual(limits.maxBytesPerCall);
          // Greedy: the next chunk's first record would not have fitted in this one.
          const next = chunks[c + 1]?.[0];
          if (next !== undefined) expect(chunk.length === limits.maxRecordsPerCall || bytes + sizes[next] > limits.maxBytesPerCall).toBe(true);
        });
      }),
      { numRuns: 1000 },
    );
  });
});

describe('resolveLimits', () => {
  it("defaults to Firehose's limits and accepts lower ones", () => {
    expect(resolveLimits()).toEqual(PUT_RECORD_BATCH_LIMITS);
    expect(resolveLimits({ maxRecordsPerCall: 100, maxBytesPerCall: undefined })).toEqual({ ...PUT_RECORD_BATCH_LIMITS, maxRecordsPerCall: 100 });
  });

  it('refuses limits above Firehose’s or not positive integers', () => {
    expect(() => resolveLimits({ maxRecordsPerCall: 501 })).toThrow(/above Firehose's limit of 500/);
    expect(() => resolveLimits({ maxBytesPerCall: 4 * MIB + 1 })).toThrow(RangeError);
    expect(() => resolveLimits({ maxRecordBytes: 0 })).toThrow(RangeError);
    expect(() => resolveLimits({ maxRecordBytes: 1.5 })).toThrow(RangeError);
  });
});

describe('recordTooLarge', () => {
  it('names the record, its size and the limit', () => {
    expect(recordTooLarge(3, 2_000_000)).toEqual({ index: 3, errorCode: RECORD_TOO_LARGE, errorMessage: 'Record is 2000000 bytes; a Firehose record holds at most 1024000 bytes (before base64)' });
  });
});

describe('backoff', () => {
  it('doubles the cap from the base up to the maximum', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((retry) => backoffCapMs(retry))).toEqual([100, 200, 400, 800, 1_600, 2_000, 2_000]);
    expect([1, 2, 3].map((retry) => backoffCapMs(retry, { baseDelayMs: 50, maxDelayMs: 120 }))).toEqual([50, 100, 120]);
    expect(DEFAULT_BACKOFF).toEqual({ baseDelayMs: 100, maxDelayMs: 2_000 });
  });

  it('draws a whole number of ms in [0, cap] for any retry and any draw, even out of range (numRuns 1000)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.double({ min: -1, max: 2, noNaN: true }), (retry, draw) => {
        const delay = fullJitterDelayMs(retry, () => draw);
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(backoffCapMs(retry));
      }),
      { numRuns: 1000 },
    );
  });
});
