/**
 * The metered API on this machine (never bundled into a Lambda): an HTTP server on 127.0.0.1 that
 * stands in for the REST API stage of `modules/metered-api/metered-api.ts` — its routes, its Cognito
 * authorizer (`local-authorizer.ts`, over tokens of `local-token-issuer.ts`), Lambda proxy events for
 * the real handlers, and one access-log line per request in the stage's format
 * (`access-log-writer.ts`).
 *
 * ```ts
 * const api = await startLocalApi({ issuer, usageEventsHandler, accessLogSink, port: 8080 });
 * await fetch(`${api.url}/random/strings?len=8`, { headers: { Authorization: idToken } });
 * await api.flush(); await api.close();
 * ```
 *
 * What it reproduces of API Gateway:
 * - The invoke URL is `http://127.0.0.1:<port>/<stage>`. Routes: `GET /random/strings` (the real
 *   `functions/random-strings` handler) and `POST /usage` (the usage-events handler given, built with
 *   `createUsageEventsHandler` over the local Firehose), both behind the Cognito authorizer.
 * - A request under the stage that matches no route and method: 403 `{"message":"Missing
 *   Authentication Token"}` (gateway response MISSING_AUTHENTICATION_TOKEN), logged with `-` as its
 *   resource. Outside the stage there is no stage to answer or log: the same 403, not logged.
 * - A missing, invalid or expired token: 401 from the authorizer (see there), logged with error type
 *   UNAUTHORIZED and no claims; the integration does not run.
 * - The proxy event as API Gateway's Lambda proxy integration builds it for a REST API: `resource`,
 *   `path` (without the stage), `httpMethod`, `headers` (as the client spelled them; the last value of
 *   a repeated header) and `multiValueHeaders`, query parameters (last value) and multi-value ones
 *   (`null` when there are none), `body` as text (`null` when empty), `isBase64Encoded` false (the API
 *   has no binary media types), and `requestContext` with the request id, stage, API id, resource,
 *   path with stage, method, source IP and user agent, request time, protocol and the authorizer's
 *   claims (every value a string).
 * - The result: status, headers, multi-value headers and body (base64-decoded when flagged). A
 *   handler that throws, or answers something that is not a proxy result, gives 502 `{"message":
 *   "Internal server error"}`; one that takes longer than 29 s (the integration timeout), 504
 *   `{"message":"Endpoint request timed out"}`. A body over 10 MB: 413 `{"message":"Request Too
 *   Long"}`. Gateway responses carry `x-amzn-RequestId`, and 401/403 `x-amzn-ErrorType`.
 *
 * Lambda's own runtime is not reproduced: no cold starts, concurrency limits or memory limit; each
 * handler runs in this process.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { createRandomStringsHandler, type RandomStringsHandler } from '../../functions/random-strings/handler';
import type { UsageEventsHandler } from '../../functions/usage-events/handler';
import { AccessLogWriter, apiGatewayRequestTime, type AccessLogContext, type AccessLogSink } from './access-log-writer';
import { LocalCognitoAuthorizer, UNAUTHORIZED_RESPONSE_TYPE, type ApiGatewayClaims } from './local-authorizer';
import type { LocalTokenIssuer } from './local-token-issuer';
import { readRequestBody } from '../http/request-body';

/** The stage name the metered API deploys by default. */
export const DEFAULT_STAGE = 'prod';
/** The API id in events and access logs. */
export const DEFAULT_API_ID = 'localapi';
/** API Gateway's payload limit: 10 MB. */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
/** API Gateway's integration timeout for REST APIs: 29 s. */
export const INTEGRATION_TIMEOUT_MS = 29_000;
/** Account id in ARNs of the local Lambda context. */
const ACCOUNT = '000000000000';
/** A stage name API Gateway accepts: letters, digits, `_` and `-`, at most 128. */
const STAGE_NAME = /^[A-Za-z0-9_-]{1,128}$/;

