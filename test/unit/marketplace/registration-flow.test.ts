/**
 * The registration flow over in-memory ports: every page and status, replay protection, sessions,
 * saving with a retry, publishing, and what is (never) logged.
 */
import { identityMatches, type EventIdentity, type MarketplaceIdentity } from '../../../core/marketplace/identity';
import { createRegistrationFlow, type RegistrationFlow, type RegistrationRequest } from '../../../core/marketplace/registration-flow';
import type { ControlPlaneEvent, EventPublisher } from '../../../core/marketplace/control-plane-events';
import { RegistrationTokenError, type CustomerResolver } from '../../../core/marketplace/registration-ports';
import { hashToken, SESSION_TTL_MS, TOKEN_REUSE_WINDOW_MS } from '../../../core/marketplace/registration-session';
import { DETAIL_TYPES } from '../../../core/marketplace/subscription-effects';
import { applySubscriptionEvent } from '../../../core/marketplace/subscription-lifecycle';
import type { Tenant } from '../../../core/marketplace/tenant';
import { TenantVersionConflict, type OutboxEvent, type TenantRegistry, type VersionedTenant } from '../../../core/marketplace/tenant-registry';
import { InMemoryRegistrationSessions } from '../../../local/registration/in-memory-registration-sessions';
import { MemoryLog } from '../../../local/registration/memory-log';

const T0 = Date.UTC(2026, 2, 1, 9);
const PRODUCT = 'prod-a';
const LICENSE: MarketplaceIdentity = { kind: 'license', customerAWSAccountId: '111122223333', licenseArn: 'arn:aws:license-manager::294406891311:license:l-0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d', productCode: PRODUCT };
const LEGACY: MarketplaceIdentity = { kind: 'customer-identifier', customerIdentifier: 'cust-legacy-1', productCode: PRODUCT };
const CONTACT = { companyName: 'Example Ltd', contactPerson: 'Jane Doe', contactEmail: 'jane@example.com', contactPhone: '+44 20 7946 0000' };

class MemoryRegistry implements TenantRegistry {
  readonly tenants = new Map<string, VersionedTenant>();
  conflicts = 0;
  saves = 0;
  failFind: Error | undefined;

  async get(tenantId: string): Promise<VersionedTenant | undefined> {
    return this.tenants.get(tenantId);
  }

  async findByIdentity(identity: EventIdentity): Promise<VersionedTenant | undefined> {
    if (this.failFind) throw this.failFind;
    return [...this.tenants.values()].find((entry) => identityMatches(entry.tenant.identity, identity));
  }

  async save(tenant: Tenant, expectedVersion: number | undefined, outbox: readonly OutboxEvent[] = []): Promise<number> {
    if (this.conflicts > 0) {
      this.conflicts -= 1;
      throw new TenantVersionConflict(tenant.tenantId);
    }
    const current = this.tenants.get(tenant.tenantId);
    if (current?.version !== expectedVersion) throw new TenantVersionConflict(tenant.tenantId);
    this.saves += 1;
    const version = (expectedVersion ?? 0) + 1;
    this.tenants.set(tenant.tenantId, { tenant, version, outbox });
    return version;
  }
  async clearOutbox(tenantId: string, version: number): Promise<boolean> {
    const stored = this.tenants.get(tenantId);
    if (stored?.version !== version) return false;
    this.tenants.set(tenantId, { ...stored, outbox: [] });
    return true;
  }

}

class FakeResolver implements CustomerResolver {
  readonly tokens = new Map<string, MarketplaceIdentity | Error>();
  calls = 0;

  async resolve(token: string): Promise<MarketplaceIdentity> {
    this.calls += 1;
    const found = this.tokens.get(token);
    if (found === undefined) throw new RegistrationTokenError('invalid');
    if (found instanceof Error) throw found;
    return found;
  }
}

class FakePublisher implements EventPublisher {
  readonly events: ControlPlaneEvent[] = [];
  fail: Error | undefined;

  async publish(events: readonly ControlPlaneEvent[]): Promise<void> {
    if (this.fail) throw this.fail;
    this.events.push(...events);
  }
}

