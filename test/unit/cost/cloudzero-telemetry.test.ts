/**
 * Consumption → CloudZero telemetry records → requests within the limits, and the daily export job
 * over its ports. The property runs 500 times (numRuns in its name).
 */
import fc from 'fast-check';
import {
  checkTelemetryFilter,
  CLOUDZERO_TELEMETRY_LIMITS,
  parseTelemetryFilter,
  planTelemetryRequests,
  resolveTelemetryLimits,
  telemetryStreamName,
  toTelemetryRecords,
  TelemetryRecordError,
  wireRecord,
  type TelemetryOperation,
  type TelemetryRecord,
  type TelemetryRequest,
  type TelemetrySender,
  type TelemetrySendReport,
} from '../../../core/cost/cloudzero-telemetry';
import { CONSUMPTION_STREAMS, type ConsumptionRecord, type ConsumptionSource, type Granularity } from '../../../core/cost/consumption';
import { exportTelemetryForDay, parseUtcDay, previousUtcDay, TelemetryExportError } from '../../../core/cost/export-telemetry';

const DAY = Date.UTC(2026, 10, 20);
const HOUR = 3_600_000;

function consumption(tenantId: string, stream: ConsumptionRecord['stream'], value: string, start = DAY, granularity: Granularity = 'DAILY'): ConsumptionRecord {
  return { tenantId, stream, granularity, start, value };
}

