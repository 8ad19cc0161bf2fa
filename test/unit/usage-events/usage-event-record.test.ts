import type { FirehoseTransformationEventRecord } from 'aws-lambda';
import fc from 'fast-check';
import { transformBatch } from '../../../core/ingestion/transform-batch';
import { usageEventRecord, usageEventRow } from '../../../core/usage-events/usage-event-record';
import type { AcceptedUsageEvent } from '../../../core/usage-events/usage-event-validation';
import { accessLog, DATABASE, NOW, ROUTING } from '../ingestion/fixtures';

const EVENT: AcceptedUsageEvent = { index: 0, tenantId: 'acme', id: 'evt-1', meter: 'tokens', quantity: '12.5', eventTime: NOW - 60_000, properties: '{"model":"large"}' };

function firehoseRecord(text: string, recordId = 'r1'): FirehoseTransformationEventRecord {
  return { recordId, approximateArrivalTimestamp: NOW, data: Buffer.from(text).toString('base64') };
}

function decode(data: string | undefined): unknown {
  return JSON.parse(Buffer.from(data as string, 'base64').toString('utf8'));
}

describe('usage-event records through the ingestion transform', () => {
  it('routes a record POST /usage wrote to the usage-event table, as a row in column order', () => {
    const batch = transformBatch([firehoseRecord(usageEventRecord(EVENT, NOW, 'tenant'))], ROUTING, { nowMillis: NOW });
    expect(batch.counts.ok).toBe(1);
    expect(batch.records[0].metadata?.otfMetadata).toEqual({ destinationDatabaseName: DATABASE, destinationTableName: 'usage_events', operation: 'insert' });
    const row = decode(batch.records[0].data);
    expect(Object.keys(row as object)).toEqual(['tenant_id', 'event_id', 'meter', 'quantity', 'event_time', 'received_at', 'unique_value', 'properties', 'source']);
    expect(row).toEqual({
      tenant_id: 'acme', event_id: 'evt-1', meter: 'tokens', quantity: '12.5', event_time: (NOW - 60_000) * 1000, received_at: NOW * 1000,
      unique_value: null, properties: '{"model":"large"}', source: 'tenant',
    });
  });

  it('sends access logs and usage events of one batch to their own tables', () => {
    const batch = transformBatch([firehoseRecord(usageEventRecord(EVENT, NOW, 'backend'), 'a'), firehoseRecord(JSON.stringify(accessLog()), 'b')], ROUTING, { nowMillis: NOW });
    expect(batch.counts.ok).toBe(2);
    expect(batch.records.map((r) => r.metadata?.otfMetadata?.destinationTableName)).toEqual(['usage_events', 'access_logs']);
  });

  it.each([
    [{ tenant_id: 'a b' }, 'tenant_id is missing or malformed'],
    [{ event_id: undefined }, 'event_id is missing or malformed'],
    [{ meter: 'Tokens' }, 'meter is missing or malformed'],
    [{ quantity: 12.5 }, 'quantity must be decimal text ≥ 0 with at most 6 fraction digits'],
    [{ quantity: '1.1234567' }, 'quantity must be decimal text ≥ 0 with at most 6 fraction digits'],
    [{ quantity: '-1' }, 'quantity must be decimal text ≥ 0 with at most 6 fraction digits'],
    [{ event_time: NOW + 2 * 86_400_000 }, 'event_time must be epoch milliseconds from 2000 up to now'],
    [{ received_at: '2026' }, 'received_at must be epoch milliseconds from 2000 up to now'],
    [{ unique_value: 5 }, 'unique_value must be text or null'],
    [{ properties: {} }, 'properties must be text of at most 65536 characters or null'],
    [{ source: 'someone' }, 'source must be "tenant" or "backend"'],
  ])('keeps a malformed record %j as ProcessingFailed with its reason', (override, reason) => {
    const record = { ...JSON.parse(usageEventRecord(EVENT, NOW, 'tenant')), ...override };
    expect(usageEventRow(record, NOW + 86_400_000)).toEqual({ ok: false, reason });
    const text = JSON.stringify(record);
    const batch = transformBatch([firehoseRecord(text)], ROUTING, { nowMillis: NOW });
    expect(batch.records[0]).toEqual({ recordId: 'r1', result: 'ProcessingFailed', data: Buffer.from(text).toString('base64') });
    expect(batch.failures).toEqual([{ recordId: 'r1', category: 'FailedSchema', reason: `usage-event: ${reason}` }]);
  });

  const NUM_RUNS = 1000;
  it(`turns every record the endpoint can write into a row no longer than the record (${NUM_RUNS} runs)`, () => {
    const accepted = fc.record({
      index: fc.nat(),
      tenantId: fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/),
      id: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$/),
      meter: fc.stringMatching(/^[a-z][a-z0-9_]{0,63}$/),
      quantity: fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 20n }), fc.integer({ min: 0, max: 6 })).map(([units, d]) => (d === 0 ? units.toString() : `${units}.${'1'.repeat(d)}`)),
      eventTime: fc.integer({ min: NOW - 3 * 3_600_000, max: NOW }),
      uniqueValue: fc.option(fc.string({ maxLength: 256 }), { nil: undefined }),
      properties: fc.option(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean())).map((p) => JSON.stringify(p)), { nil: undefined }),
    });
    fc.assert(
      fc.property(accepted, fc.constantFrom('tenant' as const, 'backend' as const), (event, source) => {
        const record = usageEventRecord(event, NOW, source);
        const row = usageEventRow(JSON.parse(record), NOW);
        expect(row.ok).toBe(true);
        if (!row.ok) return;
        expect(Buffer.byteLength(row.json)).toBeLessThan(Buffer.byteLength(record));
        const parsed = JSON.parse(row.json);
        expect(parsed.quantity).toBe(event.quantity);
        expect(parsed.event_time).toBe(event.eventTime * 1000);
        expect(parsed.properties).toBe(event.properties ?? null);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