interface Harness {
  flow: RegistrationFlow;
  clock: { now: number };
  resolver: FakeResolver;
  sessions: InMemoryRegistrationSessions;
  registry: MemoryRegistry;
  publisher: FakePublisher;
  log: MemoryLog;
}

function setup(): Harness {
  const clock = { now: T0 };
  const resolver = new FakeResolver();
  const sessions = new InMemoryRegistrationSessions();
  const registry = new MemoryRegistry();
  const publisher = new FakePublisher();
  const log = new MemoryLog();
  let references = 0;
  const flow = createRegistrationFlow({ resolver, sessions, registry, publisher, log }, { now: () => clock.now, newReferenceId: () => `ref-${++references}` });
  resolver.tokens.set('tok-license', LICENSE);
  resolver.tokens.set('tok-legacy', LEGACY);
  return { flow, clock, resolver, sessions, registry, publisher, log };
}

function post(body: string, contentType = 'application/x-www-form-urlencoded'): RegistrationRequest {
  return { method: 'POST', body, contentType };
}

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

function sessionOf(html: string): string {
  const match = /name="session" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('no session field in the page');
  return match[1];
}

async function openForm(h: Harness, token = 'tok-license'): Promise<string> {
  const response = await h.flow(post(form({ 'x-amzn-marketplace-token': token })));
  expect(response.statusCode).toBe(200);
  return sessionOf(response.body);
}

function subscribedTenant(identity: MarketplaceIdentity): Tenant {
  const { tenant } = applySubscriptionEvent(undefined, { kind: 'subscribed', identity, occurredAt: T0 - 60_000, eventId: 'evt-1', source: 'sns', details: { origin: 'subscribe-success' } }, T0 - 60_000);
  if (tenant === undefined) throw new Error('expected a tenant');
  return tenant;
}

describe('methods and bodies', () => {
  it('explains where to start on GET (200), refuses other methods (405)', async () => {
    const h = setup();
    const get = await h.flow({ method: 'GET', body: null });
    expect(get.statusCode).toBe(200);
    expect(get.body).toContain('<h1>Start from AWS Marketplace</h1>');
    const put = await h.flow({ method: 'PUT', body: null });
    expect(put.statusCode).toBe(405);
    expect(put.headers.allow).toBe('GET, POST');
  });

  it('answers 400 when the token is missing, without calling ResolveCustomer', async () => {
    const h = setup();
    for (const body of ['', 'x-amzn-marketplace-token=', 'foo=bar']) {
      const response = await h.flow(post(body));
      expect(response.statusCode).toBe(400);
      expect(response.body).toContain('Start from AWS Marketplace');
    }
    expect(h.resolver.calls).toBe(0);
    expect(h.log.outcomes()).toEqual(['token_missing', 'token_missing', 'token_missing']);
  });

  it('refuses non-form bodies (415) and oversized ones (413)', async () => {
    const h = setup();
    expect((await h.flow(post('{}', 'application/json'))).statusCode).toBe(415);
    expect((await h.flow(post(`x-amzn-marketplace-token=${'a'.repeat(40_000)}`))).statusCode).toBe(413);
    expect(h.resolver.calls).toBe(0);
  });
});

