/**
 * FirehoseDeliveryStream against a fake Firehose (aws-sdk-client-mock) that follows a random script
 * of answers: per-record failures, whole-call errors (retryable or not, stream-level or not),
 * responses with the wrong number of entries. Whatever the script, every index ends in exactly one
 * of delivered/failed, a delivered record was accepted by the fake exactly once, a failed one never,
 * and every call respects the limits. Property counts are in the test names (numRuns).
 */
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
import fc from 'fast-check';
import { FirehoseDeliveryStream } from '../../../adapters/firehose/firehose-delivery-stream';
import { RECORD_TOO_LARGE, type PutRecordBatchLimits } from '../../../core/ingestion/delivery-stream';

const firehoseMock = mockClient(FirehoseClient);
const client = new FirehoseClient({ region: 'eu-west-1' });

type CallError = 'unavailable' | 'internal' | 'invalid-argument' | 'not-found';
type Step =
  | { readonly kind: 'answer'; readonly fail: readonly boolean[]; readonly code: 'ServiceUnavailableException' | 'InternalFailure' }
  | { readonly kind: 'throw'; readonly error: CallError }
  | { readonly kind: 'short-answer' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('answer' as const), fail: fc.array(fc.boolean(), { maxLength: 12 }), code: fc.constantFrom('ServiceUnavailableException' as const, 'InternalFailure' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('throw' as const), error: fc.constantFrom<CallError>('unavailable', 'internal', 'invalid-argument', 'not-found') }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'short-answer' as const }) },
);

const limitsArb: fc.Arbitrary<PutRecordBatchLimits> = fc
  .record({ maxRecordsPerCall: fc.integer({ min: 1, max: 8 }), maxBytesPerCall: fc.integer({ min: 40, max: 120 }), maxRecordBytes: fc.integer({ min: 20, max: 40 }) });

function callError(error: CallError): Error {
  switch (error) {
    case 'unavailable':
      return new ServiceUnavailableException({ message: 'Slow down.', $metadata: { httpStatusCode: 503 } });
    case 'internal':
      return new FirehoseServiceException({ name: 'InternalFailure', $fault: 'server', $metadata: { httpStatusCode: 500 }, message: 'Internal service failure.' });
    case 'invalid-argument':
      return new InvalidArgumentException({ message: 'bad', $metadata: { httpStatusCode: 400 } });
    case 'not-found':
      return new ResourceNotFoundException({ message: 'not found', $metadata: { httpStatusCode: 400 } });
  }
}

describe('FirehoseDeliveryStream under random failure patterns', () => {
  it('accounts for every record exactly once, delivers only what the fake accepted, once (numRuns 500)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat({ max: 48 }), { maxLength: 40 }),
        limitsArb,
        fc.integer({ min: 1, max: 5 }),
        fc.array(stepArb, { maxLength: 30 }),
        async (sizes, limits, maxAttempts, script) => {
          firehoseMock.reset();
          const records = sizes.map((size) => new Uint8Array(size));
          const indexOf = new Map<Uint8Array, number>(records.map((record, index) => [record, index]));
          const accepted = new Map<number, number>();
          const sends = new Map<number, number>();
          let step = 0;
          firehoseMock.on(PutRecordBatchCommand).callsFake(async (input: PutRecordBatchCommandInput): Promise<Partial<PutRecordBatchCommandOutput>> => {
            const sent = (input.Records ?? []).map((r) => {
              const index = indexOf.get(r.Data as Uint8Array);
              if (index === undefined) throw new Error('a record that was not given to put');
              return index;
            });
            // Every call within the limits, never an oversized record.
            expect(sent.length).toBeGreaterThan(0);
            expect(sent.length).toBeLessThanOrEqual(limits.maxRecordsPerCall);
            expect(sent.reduce((sum, i) => sum + sizes[i], 0)).toBeLessThanOrEqual(limits.maxBytesPerCall);
            for (const index of sent) {
              expect(sizes[index]).toBeLessThanOrEqual(limits.maxRecordBytes);
              sends.set(index, (sends.get(index) ?? 0) + 1);
            }
            const current = script[step++] ?? { kind: 'answer', fail: [], code: 'InternalFailure' };
            if (current.kind === 'throw') throw callError(current.error);
            if (current.kind === 'short-answer') return { FailedPutCount: 0, RequestResponses: sent.slice(1).map(() => ({ RecordId: 'lost' })) };
            const entries = sent.map((index, position) => {
              if (current.fail[position]) return { ErrorCode: current.code, ErrorMessage: 'injected' };
              accepted.set(index, (accepted.get(index) ?? 0) + 1);
              return { RecordId: `rid-${index}` };
            });
            return { FailedPutCount: entries.filter((e) => 'ErrorCode' in e).length, RequestResponses: entries };
          });
          const stream = new FirehoseDeliveryStream(client, { deliveryStreamName: 's', maxAttempts, limits, sleep: async () => {}, random: Math.random });

          const report = await stream.put(records);

          const failedIndexes = report.failed.map((f) => f.index);
          expect([...report.delivered, ...failedIndexes].sort((a, b) => a - b)).toEqual(records.map((_, i) => i));
          for (const index of report.delivered) expect(accepted.get(index)).toBe(1);
          for (const index of failedIndexes) expect(accepted.get(index) ?? 0).toBe(0);
          for (const failure of report.failed) {
            expect(failure.errorCode.length).toBeGreaterThan(0);
            expect(failure.errorCode === RECORD_TOO_LARGE).toBe(sizes[failure.index] > limits.maxRecordBytes);
          }
          for (const count of sends.values()) expect(count).toBeLessThanOrEqual(maxAttempts);
          expect(report.calls).toBe(firehoseMock.commandCalls(PutRecordBatchCommand).length);
          expect(report.attempts).toBeLessThanOrEqual(maxAttempts);
        },
      ),
      { numRuns: 500 },
    );
  });
});
