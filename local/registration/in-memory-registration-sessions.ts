import type { MarketplaceIdentity } from '../../core/marketplace/identity';
import type { RegistrationSession, RegistrationSessions, TokenRecord } from '../../core/marketplace/registration-ports';

/**
 * {@link RegistrationSessions} in memory, with the DynamoDB adapter's semantics (an expired item is
 * never returned; consume is atomic) — for unit tests and a local runtime without dynalite.
 */
export class InMemoryRegistrationSessions implements RegistrationSessions {
  readonly sessions = new Map<string, RegistrationSession>();
  readonly tokens = new Map<string, TokenRecord>();
  // Expiry of token records is not modelled: they outlive any test.

  async open(session: RegistrationSession): Promise<void> {
    if (this.sessions.has(session.sessionId)) throw new Error('session id already exists');
    this.sessions.set(session.sessionId, { ...session });
  }

  async find(sessionId: string, now: number): Promise<RegistrationSession | undefined> {
    return this.live(sessionId, now);
  }

  async consume(sessionId: string, now: number): Promise<RegistrationSession | undefined> {
    // Read and delete in one synchronous step: concurrent callers cannot both get the session.
    const session = this.live(sessionId, now);
    if (session !== undefined) this.sessions.delete(sessionId);
    return session;
  }

  private live(sessionId: string, now: number): RegistrationSession | undefined {
    const session = this.sessions.get(sessionId);
    return session !== undefined && session.expiresAt > now ? session : undefined;
  }

  async findToken(tokenHash: string): Promise<TokenRecord | undefined> {
    return this.tokens.get(tokenHash);
  }

  async recordToken(tokenHash: string, identity: MarketplaceIdentity, now: number): Promise<TokenRecord> {
    const existing = this.tokens.get(tokenHash);
    if (existing !== undefined) return existing;
    const record: TokenRecord = { status: 'pending', identity, resolvedAt: now };
    this.tokens.set(tokenHash, record);
    return record;
  }

  async completeToken(tokenHash: string, tenantId: string): Promise<void> {
    this.tokens.set(tokenHash, { status: 'completed', tenantId });
  }
}
