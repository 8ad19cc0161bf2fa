/**
 * The access-log field list: the one place that says what API Gateway logs for every request.
 *
 * The stage's access-log format string and the ingestion transform's schema are both derived from
 * this list, so they cannot drift apart. The first nine fields keep the names of the original demo
 * (`request_id … response_length`); the rest add what billing and cost allocation need.
 *
 * Every value is written as a JSON string (quoted) in the log line, numbers included: API Gateway
 * writes `-` for a value it does not have, and an unquoted `-` would make the whole line invalid JSON.
 * The transform parses each value back to its declared type.
 */

/** How a field's text is turned into a typed value by the ingestion transform. */
export type AccessLogFieldType =
  /** Free text. */
  | 'string'
  /** A whole number (HTTP status, byte counts, latencies). */
  | 'integer'
  /** Epoch milliseconds, normalised to a timestamp that keeps the milliseconds. */
  | 'epoch_millis'
  /** An IPv4 or IPv6 address. */
  | 'ip';

export interface AccessLogField {
  /** Column name in the log line and in the Iceberg table. */
  readonly name: string;
  /** The API Gateway `$context` variable that fills it. */
  readonly source: string;
  readonly type: AccessLogFieldType;
  /**
   * Whether API Gateway may legitimately write `-` (no value) here. A `-` in a field that is not
   * nullable makes the record invalid; in a nullable field it becomes null.
   */
  readonly nullable: boolean;
  /** What the field means, for the table comment and the docs. */
  readonly description: string;
}

/** The claim of the verified Cognito token that carries the caller's tenant. */
export const TENANT_CLAIM = 'custom:tenant_id';

export const ACCESS_LOG_FIELDS: readonly AccessLogField[] = [
  { name: 'request_id', source: '$context.requestId', type: 'string', nullable: false, description: 'API Gateway request id; unique per request, the de-duplication key' },
  { name: 'ip', source: '$context.identity.sourceIp', type: 'ip', nullable: true, description: 'caller source IP address' },
  { name: 'user', source: "$context.authorizer.claims['cognito:username']", type: 'string', nullable: true, description: 'Cognito user name of the caller (absent when the authorizer rejected the request)' },
  { name: 'request_time', source: '$context.requestTimeEpoch', type: 'epoch_millis', nullable: false, description: 'when API Gateway received the request, epoch milliseconds' },
  { name: 'http_method', source: '$context.httpMethod', type: 'string', nullable: false, description: 'HTTP method' },
  { name: 'resource_path', source: '$context.resourcePath', type: 'string', nullable: true, description: 'API resource path template, e.g. /random/strings (absent when no resource matched: API Gateway answered 403 itself)' },
  { name: 'status', source: '$context.status', type: 'integer', nullable: false, description: 'HTTP status returned to the caller' },
  { name: 'protocol', source: '$context.protocol', type: 'string', nullable: true, description: 'request protocol, e.g. HTTP/1.1' },
  { name: 'response_length', source: '$context.responseLength', type: 'integer', nullable: true, description: 'response payload length in bytes' },
  { name: 'tenant_id', source: `$context.authorizer.claims['${TENANT_CLAIM}']`, type: 'string', nullable: true, description: 'tenant of the caller, from the verified token claim only' },
  { name: 'path', source: '$context.path', type: 'string', nullable: true, description: 'request path including the stage' },
  { name: 'stage', source: '$context.stage', type: 'string', nullable: false, description: 'API stage name' },
  { name: 'api_id', source: '$context.apiId', type: 'string', nullable: false, description: 'REST API id' },
  { name: 'response_latency', source: '$context.responseLatency', type: 'integer', nullable: true, description: 'milliseconds from request received to response sent' },
  { name: 'integration_latency', source: '$context.integration.latency', type: 'integer', nullable: true, description: 'milliseconds spent in the backend integration' },
  { name: 'error_type', source: '$context.error.responseType', type: 'string', nullable: true, description: 'API Gateway gateway-response type when API Gateway answered the request itself (e.g. UNAUTHORIZED, THROTTLED)' },
];

/** The value API Gateway writes for a variable it has no value for. */
export const ABSENT_VALUE = '-';

/**
 * The API Gateway access-log format: one JSON object per line, every field quoted (see the module
 * comment), keys in the order of {@link ACCESS_LOG_FIELDS}.
 */
export function accessLogFormat(fields: readonly AccessLogField[] = ACCESS_LOG_FIELDS): string {
  return `{${fields.map((field) => `"${field.name}":"${field.source}"`).join(',')}}`;
}
