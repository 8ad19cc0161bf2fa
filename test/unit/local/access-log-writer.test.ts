import fc from 'fast-check';
import { ACCESS_LOG_FIELDS, accessLogFormat } from '../../../core/access-log/fields';
import type { DeliveryStream, PutFailure, PutReport } from '../../../core/ingestion/delivery-stream';
import { routingInDatabase } from '../../../core/ingestion/record-kinds';
import { transformBatch } from '../../../core/ingestion/transform-batch';
import { ACCESS_LOG_TABLE } from '../../../core/lake/access-log-table';
import {
  AccessLogDeliveryError,
  AccessLogFormatError,
  AccessLogWriter,
  compileAccessLogFormat,
  firehoseAccessLogSink,
  type AccessLogContext,
} from '../../../local/api/access-log-writer';
import { LOCAL_DATABASE } from '../../../local/lake/local-delivery';

const ROUTING = routingInDatabase(LOCAL_DATABASE);
const AT = Date.UTC(2026, 10, 23, 10, 5, 0, 123);
const render = compileAccessLogFormat();

const OK_CONTEXT: AccessLogContext = {
  requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
  requestTimeEpoch: AT,
  httpMethod: 'GET',
  resourcePath: '/random/strings',
  path: '/prod/random/strings',
  status: 200,
  protocol: 'HTTP/1.1',
  responseLength: 71,
  sourceIp: '127.0.0.1',
  stage: 'prod',
  apiId: 'localapi',
  claims: { 'cognito:username': '0f8fad5b-d9cb-469f-a165-70867728950e', 'custom:tenant_id': 'acme', email: 'ann@acme.example' },
  responseLatency: 12,
  integrationLatency: 9,
};

/** Runs lines through the real ingestion transform, as the local Firehose hands them over (with a newline). */
function transformed(lines: readonly string[], nowMillis = AT + 60_000) {
  const records = lines.map((line, i) => ({ recordId: `r${i}`, approximateArrivalTimestamp: nowMillis, data: Buffer.from(`${line}\n`, 'utf8').toString('base64') }));
  return transformBatch(records, ROUTING, { nowMillis });
}

function rowOf(result: ReturnType<typeof transformed>, index = 0): Record<string, unknown> {
  const record = result.records[index]!;
  expect(record.result).toBe('Ok');
  expect(record.metadata?.otfMetadata.destinationTableName).toBe(ACCESS_LOG_TABLE);
  return JSON.parse(Buffer.from(record.data, 'base64').toString('utf8')) as Record<string, unknown>;
}