/** The handler of one route: a Lambda proxy handler. */
type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

interface Route {
  readonly method: string;
  readonly resource: string;
  /** The Lambda's name, for its context. */
  readonly functionName: string;
  readonly handler: ProxyHandler;
}

/** Options of {@link startLocalApi}. */
export interface LocalApiOptions {
  /** The port on 127.0.0.1. @default 0 (any free port) */
  readonly port?: number;
  /** The local user pool whose ID tokens the authorizer accepts. */
  readonly issuer: Pick<LocalTokenIssuer, 'userPoolId' | 'clientId' | 'region' | 'jwks'>;
  /** `POST /usage`: the usage-events handler built with `createUsageEventsHandler` (stream on the local Firehose). */
  readonly usageEventsHandler: UsageEventsHandler;
  /** The random-strings handler (`createRandomStringsHandler`). @default one without tenant metrics */
  readonly randomStringsHandler?: RandomStringsHandler;
  /** Where access-log lines go, in batches (e.g. `firehoseAccessLogSink` on the local Firehose). */
  readonly accessLogSink: AccessLogSink;
  /** @default {@link DEFAULT_STAGE} */
  readonly stage?: string;
  /** @default {@link DEFAULT_API_ID} */
  readonly apiId?: string;
  /**
   * The gateway's clock, epoch ms: request times and token expiry (a simulated clock may lag the
   * wall clock; latencies are measured on the monotonic clock). @default Date.now
   */
  readonly now?: () => number;
  /** Hand buffered access-log lines to the sink this often (0: only when 500 are buffered or on flush). @default 1000 */
  readonly accessLogFlushIntervalMs?: number;
  /** Told when an access-log delivery nobody awaits fails (the lines are kept and resent). @default a line on stderr */
  readonly onAccessLogError?: (error: unknown) => void;
  /** Told when a handler throws or answers no proxy result (the caller gets a 502). @default a line on stderr */
  readonly onIntegrationError?: (error: unknown, route: string) => void;
  /** @default {@link INTEGRATION_TIMEOUT_MS} */
  readonly integrationTimeoutMs?: number;
}

/** A running local API. */
export interface LocalApi {
  /** The invoke URL: `http://127.0.0.1:<port>/<stage>`. */
  readonly url: string;
  readonly port: number;
  readonly stage: string;
  readonly apiId: string;
  /** Access-log lines written and not yet delivered to the sink. */
  pendingAccessLogLines(): number;
  /** Delivers every access-log line written so far to the sink (rejects with the sink's error). */
  flush(): Promise<void>;
  /** Stops listening, waits for requests in flight, then delivers the remaining access-log lines. */
  close(): Promise<void>;
}

/** The local API could not start. */
export class LocalApiStartError extends Error {
  override readonly name = 'LocalApiStartError';
  constructor(
    message: string,
    /** The system error code (EADDRINUSE, EACCES, …) when there is one. */
    readonly code?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** What one request became, for its access-log line. */
interface Outcome {
  readonly status: number;
  readonly body: Buffer;
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  readonly resourcePath?: string;
  readonly claims?: ApiGatewayClaims;
  readonly integrationLatency?: number;
  readonly errorResponseType?: string;
  readonly errorMessage?: string;
}

function gatewayResponse(status: number, message: string, responseType: string, extra: Partial<Outcome> = {}, errorType?: string): Outcome {
  return {
    status,
    body: Buffer.from(JSON.stringify({ message }), 'utf8'),
    headers: { 'content-type': 'application/json', ...(errorType === undefined ? {} : { 'x-amzn-ErrorType': errorType }) },
    errorResponseType: responseType,
    errorMessage: message,
    ...extra,
  };
}

/** Values by name, in order; a Map, so that any name (`__proto__` included) is just a name. */
function grouped(pairs: Iterable<readonly [string, string]>): Record<string, string[]> {
  const lists = new Map<string, string[]>();
  for (const [name, value] of pairs) {
    const list = lists.get(name);
    if (list === undefined) lists.set(name, [value]);
    else list.push(value);
  }
  return Object.fromEntries(lists);
}

function headerLists(request: IncomingMessage): Record<string, string[]> {
  const raw = request.rawHeaders;
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i] as string, raw[i + 1] as string]);
  return grouped(pairs);
}

