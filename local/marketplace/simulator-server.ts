/**
 * The HTTP face of the simulator: the AWS JSON 1.1 protocol exactly as the AWS SDK's
 * MarketplaceMeteringClient speaks it (Smithy model: aws.protocols#awsJson1_1, target prefix
 * AWSMPMeteringService, SigV4 signing name aws-marketplace). Every call is `POST /` with
 * `Content-Type: application/x-amz-json-1.1` and `X-Amz-Target: AWSMPMeteringService.<Operation>`;
 * answers are JSON, errors `{"__type": "<code>", "message": "…"}` with HTTP 400 (client faults) or 500
 * (InternalServiceErrorException), which the SDK maps to its exception classes by `__type`.
 * Loopback only. The SigV4 signature is checked for presence and scope, not verified (fake credentials).
 * The protocol itself is local/aws-json/aws-json-server.ts.
 */
import { startAwsJsonServer, type AwsJsonService, type ProtocolServer } from '../aws-json/aws-json-server';
import { MAX_REQUEST_BYTES, MeteringServiceError } from './metering-rules';

/** `X-Amz-Target` prefix of the Metering Service. */
export const TARGET_PREFIX = 'AWSMPMeteringService';
/** SigV4 signing name (credential scope service) of the Metering Service. */
export const SIGNING_NAME = 'aws-marketplace';
const OPERATIONS = new Set(['BatchMeterUsage', 'ResolveCustomer']);
/** Real operations of the service the simulator does not implement. */
const NOT_SIMULATED = new Set(['MeterUsage', 'RegisterUsage']);

/** The Metering Service on the wire. */
const METERING_SERVICE: AwsJsonService = {
  label: 'Marketplace simulator',
  targetPrefix: TARGET_PREFIX,
  signingName: SIGNING_NAME,
  operations: OPERATIONS,
  notSimulated: NOT_SIMULATED,
  // Bodies of MAX_REQUEST_BYTES and more are refused.
  maxBodyBytes: MAX_REQUEST_BYTES - 1,
  internalError: (error) => new MeteringServiceError('InternalServiceErrorException', `Simulator failure: ${String(error)}`),
};

/** Handles one operation: gets the raw JSON body, resolves with the answer body or throws MeteringServiceError. */
export type OperationHandler = (operation: string, body: string) => Promise<unknown>;

/** Parses a JSON request body; malformed JSON is the service's SerializationException. */
export function parseJsonBody(body: string): unknown {
  try {
    return body.length === 0 ? {} : JSON.parse(body);
  } catch {
    throw new MeteringServiceError('SerializationException', 'The request body is not valid JSON');
  }
}

/** Starts the protocol server on 127.0.0.1 (`port` 0 = any free port). */
export function startProtocolServer(handle: OperationHandler, port = 0): Promise<ProtocolServer> {
  return startAwsJsonServer(METERING_SERVICE, async (operation, body) => {
    if (body === undefined) throw new MeteringServiceError('ValidationException', `The request must be less than ${MAX_REQUEST_BYTES} bytes`);
    return handle(operation, body);
  }, port);
}
