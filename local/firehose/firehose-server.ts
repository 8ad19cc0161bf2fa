/**
 * The HTTP face of the local Firehose: the AWS JSON 1.1 protocol exactly as the AWS SDK's
 * FirehoseClient speaks it (Smithy model: aws.protocols#awsJson1_1, target prefix Firehose_20150804,
 * SigV4 signing name firehose). Every call is `POST /` with `Content-Type: application/x-amz-json-1.1`
 * and `X-Amz-Target: Firehose_20150804.<Operation>`; answers are JSON, errors
 * `{"__type": "<code>", "message": "…"}` with the HTTP status of the error (400 for client faults,
 * 503 for ServiceUnavailableException as modelled, 500 for InternalFailure), which the SDK maps to its
 * exception classes by `__type`. Loopback only. The SigV4 signature is checked for presence and scope,
 * not verified (fake credentials). Same design as local/marketplace/simulator-server.ts.
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** `X-Amz-Target` prefix of Firehose (the SDK's `serviceTarget`). */
export const TARGET_PREFIX = 'Firehose_20150804';
/** SigV4 signing name (credential scope service) of Firehose. */
export const SIGNING_NAME = 'firehose';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
/** Operations the local Firehose implements. */
export const OPERATIONS = new Set(['PutRecordBatch', 'PutRecord']);
/** Real operations of the service it does not implement (answered UnknownOperationException). */
const NOT_SIMULATED = new Set([
  'CreateDeliveryStream', 'DeleteDeliveryStream', 'DescribeDeliveryStream', 'ListDeliveryStreams', 'ListTagsForDeliveryStream',
  'StartDeliveryStreamEncryption', 'StopDeliveryStreamEncryption', 'TagDeliveryStream', 'UntagDeliveryStream', 'UpdateDestination',
]);
/**
 * The largest request body read. A PutRecordBatch of 4 MiB of data is about 5.6 MB of JSON once the
 * data is base64-encoded; any body over this limit carries more than 4 MiB of data.
 */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** Error codes the local Firehose answers with: the modelled exceptions plus the generic AWS ones. */
export type FirehoseErrorCode =
  | 'ValidationException'
  | 'SerializationException'
  | 'UnknownOperationException'
  | 'MissingAuthenticationTokenException'
  | 'InvalidSignatureException'
  | 'AccessDeniedException'
  | 'InvalidArgumentException'
  | 'InvalidKMSResourceException'
  | 'InvalidSourceException'
  | 'ResourceNotFoundException'
  | 'ServiceUnavailableException'
  | 'InternalFailure';

/** HTTP status per error code: ServiceUnavailableException is modelled with httpError 503. */
const STATUS: Partial<Record<FirehoseErrorCode, number>> = {
  ServiceUnavailableException: 503,
  InternalFailure: 500,
  MissingAuthenticationTokenException: 403,
  InvalidSignatureException: 403,
};

/**
 * Generic AWS errors carry their Coral namespace in `__type`, as AWS JSON services send them; the SDK
 * keeps the part after '#'. Modelled exceptions go by their short name.
 */
const QUALIFIED_TYPES: Partial<Record<FirehoseErrorCode, string>> = {
  ValidationException: 'com.amazon.coral.validate#ValidationException',
  SerializationException: 'com.amazon.coral.service#SerializationException',
  UnknownOperationException: 'com.amazon.coral.service#UnknownOperationException',
  InternalFailure: 'com.amazon.coral.service#InternalFailure',
};

/** An error answer of the service. */
export class FirehoseServiceError extends Error {
  readonly httpStatus: number;

  constructor(
    readonly code: FirehoseErrorCode,
    message: string,
    httpStatus?: number,
  ) {
    super(message);
    this.name = 'FirehoseServiceError';
    this.httpStatus = httpStatus ?? STATUS[code] ?? 400;
  }
}

/** Handles one operation: gets the raw JSON body (undefined when over MAX_BODY_BYTES), resolves with the answer or throws FirehoseServiceError. */
export type OperationHandler = (operation: string, body: string | undefined) => Promise<unknown>;

/** A running protocol server. */
export interface ProtocolServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Parses a JSON request body; malformed JSON (or not an object) is the service's SerializationException. */
export function parseJsonBody(body: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = body.length === 0 ? {} : JSON.parse(body);
  } catch {
    throw new FirehoseServiceError('SerializationException', 'The request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FirehoseServiceError('SerializationException', 'The request body must be a JSON object');
  return value as Record<string, unknown>;
}

/**
 * Starts the protocol server on 127.0.0.1 (`port` 0 = any free port). A port already in use rejects
 * with an error that says so (code EADDRINUSE).
 */
export async function startProtocolServer(handle: OperationHandler, port = 0): Promise<ProtocolServer> {
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new RangeError(`Local Firehose: invalid port ${port}`);
  const server = http.createServer((request, response) => {
    void serve(request, response, handle);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(Object.assign(new Error(`Local Firehose: port ${port} on 127.0.0.1 is already in use; choose another port or pass 0 for any free port`, { cause: error }), { code: 'EADDRINUSE' }));
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

async function serve(request: IncomingMessage, response: ServerResponse, handle: OperationHandler): Promise<void> {
  const requestId = randomUUID();
  try {
    const body = await readBody(request);
    const operation = checkEnvelope(request);
    const output = await handle(operation, body);
    send(response, 200, requestId, output);
  } catch (error) {
    const failure = error instanceof FirehoseServiceError ? error : new FirehoseServiceError('InternalFailure', `Local Firehose failure: ${String(error)}`);
    send(response, failure.httpStatus, requestId, { __type: QUALIFIED_TYPES[failure.code] ?? failure.code, message: failure.message }, failure.code);
  }
}

/** The operation named by a well-formed awsJson1_1 request, or the error the service would answer. */
function checkEnvelope(request: IncomingMessage): string {
  const target = header(request, 'x-amz-target') ?? '';
  const [prefix, operation = ''] = target.split('.', 2);
  if (request.method !== 'POST' || (request.url ?? '/').split('?')[0] !== '/') {
    throw new FirehoseServiceError('UnknownOperationException', `${request.method} ${request.url} is not an operation`, 404);
  }
  if (prefix !== TARGET_PREFIX || !(OPERATIONS.has(operation) || NOT_SIMULATED.has(operation))) {
    throw new FirehoseServiceError('UnknownOperationException', `Unknown X-Amz-Target '${target}'`);
  }
  if (NOT_SIMULATED.has(operation)) throw new FirehoseServiceError('UnknownOperationException', `${operation} is not simulated`);
  if (!(header(request, 'content-type') ?? '').startsWith(CONTENT_TYPE)) {
    throw new FirehoseServiceError('SerializationException', `Content-Type must be ${CONTENT_TYPE}`);
  }
  const authorization = header(request, 'authorization');
  if (authorization === undefined || !authorization.startsWith('AWS4-HMAC-SHA256 ')) {
    throw new FirehoseServiceError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(authorization);
  if (scope?.[1] !== SIGNING_NAME) {
    throw new FirehoseServiceError('InvalidSignatureException', `Credential should be scoped to correct service: '${SIGNING_NAME}'`);
  }
  return operation;
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The body as text, or undefined when it passes MAX_BODY_BYTES (read to the end either way). */
function readBody(request: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => resolve(size <= MAX_BODY_BYTES ? Buffer.concat(chunks).toString('utf8') : undefined));
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