describe('toTelemetryRecords', () => {
  it('writes one record per tenant and stream, with the prefixed stream, the filter and exact decimal text (golden)', () => {
    const { records, skippedZero } = toTelemetryRecords(
      [
        consumption('acme', 'api_requests', '1200'),
        consumption('globex', 'api_requests', '0'),
        consumption('acme', 'dynamodb_capacity_units', '0012.500000'),
        consumption('initech', 'response_bytes', '98765432109876543210'),
      ],
      { streamPrefix: 'saas-metering', filter: { 'custom:Service': ['metered-api'] }, filters: { response_bytes: null } },
    );
    expect(skippedZero).toBe(1);
    expect(records).toEqual([
      { timestamp: '2026-11-20T00:00:00Z', granularity: 'DAILY', 'element-name': 'acme', 'telemetry-stream': 'saas-metering.api_requests', filter: { 'custom:Service': ['metered-api'] }, value: '1200' },
      { timestamp: '2026-11-20T00:00:00Z', granularity: 'DAILY', 'element-name': 'acme', 'telemetry-stream': 'saas-metering.dynamodb_capacity_units', filter: { 'custom:Service': ['metered-api'] }, value: '12.5' },
      { timestamp: '2026-11-20T00:00:00Z', granularity: 'DAILY', 'element-name': 'initech', 'telemetry-stream': 'saas-metering.response_bytes', value: '98765432109876543210' },
    ]);
  });

  it('writes hourly records at their hour and uses a stream\'s own filter over the shared one', () => {
    const { records } = toTelemetryRecords(
      [consumption('acme', 'lambda_invocations', '3', DAY + 13 * HOUR, 'HOURLY')],
      { streamPrefix: '', filter: { service: ['AWSLambda'] }, filters: { lambda_invocations: { 'tag:tier': ['pooled', 'basic'], service: ['AWSLambda'] } } },
    );
    expect(records).toEqual([
      { timestamp: '2026-11-20T13:00:00Z', granularity: 'HOURLY', 'element-name': 'acme', 'telemetry-stream': 'lambda_invocations', filter: { service: ['AWSLambda'], 'tag:tier': ['pooled', 'basic'] }, value: '3' },
    ]);
  });

  it('refuses consumption CloudZero could not take or that is ambiguous, naming the record', () => {
    const mapping = { streamPrefix: 'saas-metering' };
    const refused = (records: ConsumptionRecord[]) => () => toTelemetryRecords(records, mapping);
    expect(refused([{ ...consumption('acme', 'api_requests', '1'), stream: 'cpu_seconds' as never }])).toThrow(/record 0 .*unknown consumption stream/);
    expect(refused([consumption('acme corp', 'api_requests', '1')])).toThrow(/tenant id must be/);
    expect(refused([consumption('acme', 'api_requests', '1', DAY + HOUR)])).toThrow(/not the start of a UTC day/);
    expect(refused([consumption('acme', 'api_requests', '1', DAY + 1, 'HOURLY')])).toThrow(/not the start of a UTC hour/);
    expect(refused([consumption('acme', 'api_requests', '-1')])).toThrow(/value "-1" is not non-negative decimal text/);
    expect(refused([consumption('acme', 'api_requests', '0.1234567')])).toThrow(/at most 6 fraction digits/);
    expect(refused([consumption('acme', 'api_requests', '1e3')])).toThrow(TelemetryRecordError);
    expect(refused([consumption('acme', 'api_requests', '1'), consumption('acme', 'api_requests', '2')])).toThrow(/record 1 .*a second record for 2026-11-20T00:00:00Z/);
    expect(refused([consumption('acme', 'api_requests', '1'), consumption('globex', 'api_requests', '1', DAY, 'HOURLY')])).toThrow(/mixes DAILY and HOURLY/);
    expect(() => toTelemetryRecords([consumption('acme', 'api_requests', '1')], { streamPrefix: 'saas-metering/' })).toThrow(/stream name "saas-metering\/.api_requests" is not allowed/);
  });

  it('checks filters against the targeting limits (5 keys, 20 values, arrays of strings)', () => {
    expect(checkTelemetryFilter({ b: ['1'], a: ['2'] })).toEqual({ a: ['2'], b: ['1'] });
    expect(Object.keys(checkTelemetryFilter({ b: ['1'], a: ['2'] })!)).toEqual(['a', 'b']);
    expect(checkTelemetryFilter({})).toBeUndefined();
    expect(checkTelemetryFilter(undefined)).toBeUndefined();
    expect(() => checkTelemetryFilter({ a: ['1'], b: ['1'], c: ['1'], d: ['1'], e: ['1'], f: ['1'] })).toThrow(/6 keys; CloudZero allows at most 5/);
    expect(() => checkTelemetryFilter({ a: Array.from({ length: 21 }, (_, i) => `v${i}`) })).toThrow(/21 values; CloudZero allows at most 20/);
    expect(() => checkTelemetryFilter({ a: [] })).toThrow(/non-empty array/);
    expect(() => checkTelemetryFilter({ a: 'x' })).toThrow(/non-empty array/);
    expect(() => checkTelemetryFilter({ a: [1] })).toThrow(/non-empty strings/);
    expect(() => checkTelemetryFilter({ ' a': ['1'] })).toThrow(/without surrounding spaces/);
    expect(() => checkTelemetryFilter(['a'])).toThrow(/must be an object/);
    expect(parseTelemetryFilter('{"custom:Service":["metered-api"]}')).toEqual({ 'custom:Service': ['metered-api'] });
    expect(parseTelemetryFilter('  ')).toBeUndefined();
    expect(() => parseTelemetryFilter('{oops', 'TELEMETRY_FILTER')).toThrow(/TELEMETRY_FILTER is not valid JSON/);
  });

  it('names streams <prefix>.<stream> within CloudZero\'s stream-name rule', () => {
    expect(telemetryStreamName('saas-metering', 'api_requests')).toBe('saas-metering.api_requests');
    expect(telemetryStreamName('', 'api_requests')).toBe('api_requests');
    expect(() => telemetryStreamName('a'.repeat(250), 'api_requests')).toThrow(TelemetryRecordError);
    expect(() => telemetryStreamName('my app', 'api_requests')).toThrow(/1-256 letters/);
  });
});

function record(n: number, stream = 'saas-metering.api_requests', pad = 0): TelemetryRecord {
  return { timestamp: '2026-11-20T00:00:00Z', granularity: 'DAILY', 'element-name': `tenant-${n}${'x'.repeat(pad)}`, 'telemetry-stream': stream, value: String(n + 1) };
}

function bodyRecords(request: TelemetryRequest): unknown[] {
  return (JSON.parse(request.body) as { records: unknown[] }).records;
}

