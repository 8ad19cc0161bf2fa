/**
 * The HTTP face of the simulator: the AWS JSON 1.1 protocol exactly as the AWS SDK's
 * MarketplaceMeteringClient speaks it (Smithy model: aws.protocols#awsJson1_1, target prefix
 * AWSMPMeteringService, SigV4 signing name aws-marketplace). Every call is `POST /` with
 * `Content-Type: application/x-amz-json-1.1` and `X-Amz-Target: AWSMPMeteringService.<Operation>`;
 * answers are JSON, errors `{"__type": "<code>", "message": "…"}` with HTTP 400 (client faults) or 500
 * (InternalServiceErrorException), which the SDK maps to its exception classes by `__type`.
 * Loopback only. The SigV4 signature is checked for presence and scope, not verified (fake credentials).
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_REQUEST_BYTES, MeteringServiceError, type MeteringErrorCode } from './metering-rules';

/** `X-Amz-Target` prefix of the Metering Service. */
export const TARGET_PREFIX = 'AWSMPMeteringService';
/** SigV4 signing name (credential scope service) of the Metering Service. */
export const SIGNING_NAME = 'aws-marketplace';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
const OPERATIONS = new Set(['BatchMeterUsage', 'ResolveCustomer']);
/** Real operations of the service the simulator does not implement. */
const NOT_SIMULATED = new Set(['MeterUsage', 'RegisterUsage']);

/**
 * Generic AWS errors carry their Coral namespace in `__type`, as AWS JSON services send them; the SDK
 * keeps the part after '#'. Modelled exceptions go by their short name.
 */
const QUALIFIED_TYPES: Partial<Record<MeteringErrorCode, string>> = {
  ValidationException: 'com.amazon.coral.validate#ValidationException',
  SerializationException: 'com.amazon.coral.service#SerializationException',
  UnknownOperationException: 'com.amazon.coral.service#UnknownOperationException',
};

/** Handles one operation: gets the raw JSON body, resolves with the answer body or throws MeteringServiceError. */
export type OperationHandler = (operation: string, body: string) => Promise<unknown>;

/** A running protocol server. */
export interface ProtocolServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  close(): Promise<void>;
}

/** Parses a JSON request body; malformed JSON is the service's SerializationException. */
export function parseJsonBody(body: string): unknown {
  try {
    return body.length === 0 ? {} : JSON.parse(body);
  } catch {
    throw new MeteringServiceError('SerializationException', 'The request body is not valid JSON');
  }
}

/** Starts the protocol server on 127.0.0.1 (`port` 0 = any free port). */
export async function startProtocolServer(handle: OperationHandler, port = 0): Promise<ProtocolServer> {
  const server = http.createServer((request, response) => {
    void serve(request, response, handle);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

async function serve(request: IncomingMessage, response: ServerResponse, handle: OperationHandler): Promise<void> {
  const requestId = randomUUID();
  try {
    const body = await readBody(request);
    const operation = checkEnvelope(request);
    if (body === undefined) throw new MeteringServiceError('ValidationException', `The request must be less than ${MAX_REQUEST_BYTES} bytes`);
    const output = await handle(operation, body);
    send(response, 200, requestId, output);
  } catch (error) {
    const failure = error instanceof MeteringServiceError ? error : new MeteringServiceError('InternalServiceErrorException', `Simulator failure: ${String(error)}`);
    send(response, failure.httpStatus, requestId, { __type: QUALIFIED_TYPES[failure.code] ?? failure.code, message: failure.message }, failure.code);
  }
}

/** The operation named by a well-formed awsJson1_1 request, or the error the service would answer. */
function checkEnvelope(request: IncomingMessage): string {
  const target = header(request, 'x-amz-target') ?? '';
  const [prefix, operation = ''] = target.split('.', 2);
  if (request.method !== 'POST' || (request.url ?? '/').split('?')[0] !== '/') {
    throw new MeteringServiceError('UnknownOperationException', `${request.method} ${request.url} is not an operation`, 404);
  }
  if (prefix !== TARGET_PREFIX || !(OPERATIONS.has(operation) || NOT_SIMULATED.has(operation))) {
    throw new MeteringServiceError('UnknownOperationException', `Unknown X-Amz-Target '${target}'`);
  }
  if (NOT_SIMULATED.has(operation)) throw new MeteringServiceError('UnknownOperationException', `${operation} is not simulated`);
  if (!(header(request, 'content-type') ?? '').startsWith(CONTENT_TYPE)) {
    throw new MeteringServiceError('SerializationException', `Content-Type must be ${CONTENT_TYPE}`);
  }
  const authorization = header(request, 'authorization');
  if (authorization === undefined || !authorization.startsWith('AWS4-HMAC-SHA256 ')) {
    throw new MeteringServiceError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
  }
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(authorization);
  if (scope?.[1] !== SIGNING_NAME) {
    throw new MeteringServiceError('InvalidSignatureException', `Credential should be scoped to correct service: '${SIGNING_NAME}'`, 403);
  }
  return operation;
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The body as text, or undefined when it reaches MAX_REQUEST_BYTES (read to the end either way). */
function readBody(request: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size < MAX_REQUEST_BYTES) chunks.push(chunk);
    });
    request.on('end', () => resolve(size < MAX_REQUEST_BYTES ? Buffer.concat(chunks).toString('utf8') : undefined));
    request.on('error', reject);
  });
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
