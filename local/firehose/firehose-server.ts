/**
 * The HTTP face of the local Firehose: the AWS JSON 1.1 protocol exactly as the AWS SDK's
 * FirehoseClient speaks it (Smithy model: aws.protocols#awsJson1_1, target prefix Firehose_20150804,
 * SigV4 signing name firehose). Every call is `POST /` with `Content-Type: application/x-amz-json-1.1`
 * and `X-Amz-Target: Firehose_20150804.<Operation>`; answers are JSON, errors
 * `{"__type": "<code>", "message": "…"}` with the HTTP status of the error (400 for client faults,
 * 503 for ServiceUnavailableException as modelled, 500 for InternalFailure), which the SDK maps to its
 * exception classes by `__type`. Loopback only. The SigV4 signature is checked for presence and scope,
 * not verified (fake credentials). The protocol itself is local/aws-json/aws-json-server.ts.
 */
import { AwsJsonError, startAwsJsonServer, type AwsJsonService, type OperationHandler, type ProtocolServer } from '../aws-json/aws-json-server';

/** `X-Amz-Target` prefix of Firehose (the SDK's `serviceTarget`). */
export const TARGET_PREFIX = 'Firehose_20150804';
/** SigV4 signing name (credential scope service) of Firehose. */
export const SIGNING_NAME = 'firehose';
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

/** An error answer of the service. */
export class FirehoseServiceError extends AwsJsonError {
  declare readonly code: FirehoseErrorCode;

  constructor(code: FirehoseErrorCode, message: string, httpStatus?: number) {
    super(code, message, httpStatus ?? STATUS[code] ?? 400);
    this.name = 'FirehoseServiceError';
  }
}

export type { OperationHandler, ProtocolServer } from '../aws-json/aws-json-server';

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

/** The local Firehose on the wire. */
const FIREHOSE_SERVICE: AwsJsonService = {
  label: 'Local Firehose',
  targetPrefix: TARGET_PREFIX,
  signingName: SIGNING_NAME,
  operations: OPERATIONS,
  notSimulated: NOT_SIMULATED,
  maxBodyBytes: MAX_BODY_BYTES,
  internalError: (error) => new FirehoseServiceError('InternalFailure', `Local Firehose failure: ${String(error)}`),
};

/**
 * Starts the protocol server on 127.0.0.1 (`port` 0 = any free port). A port already in use rejects
 * with an error that says so (code EADDRINUSE).
 */
export function startProtocolServer(handle: OperationHandler, port = 0): Promise<ProtocolServer> {
  return startAwsJsonServer(FIREHOSE_SERVICE, handle, port);
}
