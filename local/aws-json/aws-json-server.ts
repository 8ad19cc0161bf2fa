/**
 * The HTTP face of a local AWS service: the AWS JSON 1.1 protocol exactly as the AWS SDK's clients
 * speak it (Smithy aws.protocols#awsJson1_1). Every call is `POST /` with
 * `Content-Type: application/x-amz-json-1.1` and `X-Amz-Target: <prefix>.<Operation>`; answers are
 * JSON, errors `{"__type": "<code>", "message": "…"}` with the error's HTTP status, which the SDK maps
 * to its exception classes by `__type`. Loopback only. The SigV4 signature is checked for presence and
 * scope, not verified (fake credentials). The local Marketplace Metering simulator and the local
 * Firehose are both served this way.
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsJsonError } from './aws-json-error';
import { readRequestText } from '../http/request-body';

export { AwsJsonError } from './aws-json-error';

const CONTENT_TYPE = 'application/x-amz-json-1.1';

/**
 * Generic AWS errors carry their Coral namespace in `__type`, as AWS JSON services send them; the SDK
 * keeps the part after '#'. Modelled exceptions go by their short name.
 */
const QUALIFIED_TYPES: Readonly<Record<string, string>> = {
  ValidationException: 'com.amazon.coral.validate#ValidationException',
  SerializationException: 'com.amazon.coral.service#SerializationException',
  UnknownOperationException: 'com.amazon.coral.service#UnknownOperationException',
  InternalFailure: 'com.amazon.coral.service#InternalFailure',
};

/** What distinguishes one service on the wire. */
export interface AwsJsonService {
  /** Named in messages, e.g. `Local Firehose`. */
  readonly label: string;
  /** `X-Amz-Target` prefix (the SDK's `serviceTarget`). */
  readonly targetPrefix: string;
  /** SigV4 signing name (credential scope service). */
  readonly signingName: string;
  /** Operations implemented. */
  readonly operations: ReadonlySet<string>;
  /** Real operations of the service not implemented (answered UnknownOperationException). */
  readonly notSimulated: ReadonlySet<string>;
  /** The largest request body read; a larger one reaches the handler as `undefined`. */
  readonly maxBodyBytes: number;
  /** The answer to an unexpected failure of the handler. */
  internalError(error: unknown): AwsJsonError;
}

/** Handles one operation: gets the raw JSON body (undefined when over the limit), resolves with the answer or throws an AwsJsonError. */
export type OperationHandler = (operation: string, body: string | undefined) => Promise<unknown>;

/** A running protocol server. */
export interface ProtocolServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts the service's protocol server on 127.0.0.1 (`port` 0 = any free port). A port already in use
 * rejects with an error that says so (code EADDRINUSE).
 */
export async function startAwsJsonServer(service: AwsJsonService, handle: OperationHandler, port = 0): Promise<ProtocolServer> {
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new RangeError(`${service.label}: invalid port ${port}`);
  const server = http.createServer((request, response) => {
    void serve(service, request, response, handle);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(Object.assign(new Error(`${service.label}: port ${port} on 127.0.0.1 is already in use; choose another port or pass 0 for any free port`, { cause: error }), { code: 'EADDRINUSE' }));
      } else {
        reject(error);
      }
    });
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    port: address.port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

async function serve(service: AwsJsonService, request: IncomingMessage, response: ServerResponse, handle: OperationHandler): Promise<void> {
  const requestId = randomUUID();
  try {
    const body = await readRequestText(request, service.maxBodyBytes);
    const operation = checkEnvelope(service, request);
    send(response, 200, requestId, await handle(operation, body));
  } catch (error) {
    const failure = error instanceof AwsJsonError ? error : service.internalError(error);
    send(response, failure.httpStatus, requestId, { __type: QUALIFIED_TYPES[failure.code] ?? failure.code, message: failure.message }, failure.code);
  }
}

/** The operation named by a well-formed awsJson1_1 request, or the error the service would answer. */
function checkEnvelope(service: AwsJsonService, request: IncomingMessage): string {
  const target = header(request, 'x-amz-target') ?? '';
  const [prefix, operation = ''] = target.split('.', 2);
  if (request.method !== 'POST' || (request.url ?? '/').split('?')[0] !== '/') {
    throw new AwsJsonError('UnknownOperationException', `${request.method} ${request.url} is not an operation`, 404);
  }
  if (prefix !== service.targetPrefix || !(service.operations.has(operation) || service.notSimulated.has(operation))) {
    throw new AwsJsonError('UnknownOperationException', `Unknown X-Amz-Target '${target}'`, 400);
  }
  if (service.notSimulated.has(operation)) throw new AwsJsonError('UnknownOperationException', `${operation} is not simulated`, 400);
  if (!(header(request, 'content-type') ?? '').startsWith(CONTENT_TYPE)) {
    throw new AwsJsonError('SerializationException', `Content-Type must be ${CONTENT_TYPE}`, 400);
  }
  const authorization = header(request, 'authorization');
  if (authorization === undefined || !authorization.startsWith('AWS4-HMAC-SHA256 ')) {
    throw new AwsJsonError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
  }
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(authorization);
  if (scope?.[1] !== service.signingName) {
    throw new AwsJsonError('InvalidSignatureException', `Credential should be scoped to correct service: '${service.signingName}'`, 403);
  }
  return operation;
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function send(response: ServerResponse, status: number, requestId: string, body: unknown, errorType?: string): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': requestId,
    ...(errorType !== undefined ? { 'x-amzn-errortype': errorType } : {}),
  });
  response.end(text);
}
