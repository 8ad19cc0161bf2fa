import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { RegistrationFlow } from '../../core/marketplace/registration-flow';

/** The header's value, whatever its case (API Gateway REST keeps the case the client sent). */
export function headerOf(headers: APIGatewayProxyEvent['headers'] | null | undefined, name: string): string | undefined {
  if (headers === null || headers === undefined) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

/** An API Gateway proxy event handler (REST API, Lambda proxy integration) over the registration flow. */
export type RegistrationProxyHandler = (event: Pick<APIGatewayProxyEvent, 'httpMethod' | 'headers' | 'body' | 'isBase64Encoded'>) => Promise<APIGatewayProxyResult>;

/**
 * Maps API Gateway proxy events to the registration flow and its pages back: method, `Content-Type`,
 * `body` and `isBase64Encoded` in; status, headers (HTML, security headers) and HTML out.
 */
export function createRegistrationHandler(flow: RegistrationFlow): RegistrationProxyHandler {
  return async (event) => {
    const response = await flow({
      method: event.httpMethod ?? 'GET',
      body: event.body,
      isBase64Encoded: event.isBase64Encoded === true,
      contentType: headerOf(event.headers, 'content-type'),
    });
    return { statusCode: response.statusCode, headers: { ...response.headers }, body: response.body };
  };
}