describe('planTelemetryRequests', () => {
  it('writes per-stream requests in the shape of their endpoint (golden)', () => {
    const records = [record(0, 'saas-metering.api_requests'), { ...record(1, 'saas-metering.response_bytes'), filter: { 'custom:Service': ['metered-api'] } }];
    const replace = planTelemetryRequests(records);
    expect(replace.map((r) => [r.stream, r.path, r.body])).toEqual([
      ['saas-metering.api_requests', '/unit-cost/v1/telemetry/allocation/saas-metering.api_requests/replace',
        '{"records":[{"timestamp":"2026-11-20T00:00:00Z","granularity":"DAILY","element_name":"tenant-0","value":"1"}]}'],
      ['saas-metering.response_bytes', '/unit-cost/v1/telemetry/allocation/saas-metering.response_bytes/replace',
        '{"records":[{"timestamp":"2026-11-20T00:00:00Z","granularity":"DAILY","element_name":"tenant-1","filter":{"custom:Service":["metered-api"]},"value":"2"}]}'],
    ]);
    expect(planTelemetryRequests(records, 'sum')[0].path).toBe('/unit-cost/v1/telemetry/allocation/saas-metering.api_requests/sum');
    const legacy = planTelemetryRequests(records, 'legacy');
    expect(legacy.map((r) => r.path)).toEqual(['/unit-cost/v1/telemetry', '/unit-cost/v1/telemetry']);
    expect(legacy[0].body).toBe('{"records":[{"timestamp":"2026-11-20T00:00:00Z","granularity":"DAILY","element-name":"tenant-0","telemetry-stream":"saas-metering.api_requests","value":"1"}]}');
    for (const request of [...replace, ...legacy]) expect(request.bytes).toBe(Buffer.byteLength(request.body));
  });

  it('cuts by record count: a full request, then the rest', () => {
    const records = Array.from({ length: 7 }, (_, n) => record(n));
    expect(planTelemetryRequests(records, 'replace', { maxRecordsPerRequest: 3 }).map((r) => r.records.length)).toEqual([3, 3, 1]);
    expect(planTelemetryRequests(records.slice(0, 6), 'replace', { maxRecordsPerRequest: 3 }).map((r) => r.records.length)).toEqual([3, 3]);
    const many = Array.from({ length: CLOUDZERO_TELEMETRY_LIMITS.maxRecordsPerRequest + 1 }, (_, n) => record(n));
    expect(planTelemetryRequests(many).map((r) => r.records.length)).toEqual([3000, 1]);
  });

  it('cuts by body bytes: a body of exactly the limit fits, one byte less does not', () => {
    const records = [record(1), record(2), record(3)];
    const sizes = records.map((r) => Buffer.byteLength(JSON.stringify(wireRecord(r, 'replace'))));
    const twoRecordBody = '{"records":['.length + sizes[0] + 1 + sizes[1] + ']}'.length;
    const maxRecordBytes = Math.max(...sizes);
    const exact = planTelemetryRequests(records, 'replace', { maxRequestBytes: twoRecordBody, maxRecordBytes });
    expect(exact.map((r) => r.records.length)).toEqual([2, 1]);
    expect(exact[0].bytes).toBe(twoRecordBody);
    const tighter = planTelemetryRequests(records, 'replace', { maxRequestBytes: twoRecordBody - 1, maxRecordBytes });
    expect(tighter.map((r) => r.records.length)).toEqual([1, 1, 1]);
  });

  it('refuses a record over the per-record limit and limits above CloudZero\'s', () => {
    expect(() => planTelemetryRequests([record(0), record(1, undefined, 200)], 'replace', { maxRecordBytes: 200, maxRequestBytes: 1000 })).toThrow(/telemetry record 1 .*is \d+ bytes; CloudZero takes at most 200/);
    expect(() => resolveTelemetryLimits({ maxRequestBytes: 5_000_001 })).toThrow(/above CloudZero's limit of 5000000/);
    expect(() => resolveTelemetryLimits({ maxRecordsPerRequest: 0 })).toThrow(/positive integer/);
    expect(() => resolveTelemetryLimits({ maxRecordBytes: 900, maxRequestBytes: 900 })).toThrow(/room for one record/);
    expect(() => planTelemetryRequests([record(0)], 'upsert' as TelemetryOperation)).toThrow(/unknown telemetry operation "upsert"/);
  });

  const arbitraryRecord: fc.Arbitrary<TelemetryRecord> = fc.record({
    stream: fc.constantFrom('s.api_requests', 's.response_bytes', 's.lambda_duration_ms'),
    tenant: fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/),
    value: fc.stringMatching(/^[1-9]\d{0,20}(\.\d{1,6})?$/),
    hour: fc.integer({ min: 0, max: 23 }),
    filter: fc.option(fc.dictionary(fc.constantFrom('custom:Service', 'tag:env', 'account', 'custom:Ünïcode'), fc.array(fc.string({ minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 4 }), { minKeys: 1, maxKeys: 3 }), { nil: undefined }),
  }).map(({ stream, tenant, value, hour, filter }) => ({
    timestamp: new Date(DAY + hour * HOUR).toISOString().replace('.000Z', 'Z'),
    granularity: 'HOURLY' as const,
    'element-name': tenant,
    'telemetry-stream': stream,
    ...(filter !== undefined ? { filter } : {}),
    value,
  }));

  it('puts every record in exactly one request, each within the limits, in order (numRuns 500)', () => {
    fc.assert(
      fc.property(
        fc.array(arbitraryRecord, { maxLength: 120 }),
        fc.constantFrom<TelemetryOperation>('replace', 'sum', 'legacy'),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1_600, max: 6_000 }),
        (records, operation, maxRecordsPerRequest, maxRequestBytes) => {
          const limits = { maxRecordsPerRequest, maxRequestBytes, maxRecordBytes: 1_500 };
          const requests = planTelemetryRequests(records, operation, limits);
          // Exactly once, order kept: per stream, the requests' records in order are the input's.
          const streams = [...new Set(records.map((r) => r['telemetry-stream']))];
          expect([...new Set(requests.map((r) => r.stream))]).toEqual(streams);
          for (const stream of streams) {
            expect(requests.filter((r) => r.stream === stream).flatMap((r) => r.records)).toEqual(records.filter((r) => r['telemetry-stream'] === stream));
          }
          expect(requests.reduce((sum, r) => sum + r.records.length, 0)).toBe(records.length);
          requests.forEach((request, i) => {
            expect(request.records.length).toBeGreaterThan(0);
            expect(request.records.length).toBeLessThanOrEqual(maxRecordsPerRequest);
            expect(request.bytes).toBe(Buffer.byteLength(request.body, 'utf8'));
            expect(request.bytes).toBeLessThanOrEqual(maxRequestBytes);
            expect(request.records.every((r) => r['telemetry-stream'] === request.stream)).toBe(true);
            expect(bodyRecords(request)).toEqual(request.records.map((r) => wireRecord(r, operation)));
            // Greedy: the next request of the stream could not have taken one more record here.
            const next = requests[i + 1];
            if (next !== undefined && next.stream === request.stream) {
              const grown = planTelemetryRequests([...request.records, next.records[0]], operation, limits);
              expect(grown).toHaveLength(2);
            }
          });
        },
      ),
      { numRuns: 500 },
    );
  });
});