describe('posting the token', () => {
  it('resolves it, records its hash as pending, and opens a 30-minute session: the form (200)', async () => {
    const h = setup();
    const response = await h.flow(post(form({ 'x-amzn-marketplace-token': 'tok-license' })));
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    const sessionId = sessionOf(response.body);
    expect(sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(h.sessions.sessions.get(sessionId)).toEqual({ sessionId, identity: LICENSE, tokenHash: hashToken('tok-license'), createdAt: T0, expiresAt: T0 + SESSION_TTL_MS });
    expect((await h.sessions.findToken(hashToken('tok-license')))?.status).toBe('pending');
    expect(h.log.outcomes()).toEqual(['session_opened']);
  });

  it('opens a new session for the same buyer when the token is posted again before completion, without resolving it again', async () => {
    const h = setup();
    const first = await openForm(h);
    // Marketplace may refuse a resubmitted token: the recorded identity is used instead.
    h.resolver.tokens.set('tok-license', new RegistrationTokenError('expired'));
    h.clock.now += TOKEN_REUSE_WINDOW_MS - 1;
    const second = await openForm(h);
    expect(second).not.toBe(first);
    expect(h.resolver.calls).toBe(1);
    expect(h.sessions.sessions.get(first)?.identity).toEqual(LICENSE);
    expect(h.sessions.sessions.get(second)?.identity).toEqual(LICENSE);
    expect(h.log.entries.map((e) => e.attributes.resolved)).toEqual([true, false]);
  });

  it('asks Marketplace again once the reuse window has passed', async () => {
    const h = setup();
    await openForm(h);
    h.clock.now += TOKEN_REUSE_WINDOW_MS;
    h.resolver.tokens.set('tok-license', new RegistrationTokenError('expired'));
    const response = await h.flow(post(form({ 'x-amzn-marketplace-token': 'tok-license' })));
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('This registration link has expired');
    expect(h.resolver.calls).toBe(2);
  });

  it('answers 400 for a token Marketplace does not know, and for an expired one', async () => {
    const h = setup();
    const invalid = await h.flow(post(form({ 'x-amzn-marketplace-token': 'tok-unknown' })));
    expect(invalid.statusCode).toBe(400);
    expect(invalid.body).toContain("We couldn't verify this registration link");
    h.resolver.tokens.set('tok-old', new RegistrationTokenError('expired'));
    const expired = await h.flow(post(form({ 'x-amzn-marketplace-token': 'tok-old' })));
    expect(expired.statusCode).toBe(400);
    expect(expired.body).toContain('expired');
    expect(expired.body).toContain('Go back to AWS Marketplace and choose <strong>Set up your account</strong> again.');
    expect(h.sessions.sessions.size).toBe(0);
    expect(h.sessions.tokens.size).toBe(0);
    expect(h.log.outcomes()).toEqual(['token_invalid', 'token_expired']);
  });

  it('answers 502 with a reference id for any other failure, logging its name but never the token', async () => {
    const h = setup();
    h.resolver.tokens.set('tok-throttled', Object.assign(new Error('Rate exceeded for tok-throttled'), { name: 'ThrottlingException' }));
    const response = await h.flow(post(form({ 'x-amzn-marketplace-token': 'tok-throttled' })));
    expect(response.statusCode).toBe(502);
    expect(response.body).toContain('ref-1');
    expect(response.body).not.toMatch(/Throttling|Rate exceeded|at .*\.ts/);
    const entry = h.log.entries.find((e) => e.level === 'error');
    expect(entry?.attributes).toEqual({ outcome: 'service_error', referenceId: 'ref-1', step: 'resolve_customer', errorName: 'ThrottlingException' });
  });

  it('answers 409 "already used" for a token that completed a registration, without resolving it', async () => {
    const h = setup();
    const sessionId = await openForm(h);
    expect((await h.flow(post(form({ session: sessionId, ...CONTACT })))).statusCode).toBe(200);
    const calls = h.resolver.calls;
    const replay = await h.flow(post(form({ 'x-amzn-marketplace-token': 'tok-license' })));
    expect(replay.statusCode).toBe(409);
    expect(replay.body).toContain('This registration link was already used — sign in instead.');
    expect(h.resolver.calls).toBe(calls);
  });
});

describe('submitting the form', () => {
  it('re-renders invalid fields (400) with values kept, and keeps the session', async () => {
    const h = setup();
    const sessionId = await openForm(h);
    const response = await h.flow(post(form({ session: sessionId, ...CONTACT, contactEmail: 'jane.example.com', companyName: '' })));
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('role="alert"');
    expect(response.body).toContain('value="jane.example.com"');
    expect(response.body).toContain(`name="session" value="${sessionId}"`);
    expect(response.body).toContain('Enter your company name');
    expect(h.sessions.sessions.has(sessionId)).toBe(true);
    expect(h.registry.saves).toBe(0);
    expect(h.log.entries.at(-1)?.attributes.fields).toEqual(['companyName', 'contactEmail']);
    expect((await h.flow(post(form({ session: sessionId, ...CONTACT })))).statusCode).toBe(200);
  });

  it('registers a new buyer: tenant pending_registration, nothing published yet, token completed, session consumed', async () => {
    const h = setup();
    const sessionId = await openForm(h);
    const response = await h.flow(post(form({ session: sessionId, ...CONTACT })));
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain("<h1>You're set up</h1>");
    const [entry] = [...h.registry.tenants.values()];
    expect(entry?.tenant).toMatchObject({ state: 'pending_registration', identity: LICENSE, contact: CONTACT, registeredAt: T0 });
    expect(response.body).toContain(`id="tenant-id">${entry?.tenant.tenantId}<`);
    expect(h.publisher.events).toEqual([]);
    expect((await h.sessions.findToken(hashToken('tok-license')))?.status).toBe('completed');
    expect(h.sessions.sessions.has(sessionId)).toBe(false);
    expect(h.log.outcomes()).toEqual(['session_opened', 'registered']);
  });

  it('activates a buyer Marketplace already confirmed and publishes New AWS Marketplace Subscriber', async () => {
    const h = setup();
    const existing = subscribedTenant(LEGACY);
    h.registry.tenants.set(existing.tenantId, { tenant: existing, version: 1, outbox: [] });
    const sessionId = await openForm(h, 'tok-legacy');
    const response = await h.flow(post(form({ session: sessionId, ...CONTACT })));
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain(`${existing.tenantId}<`);
    expect(h.registry.tenants.get(existing.tenantId)).toMatchObject({ version: 2, tenant: { state: 'active' } });
    expect(h.publisher.events).toEqual([{ detailType: DETAIL_TYPES.newSubscriber, detail: expect.objectContaining({ tenantId: existing.tenantId, state: 'active', previousState: 'pending_registration', customerIdentifier: 'cust-legacy-1', ...CONTACT }) }]);
  });

  it('refuses a double submit of the same session (400): one tenant, one event', async () => {
    const h = setup();
    const existing = subscribedTenant(LICENSE);
    h.registry.tenants.set(existing.tenantId, { tenant: existing, version: 1, outbox: [] });
    const sessionId = await openForm(h);
    const body = form({ session: sessionId, ...CONTACT });
    const [first, second] = await Promise.all([h.flow(post(body)), h.flow(post(body))]);
    expect([first.statusCode, second.statusCode].sort()).toEqual([200, 400]);
    const third = await h.flow(post(body));
    expect(third.statusCode).toBe(400);
    expect(third.body).toContain('This form has expired or was already submitted');
    expect(h.registry.tenants.size).toBe(1);
    expect(h.publisher.events).toHaveLength(1);
  });

  it('refuses unknown, malformed and expired sessions (400), even with invalid fields', async () => {
    const h = setup();
    const unknown = 'x'.repeat(43);
    expect((await h.flow(post(form({ session: unknown, ...CONTACT })))).statusCode).toBe(400);
    expect((await h.flow(post(form({ session: unknown, ...CONTACT, contactEmail: 'bad' })))).body).toContain('This form has expired');
    expect((await h.flow(post(form({ session: 'short', ...CONTACT })))).statusCode).toBe(400);
    const sessionId = await openForm(h);
    h.clock.now += SESSION_TTL_MS;
    const expired = await h.flow(post(form({ session: sessionId, ...CONTACT })));
    expect(expired.statusCode).toBe(400);
    expect(expired.body).toContain('This form has expired or was already submitted');
    expect(h.registry.saves).toBe(0);
  });

  it('refuses a second session of a token that has completed (409)', async () => {
    const h = setup();
    const first = await openForm(h);
    const second = await openForm(h);
    expect((await h.flow(post(form({ session: first, ...CONTACT })))).statusCode).toBe(200);
    const late = await h.flow(post(form({ session: second, ...CONTACT, companyName: 'Other Ltd' })));
    expect(late.statusCode).toBe(409);
    expect([...h.registry.tenants.values()][0]?.tenant.contact?.companyName).toBe('Example Ltd');
  });

  it('retries a save that lost a race once, then gives up with 502', async () => {
    const h = setup();
    h.registry.conflicts = 1;
    expect((await h.flow(post(form({ session: await openForm(h), ...CONTACT })))).statusCode).toBe(200);
    expect(h.registry.saves).toBe(1);

    const h2 = setup();
    h2.registry.conflicts = 2;
    const response = await h2.flow(post(form({ session: await openForm(h2), ...CONTACT })));
    expect(response.statusCode).toBe(502);
    expect(h2.log.entries.at(-1)?.attributes).toMatchObject({ step: 'save_tenant', errorName: 'TenantVersionConflict' });
    expect((await h2.sessions.findToken(hashToken('tok-license')))?.status).toBe('pending');
  });

  it('answers 502 when publishing fails, leaving the token pending and logging what was not published', async () => {
    const h = setup();
    const existing = subscribedTenant(LICENSE);
    h.registry.tenants.set(existing.tenantId, { tenant: existing, version: 1, outbox: [] });
    h.publisher.fail = Object.assign(new Error('EventBridge did not accept 1 event(s)'), { name: 'EventPublishError' });
    const response = await h.flow(post(form({ session: await openForm(h), ...CONTACT })));
    expect(response.statusCode).toBe(502);
    expect(h.log.entries.at(-1)?.attributes).toMatchObject({ step: 'publish', tenantId: existing.tenantId, unpublished: [DETAIL_TYPES.newSubscriber], errorName: 'EventPublishError' });
    expect((await h.sessions.findToken(hashToken('tok-license')))?.status).toBe('pending');
    expect(h.registry.tenants.get(existing.tenantId)?.outbox.map((e) => e.detailType)).toEqual([DETAIL_TYPES.newSubscriber]);
    // The buyer can come back from Marketplace with the same token; registering again publishes what was kept.
    h.publisher.fail = undefined;
    expect((await h.flow(post(form({ 'x-amzn-marketplace-token': 'tok-license' })))).statusCode).toBe(200);
    expect((await h.flow(post(form({ session: await openForm(h), ...CONTACT })))).statusCode).toBe(200);
    expect(h.publisher.events.map((e) => e.detailType)).toEqual([DETAIL_TYPES.newSubscriber]);
    expect(h.registry.tenants.get(existing.tenantId)?.outbox).toEqual([]);
  });

  it('still answers 200 when the token cannot be marked completed (logged as a warning)', async () => {
    const h = setup();
    h.sessions.completeToken = async () => {
      throw new Error('throttled');
    };
    expect((await h.flow(post(form({ session: await openForm(h), ...CONTACT })))).statusCode).toBe(200);
    expect(h.log.entries.some((e) => e.level === 'warn' && e.attributes.errorMessage === 'throttled')).toBe(true);
  });

  it('answers 502 when the registry fails', async () => {
    const h = setup();
    const sessionId = await openForm(h);
    h.registry.failFind = Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException' });
    const response = await h.flow(post(form({ session: sessionId, ...CONTACT })));
    expect(response.statusCode).toBe(502);
    expect(response.body).toContain('ref-1');
  });

  it('never logs the token, the session id or contact details', async () => {
    const h = setup();
    h.resolver.tokens.set('tok-secret-token', LICENSE);
    const sessionId = await openForm(h, 'tok-secret-token');
    await h.flow(post(form({ session: sessionId, ...CONTACT, contactEmail: 'bad' })));
    await h.flow(post(form({ session: sessionId, ...CONTACT })));
    await h.flow(post(form({ session: sessionId, ...CONTACT })));
    await h.flow(post(form({ 'x-amzn-marketplace-token': 'tok-secret-token' })));
    const logged = JSON.stringify(h.log.entries);
    for (const secret of ['tok-secret-token', hashToken('tok-secret-token'), sessionId, ...Object.values(CONTACT)]) expect(logged).not.toContain(secret);
    expect(h.log.outcomes()).toEqual(['session_opened', 'invalid_fields', 'registered', 'session_unknown', 'token_already_used']);
  });
});
