/**
 * A local HTTP server for the registration page (never bundled into a Lambda): turns node:http
 * requests into API Gateway proxy events for the same handler the Lambda uses, and its results back
 * into responses. Listens on 127.0.0.1 only.
 *
 * Routes: `/marketplace/register` (the page) and, when `marketplaceRedirect` is set,
 * `GET /test/marketplace-redirect?token=<token>`: a tiny page that posts the token to the page the way
 * AWS Marketplace does from the buyer's browser (an auto-submitting form; a button without JavaScript).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { escapeHtml } from '../../core/marketplace/registration-escape';
import { TOKEN_FIELD } from '../../core/marketplace/registration-form';
import type { RegistrationProxyHandler } from '../../functions/marketplace-registration/registration-handler';
import { readRequestText } from '../http/request-body';

/** The path of the registration page (as in API Gateway). */
export const REGISTRATION_PATH = '/marketplace/register';
/** The path of the simulated Marketplace redirect. */
export const MARKETPLACE_REDIRECT_PATH = '/test/marketplace-redirect';
/** Request bodies above this are refused before reaching the handler (API Gateway's limit is 10 MB). */
const MAX_REQUEST_BYTES = 256 * 1024;

/** Options of {@link startRegistrationServer}. */
export interface RegistrationServerOptions {
  /** @default 0 (any free port) */
  readonly port?: number;
  /** Serve {@link MARKETPLACE_REDIRECT_PATH}. @default false */
  readonly marketplaceRedirect?: boolean;
}

/** A running server. */
export interface RegistrationServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** The URL of the registration page. */
  readonly registrationUrl: string;
  /** The URL that posts `token` to the page like AWS Marketplace (needs `marketplaceRedirect`). */
  marketplaceRedirectUrl(token: string): string;
  close(): Promise<void>;
}

const REDIRECT_SCRIPT = "document.getElementById('marketplace-redirect').submit();";
const REDIRECT_SCRIPT_HASH = `'sha256-${createHash('sha256').update(REDIRECT_SCRIPT, 'utf8').digest('base64')}'`;

function redirectPage(token: string): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><title>AWS Marketplace (simulated)</title></head>',
    '<body><main><h1>AWS Marketplace (simulated)</h1>',
    `<form id="marketplace-redirect" method="post" action="${REGISTRATION_PATH}">`,
    `<input type="hidden" name="${TOKEN_FIELD}" value="${escapeHtml(token)}">`,
    '<noscript><button type="submit">Set up your account</button></noscript>',
    '</form>',
    `<script>${REDIRECT_SCRIPT}</script>`,
    '</main></body></html>',
  ].join('\n');
}

function headersOf(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** An API Gateway (REST, Lambda proxy) event for a request, as API Gateway builds it for a text body. */
function proxyEvent(request: IncomingMessage, url: URL, body: string): APIGatewayProxyEvent {
  const headers = headersOf(request);
  const query = Object.fromEntries(url.searchParams);
  return {
    resource: REGISTRATION_PATH,
    path: url.pathname,
    httpMethod: request.method ?? 'GET',
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: Object.keys(query).length === 0 ? null : query,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: body === '' ? null : body,
    isBase64Encoded: false,
    requestContext: { requestId: randomUUID(), httpMethod: request.method ?? 'GET', path: url.pathname, stage: 'local' },
  } as unknown as APIGatewayProxyEvent;
}

function send(response: ServerResponse, status: number, headers: Record<string, string>, body: string, head: boolean): void {
  response.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
  response.end(head ? undefined : body);
}

/** Starts the server on 127.0.0.1. */
export async function startRegistrationServer(handler: RegistrationProxyHandler, options: RegistrationServerOptions = {}): Promise<RegistrationServer> {
  const server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const head = request.method === 'HEAD';
      try {
        if (url.pathname === REGISTRATION_PATH) {
          const body = await readRequestText(request, MAX_REQUEST_BYTES);
          if (body === undefined) return send(response, 413, { 'content-type': 'text/plain; charset=utf-8' }, 'Request body too large\n', head);
          const result = await handler(proxyEvent(request, url, body));
          return send(response, result.statusCode, Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)])), result.body, head);
        }
        if (options.marketplaceRedirect === true && url.pathname === MARKETPLACE_REDIRECT_PATH && (request.method === 'GET' || head)) {
          return send(response, 200, {
            'content-type': 'text/html; charset=utf-8',
            'content-security-policy': `default-src 'none'; script-src ${REDIRECT_SCRIPT_HASH}; form-action 'self'; base-uri 'none'`,
            'cache-control': 'no-store',
            'referrer-policy': 'no-referrer',
          }, redirectPage(url.searchParams.get('token') ?? ''), head);
        }
        return send(response, 404, { 'content-type': 'text/plain; charset=utf-8' }, 'Not found\n', head);
      } catch {
        if (!response.headersSent) send(response, 500, { 'content-type': 'text/plain; charset=utf-8' }, 'Internal error\n', head);
        else response.destroy();
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    registrationUrl: `${origin}${REGISTRATION_PATH}`,
    marketplaceRedirectUrl: (token) => `${origin}${MARKETPLACE_REDIRECT_PATH}?token=${encodeURIComponent(token)}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
