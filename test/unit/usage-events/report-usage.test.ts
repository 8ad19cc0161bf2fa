import type { DeliveryStream, PutReport } from '../../../core/ingestion/delivery-stream';
import { reportUsage } from '../../../core/usage-events/report-usage';
import { parseMeteringConfig } from '../../../core/usage/metering-config';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const CONFIG = parseMeteringConfig({
  dimensions: [{ name: 'api_requests', measure: 'requests', match: { resourcePaths: ['*'] } }],
  meters: [{ name: 'tokens', aggregation: 'SUM' }],
  aggregation: { graceSeconds: 0, lookBackHours: 6, maxHoursPerRun: 24 },
});

/** A stream that records what it was given and fails the records `fail` picks. */
function stream(fail: (record: Record<string, unknown>) => boolean = () => false): DeliveryStream & { records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  return {
    records,
    async put(batch): Promise<PutReport> {
      const parsed = batch.map((bytes) => JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>);
      const delivered: number[] = [];
      const failed: { index: number; errorCode: string; errorMessage?: string }[] = [];
      parsed.forEach((record, index) => {
        if (fail(record)) failed.push({ index, errorCode: 'ServiceUnavailableException', errorMessage: 'Slow down.' });
        else {
          delivered.push(index);
          records.push(record);
        }
      });
      return { delivered, failed, calls: 1, attempts: 1 };
    },
  };
}

const event = (id: string, quantity: unknown = 5) => ({ id, meter: 'tokens', quantity, timestamp: '2026-11-23T11:59:00Z' });

describe('reportUsage', () => {
  it('answers 200 and forwards every event, stamped with the caller\'s tenant and the receipt time', async () => {
    const sink = stream();
    const report = await reportUsage({ stream: sink, config: CONFIG, now: () => NOW }, { kind: 'tenant', tenantId: 'acme' }, { events: [event('a'), event('b', 7)] });
    expect(report).toEqual({ statusCode: 200, body: { message: '2 events accepted', accepted: [{ index: 0, id: 'a' }, { index: 1, id: 'b' }], rejected: [], failed: [] } });
    expect(sink.records).toEqual([
      expect.objectContaining({ record_type: 'usage_event', tenant_id: 'acme', event_id: 'a', quantity: '5', received_at: NOW, source: 'tenant' }),
      expect.objectContaining({ tenant_id: 'acme', event_id: 'b', quantity: '7' }),
    ]);
  });

  it('answers 400 listing the rejected events while accepting and forwarding the valid ones', async () => {
    const sink = stream();
    const report = await reportUsage({ stream: sink, config: CONFIG, now: () => NOW }, { kind: 'tenant', tenantId: 'acme' }, { events: [event('a', -3), event('b')] });
    expect(report.statusCode).toBe(400);
    expect(report.body.message).toBe('1 of 2 events rejected; the other 1 were accepted');
    expect(report.body.accepted).toEqual([{ index: 1, id: 'b' }]);
    expect(report.body.rejected).toEqual([{ index: 0, id: 'a', reasons: ['quantity must be a finite number ≥ 0, got -3'] }]);
    expect(sink.records.map((r) => r.event_id)).toEqual(['b']);
  });

  it('sends nothing when every event is rejected, and nothing for a malformed body', async () => {
    const sink = stream();
    const deps = { stream: sink, config: CONFIG, now: () => NOW };
    expect((await reportUsage(deps, { kind: 'tenant', tenantId: 'acme' }, { events: [event('a', 'x')] })).statusCode).toBe(400);
    const malformed = await reportUsage(deps, { kind: 'tenant', tenantId: 'acme' }, { event: [] });
    expect(malformed).toEqual({ statusCode: 400, body: expect.objectContaining({ accepted: [], errors: expect.arrayContaining(['events must be an array of events, got none']) }) });
    expect(sink.records).toEqual([]);
  });

  it('answers 503 and lists as failed (never accepted) what the stream did not take', async () => {
    const sink = stream((record) => record.event_id === 'b');
    const report = await reportUsage({ stream: sink, config: CONFIG, now: () => NOW }, { kind: 'backend' }, { events: [{ ...event('a'), tenantId: 't1' }, { ...event('b'), tenantId: 't2' }, event('c')] });
    expect(report.statusCode).toBe(503);
    expect(report.body.accepted).toEqual([{ index: 0, id: 'a' }]);
    expect(report.body.failed).toEqual([{ index: 1, id: 'b', reason: 'not delivered: ServiceUnavailableException (Slow down.)' }]);
    expect(report.body.rejected.map((r) => r.index)).toEqual([2]);
    expect(sink.records.map((r) => [r.event_id, r.tenant_id, r.source])).toEqual([['a', 't1', 'backend']]);
  });
});
