import type { APIGatewayProxyResult } from 'aws-lambda';

const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
} as const;

/** A JSON response for API Gateway's Lambda proxy integration. */
export function jsonResponse(statusCode: number, body: unknown): APIGatewayProxyResult {
  return { statusCode, headers: { ...JSON_HEADERS }, body: JSON.stringify(body) };
}

/** A 400 response with a message and the list of problems that caused it. */
export function badRequest(message: string, errors: readonly unknown[]): APIGatewayProxyResult {
  return jsonResponse(400, { message, errors });
}