function lastValues(lists: Readonly<Record<string, readonly string[]>>): Record<string, string> {
  return Object.fromEntries(Object.entries(lists).map(([name, values]) => [name, values[values.length - 1] as string]));
}

function queryLists(url: URL): Record<string, string[]> | null {
  const lists = grouped(url.searchParams);
  return Object.keys(lists).length === 0 ? null : lists;
}

function sourceIpOf(request: IncomingMessage): string | undefined {
  const address = request.socket.remoteAddress;
  return address?.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

/** The proxy result, or why it is not one. */
function proxyResult(result: unknown): { ok: true; outcome: Pick<Outcome, 'status' | 'body' | 'headers'> } | { ok: false; reason: string } {
  if (result === null || typeof result !== 'object') return { ok: false, reason: 'the handler returned no object' };
  const r = result as Partial<Record<keyof APIGatewayProxyResult, unknown>>;
  if (typeof r.statusCode !== 'number' || !Number.isInteger(r.statusCode) || r.statusCode < 100 || r.statusCode > 599) return { ok: false, reason: `statusCode ${String(r.statusCode)} is not an HTTP status` };
  if (r.body !== undefined && typeof r.body !== 'string') return { ok: false, reason: 'body is not a string' };
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries((r.headers ?? {}) as Record<string, unknown>)) headers[name] = String(value);
  for (const [name, values] of Object.entries((r.multiValueHeaders ?? {}) as Record<string, unknown>)) {
    if (!Array.isArray(values)) return { ok: false, reason: `multiValueHeaders.${name} is not an array` };
    headers[name] = values.map(String);
  }
  const text = r.body ?? '';
  const body = r.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
  return { ok: true, outcome: { status: r.statusCode, body, headers } };
}

