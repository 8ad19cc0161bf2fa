/**
 * Registration session ids and token hashes. A session id is a bearer secret for 30 minutes (whoever
 * holds it can register as the buyer it was opened for), so it is 256 random bits and never logged;
 * logs carry {@link sessionFingerprint}. Tokens are stored only as SHA-256 hashes.
 */
import { createHash, randomBytes } from 'node:crypto';

/** How long the form may be submitted after the token was posted. */
export const SESSION_TTL_MS = 30 * 60 * 1000;
/**
 * How long a token's replay record is kept. Marketplace does not document how long a token can be
 * resolved; 30 days is well beyond any plausible lifetime and costs one small item per registration.
 */
export const TOKEN_RECORD_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * How long a token posted again (back, refresh, a second tab) opens a session from its recorded
 * identity without calling ResolveCustomer again; later, Marketplace decides again (it may refuse a
 * resubmitted or old token as expired).
 */
export const TOKEN_REUSE_WINDOW_MS = 60 * 60 * 1000;

const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** A new session id: 32 random bytes, base64url (43 characters, no padding). */
export function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}

/** Whether a value has the shape of a session id (checked before any lookup). */
export function isSessionId(value: string): boolean {
  return SESSION_ID.test(value);
}

/** SHA-256 (hex) of a registration token: the key of its replay record. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A short, non-reversible reference to a session for logs (12 hex digits of its SHA-256). */
export function sessionFingerprint(sessionId: string): string {
  return createHash('sha256').update(sessionId, 'utf8').digest('hex').slice(0, 12);
}

/** Epoch ms → epoch seconds, rounded up (a DynamoDB TTL attribute must be in seconds). */
export function ttlSeconds(epochMs: number): number {
  return Math.ceil(epochMs / 1000);
}
