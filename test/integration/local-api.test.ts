/**
 * The local metered API over real HTTP: the real random-strings handler and the usage-events handler
 * (factory-built over the real Firehose SDK client) behind the local Cognito authorizer, access logs in
 * the stage's format put with PutRecordBatch on a local Firehose whose processor is the real transform
 * into a DuckDB lake — where every request's line is read back.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { DuckDbLake } from '../../adapters/duckdb/duckdb-lake';
import { FirehoseDeliveryStream } from '../../adapters/firehose/firehose-delivery-stream';
import { parseMeteringConfig } from '../../core/usage/metering-config';
import { createUsageEventsHandler, type UsageEventsHandler } from '../../functions/usage-events/handler';
import { firehoseAccessLogSink } from '../../local/api/access-log-writer';
import { LocalApiStartError, startLocalApi, type LocalApi } from '../../local/api/local-api-server';
import { LocalTokenIssuer } from '../../local/api/local-token-issuer';
import { startLocalFirehose, type LocalFirehose } from '../../local/firehose/local-firehose';
import { LocalLakeDelivery } from '../../local/lake/local-delivery';

const STREAM = 'amazon-apigateway-local-test';
const CONFIG = parseMeteringConfig({
  dimensions: [{ name: 'api_requests', measure: 'requests', match: { resourcePaths: ['/random/strings'], methods: ['GET'] } }],
  meters: [{ name: 'tokens', aggregation: 'SUM' }],
  usageEvents: { maxAgeHours: 3, maxFutureSeconds: 300, maxEventsPerRequest: 500, maxPropertiesBytes: 4096 },
  aggregation: { graceSeconds: 300, lookBackHours: 6, maxHoursPerRun: 48 },
});
const ACME_USER = { email: 'ann@acme.example', tenantId: 'acme', sub: '0f8fad5b-d9cb-469f-a165-70867728950e' };

interface Call {
  readonly status: number;
  readonly body: string;
  readonly bytes: number;
  readonly requestId: string | null;
  readonly headers: Headers;
}

async function call(url: string, init: RequestInit = {}): Promise<Call> {
  const response = await fetch(url, init);
  const bytes = Buffer.from(await response.arrayBuffer());
  return { status: response.status, body: bytes.toString('utf8'), bytes: bytes.length, requestId: response.headers.get('x-amzn-requestid'), headers: response.headers };
}

describe('the local metered API', () => {
  let root: string;
  let lake: DuckDbLake;
  let delivery: LocalLakeDelivery;
  let firehose: LocalFirehose;
  let issuer: LocalTokenIssuer;
  let api: LocalApi;
  let acmeToken: string;
  const events: APIGatewayProxyEvent[] = [];

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'local-api-'));
    lake = await DuckDbLake.open(root);
    delivery = new LocalLakeDelivery(lake);
    firehose = await startLocalFirehose({ processor: (records) => delivery.deliver(records), deliveryStreams: [STREAM] });
    issuer = await LocalTokenIssuer.create();
    const usageEvents = createUsageEventsHandler({
      stream: new FirehoseDeliveryStream(firehose.client(), { deliveryStreamName: STREAM, sleep: async () => undefined }),
      config: CONFIG,
      logger: new Logger({ serviceName: 'usage-events', logLevel: 'SILENT' }),
      now: Date.now,
    });
    // The real handler; the test keeps the events it was given, to look at how they were built.
    const recording: UsageEventsHandler = (event, context) => {
      events.push(event);
      return usageEvents(event, context);
    };
    api = await startLocalApi({
      issuer,
      usageEventsHandler: recording,
      accessLogSink: firehoseAccessLogSink({ client: firehose.client(), deliveryStreamName: STREAM }),
      accessLogFlushIntervalMs: 0,
    });
    acmeToken = await issuer.issueIdToken(ACME_USER);
  });

  afterAll(async () => {
    await api.close();
    await firehose.close();
    lake.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  /** Delivers the access logs written so far into the lake, and returns their rows by request id. */
  async function loggedRequests(): Promise<Map<string, Record<string, unknown>>> {
    await api.flush();
    await firehose.flush();
    const rows = await lake.query('SELECT request_id, user, tenant_id, status, response_length, resource_path, http_method, path, stage, api_id, error_type, integration_latency, ip FROM access_logs');
    return new Map(rows.map((row) => [String(row.request_id), row as Record<string, unknown>]));
  }

  it('serves GET /random/strings to a tenant, and logs the request with its tenant, status and response length', async () => {
    const ok = await call(`${api.url}/random/strings?len=12&num=3&chars=digits`, { headers: { Authorization: acmeToken } });
    expect(ok.status).toBe(200);
    const strings = JSON.parse(ok.body) as string[];
    expect(strings).toHaveLength(3);
    for (const s of strings) expect(s).toMatch(/^\d{12}$/);
    const bearer = await call(`${api.url}/random/strings`, { headers: { Authorization: `Bearer ${acmeToken}` } });
    expect(bearer.status).toBe(200);

    const logged = await loggedRequests();
    expect(logged.get(ok.requestId!)).toMatchObject({
      user: ACME_USER.sub, tenant_id: 'acme', status: 200, response_length: ok.bytes, resource_path: '/random/strings', http_method: 'GET',
      path: '/prod/random/strings', stage: 'prod', api_id: 'localapi', error_type: null, ip: '127.0.0.1',
    });
    expect(Number(logged.get(ok.requestId!)!.integration_latency)).toBeGreaterThanOrEqual(0);
    expect(logged.get(bearer.requestId!)).toMatchObject({ tenant_id: 'acme', status: 200, response_length: bearer.bytes });
  });

  it('answers a bad query 400 with the reasons, and logs it with the tenant (only 2xx responses are billed)', async () => {
    const bad = await call(`${api.url}/random/strings?len=0&chars=symbols`, { headers: { Authorization: acmeToken } });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).errors.map((e: { parameter: string }) => e.parameter).sort()).toEqual(['chars', 'len']);
    expect((await loggedRequests()).get(bad.requestId!)).toMatchObject({ tenant_id: 'acme', status: 400, response_length: bad.bytes });
  });

  it('answers 401 without a token, with a forged one and with an expired one, and logs them without a caller', async () => {
    const none = await call(`${api.url}/random/strings`);
    const impostor = await LocalTokenIssuer.create({ userPoolId: issuer.userPoolId, clientId: issuer.clientId });
    const forged = await call(`${api.url}/random/strings`, { headers: { Authorization: await impostor.issueIdToken(ACME_USER) } });
    const expired = await call(`${api.url}/usage`, { method: 'POST', headers: { Authorization: await issuer.issueIdToken(ACME_USER, { issuedAt: Date.now() - 7200_000 }) }, body: '{"events":[]}' });
    expect([none.status, forged.status, expired.status]).toEqual([401, 401, 401]);
    expect([JSON.parse(none.body), JSON.parse(forged.body), JSON.parse(expired.body)]).toEqual([{ message: 'Unauthorized' }, { message: 'Unauthorized' }, { message: 'The incoming token has expired' }]);
    expect(none.headers.get('x-amzn-errortype')).toBe('UnauthorizedException');

    const logged = await loggedRequests();
    expect(logged.get(none.requestId!)).toMatchObject({ user: null, tenant_id: null, status: 401, error_type: 'UNAUTHORIZED', response_length: none.bytes, resource_path: '/random/strings', integration_latency: null });
    expect(logged.get(forged.requestId!)).toMatchObject({ tenant_id: null, status: 401, error_type: 'UNAUTHORIZED' });
    expect(logged.get(expired.requestId!)).toMatchObject({ tenant_id: null, status: 401, resource_path: '/usage', http_method: 'POST' });
  });

  it('answers 403 to a verified caller without a tenant (the handler refuses it)', async () => {
    const noTenant = await call(`${api.url}/random/strings`, { headers: { Authorization: await issuer.issueIdToken({ email: 'nobody@example.com' }) } });
    expect(noTenant.status).toBe(403);
    expect((await loggedRequests()).get(noTenant.requestId!)).toMatchObject({ tenant_id: null, status: 403, error_type: null });
  });

  it('answers 403 "Missing Authentication Token" to an unknown route; its line, with no resource, reaches the lake', async () => {
    const unknown = await call(`${api.url}/random/numbers`, { headers: { Authorization: acmeToken } });
    const wrongMethod = await call(`${api.url}/random/strings`, { method: 'DELETE', headers: { Authorization: acmeToken } });
    const outsideStage = await call(`${api.url.replace(/\/prod$/, '')}/random/strings`, { headers: { Authorization: acmeToken } });
    for (const response of [unknown, wrongMethod, outsideStage]) {
      expect(response.status).toBe(403);
      expect(JSON.parse(response.body)).toEqual({ message: 'Missing Authentication Token' });
      expect(response.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    }
    const failedBefore = delivery.failed.length;
    const logged = await loggedRequests();
    // Lines of the two requests under the stage reach the lake with no resource (billing nobody); outside the stage nothing is logged.
    expect(delivery.failed.length).toBe(failedBefore);
    expect(logged.get(unknown.requestId!)).toMatchObject({ resource_path: null, path: '/prod/random/numbers', status: 403, error_type: 'MISSING_AUTHENTICATION_TOKEN', tenant_id: null });
    expect(logged.get(wrongMethod.requestId!)).toMatchObject({ resource_path: null, status: 403 });
    expect([...logged.values()].filter((row) => row.path === '/random/strings')).toEqual([]);
  });

  it('accepts POST /usage into the lake, with the tenant of the token only', async () => {
    const timestamp = new Date(Date.now() - 60_000).toISOString();
    const body = JSON.stringify({ events: [{ id: 'e-1', meter: 'tokens', quantity: 40, timestamp }, { id: 'e-2', meter: 'tokens', quantity: 2, timestamp, tenantId: 'globex' }] });
    const posted = await call(`${api.url}/usage`, { method: 'POST', headers: { Authorization: acmeToken, 'Content-Type': 'application/json' }, body });
    expect(posted.status).toBe(400);
    const answer = JSON.parse(posted.body);
    expect(answer.accepted).toEqual([{ index: 0, id: 'e-1' }]);
    expect(answer.rejected[0]).toMatchObject({ index: 1, id: 'e-2' });

    const logged = await loggedRequests();
    const rows = await lake.query('SELECT tenant_id, event_id, meter, quantity, source FROM usage_events');
    expect(rows).toEqual([{ tenant_id: 'acme', event_id: 'e-1', meter: 'tokens', quantity: '40', source: 'tenant' }]);
    expect(logged.get(posted.requestId!)).toMatchObject({ tenant_id: 'acme', status: 400, resource_path: '/usage', http_method: 'POST', response_length: posted.bytes });
  });

  it('builds the Lambda proxy event as API Gateway does', async () => {
    events.length = 0;
    const posted = await call(`${api.url}/usage?dry=1&tag=a&tag=b&__proto__=p&constructor=c`, {
      method: 'POST',
      headers: { Authorization: acmeToken, 'Content-Type': 'application/json', 'X-Trace': 'one' },
      body: '{"events":[]}',
    });
    expect(posted.status).toBe(400);
    const event = events[0]!;
    expect(event).toMatchObject({
      resource: '/usage',
      path: '/usage',
      httpMethod: 'POST',
      body: '{"events":[]}',
      isBase64Encoded: false,
      queryStringParameters: { dry: '1', tag: 'b', ['__proto__']: 'p', constructor: 'c' },
      multiValueQueryStringParameters: { dry: ['1'], tag: ['a', 'b'], ['__proto__']: ['p'], constructor: ['c'] },
      pathParameters: null,
      stageVariables: null,
    });
    const header = (name: string) => Object.entries(event.headers).find(([key]) => key.toLowerCase() === name)?.[1];
    expect([header('authorization'), header('x-trace'), header('content-type')]).toEqual([acmeToken, 'one', 'application/json']);
    expect(Object.entries(event.multiValueHeaders).find(([key]) => key.toLowerCase() === 'x-trace')?.[1]).toEqual(['one']);
    expect(event.requestContext).toMatchObject({
      requestId: posted.requestId,
      stage: 'prod',
      apiId: 'localapi',
      resourcePath: '/usage',
      path: '/prod/usage',
      httpMethod: 'POST',
      protocol: 'HTTP/1.1',
      identity: { sourceIp: '127.0.0.1', userArn: null },
      authorizer: { claims: { 'custom:tenant_id': 'acme', 'cognito:username': ACME_USER.sub, token_use: 'id' } },
    });
    expect(event.requestContext.requestTimeEpoch).toBeLessThanOrEqual(Date.now());

    // Header names are just names, `__proto__` included, and repeated headers keep every value (fetch sends neither: raw HTTP).
    events.length = 0;
    const status = await new Promise<number>((resolve, reject) => {
      const request = http.request(`${api.url}/usage`, { method: 'POST', headers: ['Host', `127.0.0.1:${api.port}`, 'Content-Length', '13', 'Authorization', acmeToken, '__proto__', 'h', 'X-Tag', 'a', 'X-Tag', 'b'] }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
      request.end('{"events":[]}');
    });
    expect(status).toBe(400);
    expect(Object.getOwnPropertyDescriptor(events[0]!.headers, '__proto__')?.value).toBe('h');
    expect(events[0]!.headers['X-Tag']).toBe('b');
    expect(events[0]!.multiValueHeaders['X-Tag']).toEqual(['a', 'b']);
    expect(event.requestContext.requestTime).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
  });

  it('refuses to start on a busy port with a clear message', async () => {
    const error = await startLocalApi({
      port: api.port,
      issuer,
      usageEventsHandler: async () => ({ statusCode: 200, body: '' }),
      accessLogSink: async () => undefined,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LocalApiStartError);
    expect((error as LocalApiStartError).code).toBe('EADDRINUSE');
    expect((error as Error).message).toBe(`port ${api.port} is in use: another process is listening on 127.0.0.1:${api.port}; stop it or choose another port`);
  });
});

describe('the local metered API when the integration fails', () => {
  let issuer: LocalTokenIssuer;
  let token: string;
  beforeAll(async () => {
    issuer = await LocalTokenIssuer.create();
    token = await issuer.issueIdToken(ACME_USER);
  });

  it('answers 502 for a handler that throws or answers no proxy result, 504 after the integration timeout, 413 for a body over 10 MB; close() delivers every line', async () => {
    const lines: string[] = [];
    const failures: string[] = [];
    let behaviour: 'throw' | 'malformed' | 'slow' = 'throw';
    const api = await startLocalApi({
      issuer,
      usageEventsHandler: async () => {
        if (behaviour === 'throw') throw new Error('boom');
        if (behaviour === 'slow') await new Promise((resolve) => setTimeout(resolve, 300));
        return { statusCode: 'two hundred', body: '' } as unknown as { statusCode: number; body: string };
      },
      accessLogSink: async (batch) => {
        lines.push(...batch);
      },
      accessLogFlushIntervalMs: 0,
      integrationTimeoutMs: 100,
      onIntegrationError: (error, route) => failures.push(`${route}: ${error instanceof Error ? error.message : String(error)}`),
      stage: 'v1',
      apiId: 'abc123',
    });
    const post = (body = '{}') => call(`${api.url}/usage`, { method: 'POST', headers: { Authorization: token }, body });
    const thrown = await post();
    behaviour = 'malformed';
    const malformed = await post();
    behaviour = 'slow';
    const slow = await post();
    const tooLarge = await post('x'.repeat(10 * 1024 * 1024 + 1));
    expect([thrown.status, malformed.status, slow.status, tooLarge.status]).toEqual([502, 502, 504, 413]);
    expect([thrown.body, slow.body, tooLarge.body]).toEqual(['{"message":"Internal server error"}', '{"message":"Endpoint request timed out"}', '{"message":"Request Too Long"}']);
    expect(failures).toEqual(['POST /usage: boom', 'POST /usage: malformed Lambda proxy response: statusCode two hundred is not an HTTP status']);
    expect(lines).toHaveLength(0);
    await api.close();

    const byId = new Map(lines.map((line) => JSON.parse(line) as Record<string, string>).map((line) => [line.request_id, line]));
    expect(byId.size).toBe(4);
    expect(byId.get(thrown.requestId!)).toMatchObject({ status: '502', error_type: 'INTEGRATION_FAILURE', tenant_id: 'acme', stage: 'v1', api_id: 'abc123', path: '/v1/usage' });
    expect(byId.get(slow.requestId!)).toMatchObject({ status: '504', error_type: 'INTEGRATION_TIMEOUT' });
    expect(Number(byId.get(slow.requestId!)!.integration_latency)).toBeGreaterThanOrEqual(90);
    expect(byId.get(tooLarge.requestId!)).toMatchObject({ status: '413', error_type: 'REQUEST_TOO_LARGE', tenant_id: '-', integration_latency: '-' });
  });
});
