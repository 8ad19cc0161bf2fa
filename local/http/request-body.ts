import type { IncomingMessage } from 'node:http';

/** A request body as read by the local servers. */
export interface RequestBody {
  /** The body, or undefined when it passed the limit (then nothing of it is kept). */
  readonly bytes: Buffer | undefined;
  /** Its size in bytes, counted to the end even past the limit. */
  readonly size: number;
}

/**
 * Reads a request's body to the end (so the connection stays usable for the answer), keeping it only
 * when it is at most `maxBytes`: what every local server does before it answers, a 413 included.
 */
export async function readRequestBody(request: IncomingMessage, maxBytes: number): Promise<RequestBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size <= maxBytes) chunks.push(chunk as Buffer);
  }
  return { bytes: size <= maxBytes ? Buffer.concat(chunks) : undefined, size };
}

/** {@link readRequestBody} as UTF-8 text (undefined past the limit). */
export async function readRequestText(request: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  return (await readRequestBody(request, maxBytes)).bytes?.toString('utf8');
}
