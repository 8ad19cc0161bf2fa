import type { APIGatewayProxyEvent } from 'aws-lambda';

/** The largest body accepted: 500 events with their properties fit comfortably. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The JSON body of a proxy request, or why it cannot be read (413 too large, 400 otherwise). */
export function parseJsonBody(event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>): { ok: true; value: unknown } | { ok: false; statusCode: 400 | 413; message: string } {
  if (event.body === null || event.body === undefined || event.body === '') return { ok: false, statusCode: 400, message: 'The body is empty: send {"events": [...]}' };
  const bytes = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (bytes.length > MAX_BODY_BYTES) return { ok: false, statusCode: 413, message: `The body is ${bytes.length} bytes; at most ${MAX_BODY_BYTES} are accepted: split the events over several requests` };
  try {
    return { ok: true, value: JSON.parse(bytes.toString('utf8')) };
  } catch {
    return { ok: false, statusCode: 400, message: 'The body is not valid JSON' };
  }
}