function lambdaContext(functionName: string, region: string, deadline: number): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: '128',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Starts the local API on 127.0.0.1. A busy port rejects with a {@link LocalApiStartError} saying so. */
export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new RangeError(`local API: port must be a whole number from 0 to 65535, got ${port}`);
  const stage = options.stage ?? DEFAULT_STAGE;
  if (!STAGE_NAME.test(stage)) throw new RangeError(`local API: stage must be 1-128 letters, digits, "_" or "-", got ${JSON.stringify(stage)}`);
  const apiId = options.apiId ?? DEFAULT_API_ID;
  if (!/^[a-z0-9]{1,32}$/.test(apiId)) throw new RangeError(`local API: apiId must be 1-32 lowercase letters or digits, got ${JSON.stringify(apiId)}`);
  const now = options.now ?? Date.now;
  const timeoutMs = options.integrationTimeoutMs ?? INTEGRATION_TIMEOUT_MS;
  const region = options.issuer.region;
  const authorizer = new LocalCognitoAuthorizer({ userPoolId: options.issuer.userPoolId, clientId: options.issuer.clientId, jwks: options.issuer.jwks(), now });
  const writer = new AccessLogWriter(options.accessLogSink, {
    ...(options.accessLogFlushIntervalMs === undefined ? {} : { flushIntervalMs: options.accessLogFlushIntervalMs }),
    ...(options.onAccessLogError === undefined ? {} : { onError: options.onAccessLogError }),
  });
  const onIntegrationError = options.onIntegrationError ?? ((error, route) => process.stderr.write(`local API: ${route} failed: ${describe(error)}\n`));
  const routes: readonly Route[] = [
    { method: 'GET', resource: '/random/strings', functionName: 'random-strings', handler: options.randomStringsHandler ?? createRandomStringsHandler({ logger: new Logger({ serviceName: 'random-strings' }) }) },
    { method: 'POST', resource: '/usage', functionName: 'usage-events', handler: options.usageEventsHandler },
  ];
  const stagePrefix = `/${stage}`;

  async function invoke(route: Route, event: APIGatewayProxyEvent): Promise<Outcome> {
    const started = performance.now();
    const context = lambdaContext(route.functionName, region, Date.now() + timeoutMs);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      const result = await Promise.race([route.handler(event, context), timedOut]);
      const integrationLatency = elapsedSince(started);
      const routeName = `${route.method} ${route.resource}`;
      if (result === 'timeout') return gatewayResponse(504, 'Endpoint request timed out', 'INTEGRATION_TIMEOUT', { integrationLatency });
      const parsed = proxyResult(result);
      if (!parsed.ok) {
        onIntegrationError(new Error(`malformed Lambda proxy response: ${parsed.reason}`), routeName);
        return gatewayResponse(502, 'Internal server error', 'INTEGRATION_FAILURE', { integrationLatency });
      }
      return { ...parsed.outcome, integrationLatency };
    } catch (error) {
      onIntegrationError(error, `${route.method} ${route.resource}`);
      return gatewayResponse(502, 'Internal server error', 'INTEGRATION_FAILURE', { integrationLatency: elapsedSince(started) });
    } finally {
      clearTimeout(timer);
    }
  }

  async function handle(request: IncomingMessage, requestId: string, requestTime: number): Promise<{ outcome: Outcome; logged: boolean; path: string }> {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const fullPath = url.pathname;
    const missingToken = () => gatewayResponse(403, 'Missing Authentication Token', 'MISSING_AUTHENTICATION_TOKEN', {}, 'MissingAuthenticationTokenException');
    if (fullPath !== stagePrefix && !fullPath.startsWith(`${stagePrefix}/`)) {
      request.resume();
      return { outcome: missingToken(), logged: false, path: fullPath };
    }
    const path = fullPath.slice(stagePrefix.length) || '/';
    const resource = path.length > 1 ? path.replace(/\/+$/, '') : path;
    const route = routes.find((r) => r.method === method && r.resource === resource);
    if (route === undefined) {
      request.resume();
      return { outcome: missingToken(), logged: true, path: fullPath };
    }
    const body = (await readRequestBody(request, MAX_REQUEST_BYTES)).bytes;
    if (body === undefined) return { outcome: gatewayResponse(413, 'Request Too Long', 'REQUEST_TOO_LARGE', { resourcePath: route.resource }), logged: true, path: fullPath };
    const authorization = authorizer.authorize(request.headers.authorization);
    if (!authorization.ok) {
      return { outcome: gatewayResponse(401, authorization.message, UNAUTHORIZED_RESPONSE_TYPE, { resourcePath: route.resource }, 'UnauthorizedException'), logged: true, path: fullPath };
    }
    const lists = headerLists(request);
    const headers = lastValues(lists);
    const query = queryLists(url);
    const sourceIp = sourceIpOf(request) ?? '127.0.0.1';
    const event = {
      resource: route.resource,
      path,
      httpMethod: method,
      headers,
      multiValueHeaders: lists,
      queryStringParameters: query === null ? null : lastValues(query),
      multiValueQueryStringParameters: query,
      pathParameters: null,
      stageVariables: null,
      body: body.length === 0 ? null : body.toString('utf8'),
      isBase64Encoded: false,
      requestContext: {
        accountId: ACCOUNT,
        apiId,
        authorizer: { claims: { ...authorization.claims } },
        domainName: request.headers.host ?? '127.0.0.1',
        domainPrefix: '127',
        extendedRequestId: requestId,
        httpMethod: method,
        identity: {
          accessKey: null, accountId: null, apiKey: null, apiKeyId: null, caller: null, clientCert: null,
          cognitoAuthenticationProvider: null, cognitoAuthenticationType: null, cognitoIdentityId: null, cognitoIdentityPoolId: null,
          principalOrgId: null, sourceIp, user: null, userAgent: request.headers['user-agent'] ?? null, userArn: null,
        },
        path: fullPath,
        protocol: `HTTP/${request.httpVersion}`,
        requestId,
        requestTime: apiGatewayRequestTime(requestTime),
        requestTimeEpoch: requestTime,
        resourceId: route.functionName,
        resourcePath: route.resource,
        stage,
      },
    } as unknown as APIGatewayProxyEvent;
    const outcome = await invoke(route, event);
    return { outcome: { ...outcome, resourcePath: route.resource, claims: authorization.claims }, logged: true, path: fullPath };
  }

  function respond(response: ServerResponse, requestId: string, outcome: Outcome): void {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(outcome.headers)) {
      if (name.toLowerCase() !== 'content-length') headers[name] = typeof value === 'string' ? value : [...value];
    }
    headers['x-amzn-RequestId'] = requestId;
    headers['content-length'] = String(outcome.body.length);
    response.writeHead(outcome.status, headers);
    response.end(outcome.body);
  }

  const server: Server = createServer((request, response) => {
    const requestTime = now();
    const received = performance.now();
    const requestId = randomUUID();
    response.on('error', () => undefined);
    void (async () => {
      let result: { outcome: Outcome; logged: boolean; path: string };
      try {
        result = await handle(request, requestId, requestTime);
      } catch (error) {
        onIntegrationError(error, `${request.method} ${request.url}`);
        result = { outcome: gatewayResponse(500, 'Internal server error', 'API_CONFIGURATION_ERROR'), logged: true, path: (request.url ?? '/').split('?')[0] as string };
      }
      respond(response, requestId, result.outcome);
      if (!result.logged) return;
      const { outcome } = result;
      const line: AccessLogContext = {
        requestId,
        requestTimeEpoch: requestTime,
        httpMethod: request.method ?? 'GET',
        path: result.path,
        status: outcome.status,
        protocol: `HTTP/${request.httpVersion}`,
        responseLength: outcome.body.length,
        stage,
        apiId,
        responseLatency: elapsedSince(received),
        ...optional('sourceIp', sourceIpOf(request)),
        ...optional('userAgent', request.headers['user-agent']),
        ...optional('resourcePath', outcome.resourcePath),
        ...optional('claims', outcome.claims),
        ...optional('integrationLatency', outcome.integrationLatency),
        ...optional('errorResponseType', outcome.errorResponseType),
        ...optional('errorMessage', outcome.errorMessage),
      };
      writer.write(line);
    })();
  });

  await listen(server, port);
  const actualPort = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actualPort}${stagePrefix}`,
    port: actualPort,
    stage,
    apiId,
    pendingAccessLogLines: () => writer.pendingLines,
    flush: () => writer.flush(),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
      await writer.close();
    },
  };
}

/** Whole milliseconds since a `performance.now()` reading (latencies run on the monotonic clock, not the gateway's). */
function elapsedSince(start: number): number {
  return Math.round(performance.now() - start);
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

async function listen(server: Server, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(new LocalApiStartError(`port ${port} is in use: another process is listening on 127.0.0.1:${port}; stop it or choose another port`, error.code, { cause: error }));
      } else if (error.code === 'EACCES') {
        reject(new LocalApiStartError(`port ${port} cannot be used: permission denied (ports below 1024 need privileges); choose a port from 1024 up`, error.code, { cause: error }));
      } else {
        reject(new LocalApiStartError(`the local API could not listen on 127.0.0.1:${port}: ${describe(error)}`, error.code, { cause: error }));
      }
    });
    server.listen(port, '127.0.0.1', () => resolve());
  });
}