describe('access-log lines', () => {
  it('fills the stage format exactly as API Gateway does for an answered request', () => {
    expect(render(OK_CONTEXT)).toBe(
      '{"request_id":"c6af9ac6-7b61-11e6-9a41-93e8deadbeef","ip":"127.0.0.1","user":"0f8fad5b-d9cb-469f-a165-70867728950e",'
      + '"request_time":"1795428300123","http_method":"GET","resource_path":"/random/strings","status":"200","protocol":"HTTP/1.1",'
      + '"response_length":"71","tenant_id":"acme","path":"/prod/random/strings","stage":"prod","api_id":"localapi",'
      + '"response_latency":"12","integration_latency":"9","error_type":"-"}',
    );
    expect(rowOf(transformed([render(OK_CONTEXT)]))).toEqual({
      request_id: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef', ip: '127.0.0.1', user: '0f8fad5b-d9cb-469f-a165-70867728950e', request_time: AT * 1000,
      http_method: 'GET', resource_path: '/random/strings', status: 200, protocol: 'HTTP/1.1', response_length: 71, tenant_id: 'acme',
      path: '/prod/random/strings', stage: 'prod', api_id: 'localapi', response_latency: 12, integration_latency: 9, error_type: null,
    });
  });

  it('writes "-" for what a request refused by the authorizer does not have, and the transform stores it as null', () => {
    const { claims: _claims, integrationLatency: _latency, ...rest } = OK_CONTEXT;
    const line = render({ ...rest, status: 401, responseLength: 26, errorResponseType: 'UNAUTHORIZED' });
    const parsed = JSON.parse(line) as Record<string, string>;
    expect(parsed).toMatchObject({ user: '-', tenant_id: '-', integration_latency: '-', error_type: 'UNAUTHORIZED', status: '401' });
    expect(rowOf(transformed([line]))).toMatchObject({ user: null, tenant_id: null, integration_latency: null, error_type: 'UNAUTHORIZED', status: 401, response_length: 26 });
  });

  it('logs a request that matched no route with "-" as its resource, which the transform stores as null', () => {
    const { resourcePath: _resource, claims: _claims, integrationLatency: _latency, ...rest } = OK_CONTEXT;
    const line = render({ ...rest, path: '/prod/nope', status: 403, errorResponseType: 'MISSING_AUTHENTICATION_TOKEN' });
    expect(JSON.parse(line)).toMatchObject({ resource_path: '-', path: '/prod/nope', status: '403', error_type: 'MISSING_AUTHENTICATION_TOKEN' });
    expect(rowOf(transformed([line]))).toMatchObject({ resource_path: null, path: '/prod/nope', status: 403, tenant_id: null, error_type: 'MISSING_AUTHENTICATION_TOKEN' });
  });

  it('keeps a line valid JSON whatever the claims hold; a lone surrogate, which UTF-8 cannot store, is refused by the transform', () => {
    const line = render({ ...OK_CONTEXT, claims: { 'cognito:username': 'a"b\\c\n\u0000\u2028', 'custom:tenant_id': 'x\uD800y' } });
    expect(JSON.parse(line)).toMatchObject({ user: 'a"b\\c\n\u0000\u2028', tenant_id: 'x\uD800y' });
    expect(transformed([line]).failures[0]).toMatchObject({ category: 'FailedSchema', reason: 'access-log: tenant_id: contains an unpaired surrogate (not valid Unicode)' });
  });

  it('round-trips any request through the line and the real transform (property, 1000 runs)', () => {
    const text = fc.oneof(
      fc.string({ unit: fc.constantFrom('"', '\\', '/', '\n', '\t', '\u0000', '\u001f', '\u2028', 'é', '€', '😀', '-', ' ', 'a', '{', '}', ':', ','), maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
    );
    const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
    const context: fc.Arbitrary<AccessLogContext> = fc.record({
      requestId: fc.uuid(),
      requestTimeEpoch: fc.integer({ min: Date.UTC(2015, 0, 1), max: AT }),
      httpMethod: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'),
      resourcePath: fc.constantFrom('/random/strings', '/usage', '/backend/usage', '/marketplace/register'),
      path: optional(text),
      status: fc.integer({ min: 100, max: 599 }),
      protocol: optional(fc.constantFrom('HTTP/1.1', 'HTTP/2.0')),
      responseLength: optional(fc.integer({ min: 0, max: 2 ** 31 - 1 })),
      sourceIp: optional(fc.oneof(fc.ipV4(), fc.ipV6())),
      userAgent: optional(text),
      stage: fc.stringMatching(/^[A-Za-z0-9_]{1,20}$/),
      apiId: fc.stringMatching(/^[a-z0-9]{1,10}$/),
      claims: optional(fc.record({ 'cognito:username': text, 'custom:tenant_id': text, email: text }, { requiredKeys: [] })),
      responseLatency: optional(fc.integer({ min: 0, max: 2 ** 31 - 1 })),
      integrationLatency: optional(fc.integer({ min: 0, max: 2 ** 31 - 1 })),
      errorResponseType: optional(fc.constantFrom('UNAUTHORIZED', 'MISSING_AUTHENTICATION_TOKEN', 'INTEGRATION_FAILURE', 'THROTTLED')),
    }, { requiredKeys: ['requestId', 'requestTimeEpoch', 'httpMethod', 'resourcePath', 'status', 'stage', 'apiId'] });

    // What each field should read back as: API Gateway's "-" for no value, which is also what an empty value or a literal "-" becomes.
    const logged = (value: string | number | undefined): string => (value === undefined || value === '' ? '-' : String(value));
    const expectedText = (c: AccessLogContext): Record<string, string> => ({
      request_id: logged(c.requestId), ip: logged(c.sourceIp), user: logged(c.claims?.['cognito:username']), request_time: logged(c.requestTimeEpoch),
      http_method: logged(c.httpMethod), resource_path: logged(c.resourcePath), status: logged(c.status), protocol: logged(c.protocol),
      response_length: logged(c.responseLength), tenant_id: logged(c.claims?.['custom:tenant_id']), path: logged(c.path), stage: logged(c.stage),
      api_id: logged(c.apiId), response_latency: logged(c.responseLatency), integration_latency: logged(c.integrationLatency), error_type: logged(c.errorResponseType),
    });
    const typed = (name: string, value: string): unknown => {
      const field = ACCESS_LOG_FIELDS.find((f) => f.name === name)!;
      if (value === '-') return null;
      if (field.type === 'integer') return Number(value);
      if (field.type === 'epoch_millis') return Number(value) * 1000;
      return value;
    };

    fc.assert(
      fc.property(fc.array(context, { minLength: 1, maxLength: 5 }), (contexts) => {
        const lines = contexts.map(render);
        const result = transformed(lines);
        lines.forEach((line, i) => {
          expect(line).not.toContain('\n');
          const expected = expectedText(contexts[i]!);
          expect(JSON.parse(line)).toEqual(expected);
          const row = rowOf(result, i);
          expect(Object.keys(row)).toEqual(ACCESS_LOG_FIELDS.map((f) => f.name));
          for (const [name, value] of Object.entries(expected)) expect(row[name]).toEqual(typed(name, value));
        });
      }),
      { numRuns: 1000 },
    );
  });

  it('fills the other variables a format may use, and refuses one it cannot fill', () => {
    const custom = compileAccessLogFormat('{"agent":"$context.identity.userAgent","when":"$context.requestTime","who":"$context.authorizer.claims.email","why":"$context.error.message"}');
    expect(JSON.parse(custom({ ...OK_CONTEXT, userAgent: 'curl/8 "quoted"' }))).toEqual({ agent: 'curl/8 "quoted"', when: '23/Nov/2026:10:05:00 +0000', who: 'ann@acme.example', why: '-' });
    expect(() => compileAccessLogFormat('{"key":"$context.identity.apiKeyId"}')).toThrow(AccessLogFormatError);
    expect(() => compileAccessLogFormat('{"key":"$context.identity.apiKeyId"}')).toThrow(/\$context\.identity\.apiKeyId, which the local API does not fill/);
    expect(() => compileAccessLogFormat(accessLogFormat())).not.toThrow();
  });
});

describe('AccessLogWriter', () => {
  const line = (i: number): AccessLogContext => ({ ...OK_CONTEXT, requestId: `req-${i}` });
  const idsOf = (lines: readonly string[]) => lines.map((l) => (JSON.parse(l) as { request_id: string }).request_id);

  it('hands lines over in order, in batches of at most maxBatchLines, and flush() waits for all of them', async () => {
    const batches: string[][] = [];
    const writer = new AccessLogWriter(async (lines) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      batches.push(lines);
    }, { maxBatchLines: 3, flushIntervalMs: 0 });
    for (let i = 0; i < 8; i++) writer.write(line(i));
    await writer.flush();
    expect(batches.every((batch) => batch.length <= 3)).toBe(true);
    expect(idsOf(batches.flat())).toEqual(Array.from({ length: 8 }, (_, i) => `req-${i}`));
    expect([writer.delivered, writer.pendingLines]).toEqual([8, 0]);
    await writer.close();
  });

  it('keeps lines the sink refused and delivers them on the next flush: none lost, none sent twice once taken', async () => {
    const taken: string[] = [];
    let failures = 2;
    const writer = new AccessLogWriter(async (lines) => {
      if (failures-- > 0) {
        // The stream took the first line of the batch and refused the rest.
        taken.push(lines[0]!);
        throw new AccessLogDeliveryError(lines.slice(1), `${lines.length - 1} refused`);
      }
      taken.push(...lines);
    }, { flushIntervalMs: 0 });
    for (let i = 0; i < 5; i++) writer.write(line(i));
    await expect(writer.flush()).rejects.toThrow('4 refused');
    expect(writer.pendingLines).toBe(4);
    await expect(writer.flush()).rejects.toThrow('3 refused');
    await writer.flush();
    expect(idsOf(taken)).toEqual(['req-0', 'req-1', 'req-2', 'req-3', 'req-4']);
    expect(writer.delivered).toBe(5);
  });

  it('keeps a whole batch when the sink fails without saying which lines, and reports a failure nobody awaits', async () => {
    const errors: unknown[] = [];
    let down = true;
    const taken: string[] = [];
    const writer = new AccessLogWriter(async (lines) => {
      if (down) throw new Error('stream unavailable');
      taken.push(...lines);
    }, { flushIntervalMs: 5, onError: (error) => errors.push(error) });
    writer.write(line(1));
    writer.write(line(2));
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(errors.length).toBeGreaterThan(0);
    expect(String(errors[0])).toContain('stream unavailable');
    expect(writer.pendingLines).toBe(2);
    down = false;
    await writer.close();
    expect(idsOf(taken)).toEqual(['req-1', 'req-2']);
  });

  it('refuses bad options with the reason', () => {
    const sink = async () => undefined;
    expect(() => new AccessLogWriter(sink, { maxBatchLines: 501 })).toThrow(/maxBatchLines must be a whole number from 1 to 500/);
    expect(() => new AccessLogWriter(sink, { flushIntervalMs: -1 })).toThrow(/flushIntervalMs/);
    expect(() => new AccessLogWriter(sink, { format: '{"x":"$context.nope"}' })).toThrow(AccessLogFormatError);
  });
});

describe('firehoseAccessLogSink', () => {
  /** An in-memory delivery stream that refuses the records at the given positions of each put. */
  function stream(refuse: ReadonlySet<number>): DeliveryStream & { records: string[] } {
    const records: string[] = [];
    return {
      records,
      async put(data): Promise<PutReport> {
        const delivered: number[] = [];
        const failed: PutFailure[] = [];
        data.forEach((bytes, index) => {
          if (refuse.has(index)) failed.push({ index, errorCode: 'ServiceUnavailableException', errorMessage: 'Slow down.' });
          else {
            delivered.push(index);
            records.push(Buffer.from(bytes).toString('utf8'));
          }
        });
        return { delivered, failed, calls: 1, attempts: 1 };
      },
    } as DeliveryStream & { records: string[] };
  }

  it('puts each line as one newline-terminated record', async () => {
    const target = stream(new Set());
    await firehoseAccessLogSink(target)(['{"a":"1"}', '{"a":"2"}']);
    expect(target.records).toEqual(['{"a":"1"}\n', '{"a":"2"}\n']);
  });

  it('rejects with exactly the lines the stream did not take', async () => {
    const sink = firehoseAccessLogSink(stream(new Set([1, 3])));
    const error = await sink(['l0', 'l1', 'l2', 'l3']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessLogDeliveryError);
    expect((error as AccessLogDeliveryError).undeliveredLines).toEqual(['l1', 'l3']);
    expect((error as Error).message).toBe('2 of 4 access-log records not delivered: 2 × ServiceUnavailableException (Slow down.)');
  });
});