/** A sender that records what it was given and answers with `failed` for the requests it picks. */
class FakeSender implements TelemetrySender {
  readonly sent: TelemetryRequest[] = [];
  constructor(private readonly fails: (request: TelemetryRequest) => boolean = () => false) {}

  async send(requests: readonly TelemetryRequest[]): Promise<TelemetrySendReport> {
    this.sent.push(...requests);
    const failed = requests.filter(this.fails);
    const ok = requests.filter((r) => !this.fails(r));
    return {
      batchesSent: ok.length,
      recordsSent: ok.reduce((sum, r) => sum + r.records.length, 0),
      retries: 0,
      httpRequests: requests.length,
      failed: failed.map((r) => ({ stream: r.stream, path: r.path, records: r.records.length, attempts: 1, status: 400, reason: 'HTTP 400: Invalid Schema' })),
    };
  }
}

function source(records: ConsumptionRecord[]): ConsumptionSource & { calls: unknown[] } {
  const calls: unknown[] = [];
  return {
    calls,
    async read(range, granularity) {
      calls.push({ range, granularity });
      return records;
    },
  };
}

describe('exportTelemetryForDay', () => {
  const mapping = { streamPrefix: 'saas-metering' };
  const after = DAY + 2 * 86_400_000;

  it('reads the day at the configured granularity, sends every stream and reports it', async () => {
    const src = source([consumption('acme', 'api_requests', '10'), consumption('globex', 'api_requests', '30'), consumption('acme', 'response_bytes', '0'), consumption('acme', 'lambda_invocations', '4')]);
    const sender = new FakeSender();
    const report = await exportTelemetryForDay({ source: src, sender, mapping, now: () => after }, '2026-11-20');
    expect(src.calls).toEqual([{ range: { start: DAY, end: DAY + 86_400_000 }, granularity: 'DAILY' }]);
    expect(sender.sent.map((r) => [r.path, r.records.length])).toEqual([
      ['/unit-cost/v1/telemetry/allocation/saas-metering.api_requests/replace', 2],
      ['/unit-cost/v1/telemetry/allocation/saas-metering.lambda_invocations/replace', 1],
    ]);
    expect(report).toEqual({
      day: '2026-11-20', granularity: 'DAILY', range: { start: DAY, end: DAY + 86_400_000 },
      consumptionRecords: 4, skippedZero: 1, streams: { 'saas-metering.api_requests': 2, 'saas-metering.lambda_invocations': 1 }, telemetryRecords: 3,
      batches: 2, batchesSent: 2, recordsSent: 3, retries: 0, httpRequests: 2, failed: [], ok: true,
    });
  });

  it('reports failed requests and is not ok', async () => {
    const sender = new FakeSender((r) => r.stream.endsWith('lambda_invocations'));
    const report = await exportTelemetryForDay({ source: source([consumption('acme', 'api_requests', '10'), consumption('acme', 'lambda_invocations', '4')]), sender, mapping, now: () => after }, '2026-11-20');
    expect(report.ok).toBe(false);
    expect(report.failed).toEqual([{ stream: 'saas-metering.lambda_invocations', path: '/unit-cost/v1/telemetry/allocation/saas-metering.lambda_invocations/replace', records: 1, attempts: 1, status: 400, reason: 'HTTP 400: Invalid Schema' }]);
  });

  it('sends nothing for a day without consumption', async () => {
    const sender = new FakeSender();
    const report = await exportTelemetryForDay({ source: source([]), sender, mapping, now: () => after }, '2026-11-20');
    expect(sender.sent).toEqual([]);
    expect(report).toMatchObject({ batches: 0, batchesSent: 0, ok: true });
  });

  it('refuses a day not yet over, a malformed day, and consumption outside the day or at another granularity, before sending', async () => {
    const sender = new FakeSender();
    const ok = source([consumption('acme', 'api_requests', '1')]);
    await expect(exportTelemetryForDay({ source: ok, sender, mapping, now: () => DAY + 86_400_000 - 1 }, '2026-11-20')).rejects.toThrow(/day 2026-11-20 is not over yet/);
    await expect(exportTelemetryForDay({ source: ok, sender, mapping, now: () => DAY + 86_400_000 }, '2026-11-20')).resolves.toMatchObject({ ok: true });
    await expect(exportTelemetryForDay({ source: ok, sender, mapping, now: () => after }, '2026-11-31')).rejects.toThrow(TelemetryExportError);
    await expect(exportTelemetryForDay({ source: source([consumption('acme', 'api_requests', '1', DAY - 86_400_000)]), sender, mapping, now: () => after }, '2026-11-20')).rejects.toThrow(/outside 2026-11-20/);
    await expect(exportTelemetryForDay({ source: source([consumption('acme', 'api_requests', '1', DAY, 'HOURLY')]), sender, mapping, now: () => after }, '2026-11-20')).rejects.toThrow(/HOURLY granularity; DAILY was asked/);
    expect(sender.sent).toHaveLength(1);
  });

  it('exports the hours of the day at HOURLY granularity', async () => {
    const sender = new FakeSender();
    const records = Array.from({ length: 24 }, (_, h) => consumption('acme', 'api_requests', String(h + 1), DAY + h * HOUR, 'HOURLY'));
    const report = await exportTelemetryForDay({ source: source(records), sender, mapping, granularity: 'HOURLY', now: () => after }, '2026-11-20');
    expect(report.telemetryRecords).toBe(24);
    expect(sender.sent[0].records.map((r) => r.timestamp)).toEqual(records.map((r) => new Date(r.start).toISOString().replace('.000Z', 'Z')));
  });

  it('parses and derives UTC days', () => {
    expect(parseUtcDay('2026-11-20')).toBe(DAY);
    expect(() => parseUtcDay('2026-02-30')).toThrow(/yyyy-mm-dd/);
    expect(() => parseUtcDay('20261120')).toThrow(/yyyy-mm-dd/);
    expect(previousUtcDay(DAY + 5 * HOUR)).toBe('2026-11-19');
    expect(previousUtcDay(DAY)).toBe('2026-11-19');
    expect(CONSUMPTION_STREAMS).toHaveLength(5);
  });
});
