/**
 * The ports of the registration page: resolving AWS Marketplace's registration token, keeping
 * registration sessions and token records, publishing to the control plane, and logging. AWS adapters:
 * `adapters/marketplace/resolve-customer.ts`, `adapters/dynamodb/dynamodb-registration-sessions.ts`,
 * `adapters/eventbridge/eventbridge-event-publisher.ts`; local ones live in `local/registration/`.
 */
import type { MarketplaceIdentity } from './identity';

/** Why ResolveCustomer refused a token: unknown to Marketplace, or expired (or resubmitted). */
export type TokenProblem = 'invalid' | 'expired';

/** ResolveCustomer refused the token (InvalidTokenException / ExpiredTokenException). */
export class RegistrationTokenError extends Error {
  constructor(readonly problem: TokenProblem) {
    super(problem === 'invalid' ? 'the registration token is invalid' : 'the registration token has expired');
    this.name = 'RegistrationTokenError';
  }
}

/** Turns a registration token into the buyer's identity (AWS Marketplace ResolveCustomer). */
export interface CustomerResolver {
  /** Throws {@link RegistrationTokenError} for a refused token; any other error is the service's. */
  resolve(token: string): Promise<MarketplaceIdentity>;
}

/** An open registration: who the buyer is, until when the form may be submitted. */
export interface RegistrationSession {
  /** 256 random bits, base64url (43 characters). */
  readonly sessionId: string;
  readonly identity: MarketplaceIdentity;
  /** SHA-256 (hex) of the token that opened it: marks the token completed after registration. */
  readonly tokenHash: string;
  readonly createdAt: number;
  /** Epoch ms after which the session cannot be used. */
  readonly expiresAt: number;
}

/**
 * The replay record of a token: `pending` once ResolveCustomer accepted it (with the identity, so that
 * posting the token again — back, refresh — need not resolve it again: Marketplace may answer a
 * resubmitted token with ExpiredTokenException), `completed` once it registered a tenant.
 */
export type TokenRecord =
  | { readonly status: 'pending'; readonly identity: MarketplaceIdentity; readonly resolvedAt: number }
  | { readonly status: 'completed'; readonly tenantId: string };

/**
 * Registration sessions and the replay records of tokens (the tenant table: `REGSESSION#<id>` and
 * `REGTOKEN#<sha256>`; both expire through DynamoDB TTL on `expiresAt`, in seconds).
 */
export interface RegistrationSessions {
  /** Stores a new session (its id must not exist). */
  open(session: RegistrationSession): Promise<void>;
  /** The session if it exists and has not expired at `now`; does not consume it. */
  find(sessionId: string, now: number): Promise<RegistrationSession | undefined>;
  /** Deletes the session if it exists and has not expired at `now`, returning it; at most one caller gets it. */
  consume(sessionId: string, now: number): Promise<RegistrationSession | undefined>;
  /** The record of a token, undefined when it was never resolved (or its record expired). */
  findToken(tokenHash: string): Promise<TokenRecord | undefined>;
  /**
   * Records a resolved token as pending (conditional put: an existing record is kept). Returns the
   * record as it is afterwards (the existing one, when there was one).
   */
  recordToken(tokenHash: string, identity: MarketplaceIdentity, now: number, expiresAt: number): Promise<TokenRecord>;
  /** Marks a token completed by the registration of `tenantId`. */
  completeToken(tokenHash: string, tenantId: string, now: number, expiresAt: number): Promise<void>;
}

/**
 * Structured logging (Powertools' Logger fits). Never pass the token, a session id or contact details:
 * the flow logs only a session fingerprint, the tenant id and the outcome.
 */
export interface RegistrationLog {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}
