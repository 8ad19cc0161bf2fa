/**
 * The registration page end to end on local ports: the Marketplace simulator through the real AWS SDK
 * client (ResolveCustomer), a dynalite tenant table (tenants, sessions, token records) and an
 * in-memory event publisher, driven with API Gateway proxy events (and once over HTTP).
 */
import { GetCommand, ScanCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { deriveTenantId, type MarketplaceIdentity } from '../../core/marketplace/identity';
import { hashToken, SESSION_TTL_MS } from '../../core/marketplace/registration-session';
import { DETAIL_TYPES } from '../../core/marketplace/subscription-effects';
import { applySubscriptionEvent } from '../../core/marketplace/subscription-lifecycle';
import type { Tenant } from '../../core/marketplace/tenant';
import { startLocalRegistration, type LocalRegistration } from '../../local/registration/local-registration';

const T0 = Date.UTC(2026, 10, 23, 14, 20);
const PRODUCT = 'prod-reg';
const CONTACT = { companyName: 'Example Ltd', contactPerson: 'Jane Doe', contactEmail: 'jane@example.com', contactPhone: '+44 20 7946 0000' };

let local: LocalRegistration;
let documents: DynamoDBDocumentClient;
const clock = { now: T0 };
let sequence = 0;

beforeAll(async () => {
  // Marketplace refuses a token resolved before (ExpiredTokenException, as its documentation allows):
  // back and refresh must still work.
  local = await startLocalRegistration({ now: () => clock.now, serviceName: 'Example Metering', simulator: { tokenReuse: 'expire' } });
  local.sim.addProduct({ productCode: PRODUCT, dimensions: ['api_requests'] });
  documents = DynamoDBDocumentClient.from(local.db.client);
});

afterAll(async () => {
  await local?.close();
});

/** A fresh buyer with a token (licence identity unless `legacy`). */
function buyer(options: { legacy?: boolean; expiresAt?: number } = {}): { token: string; identity: MarketplaceIdentity } {
  sequence += 1;
  const account = String(100000000000 + sequence);
  const token = `tok-${sequence}-${'x'.repeat(40)}`;
  const licenseArn = `arn:aws:license-manager::294406891311:license:l-${String(sequence).padStart(32, '0')}`;
  const customerIdentifier = `cust-${sequence}`;
  local.sim.registerToken(token, {
    productCode: PRODUCT,
    customerAWSAccountId: account,
    ...(options.legacy ? { customerIdentifier } : { licenseArn }),
    expiresAt: options.expiresAt ?? clock.now + 60 * 60 * 1000,
  });
  const identity: MarketplaceIdentity = options.legacy
    ? { kind: 'customer-identifier', customerIdentifier, productCode: PRODUCT }
    : { kind: 'license', customerAWSAccountId: account, licenseArn, productCode: PRODUCT };
  return { token, identity };
}

/** POSTs a form to the page. The clock moves one second per request (the simulator throttles per second). */
async function post(fields: Record<string, string>, options: { base64?: boolean } = {}): Promise<APIGatewayProxyResult> {
  clock.now += 1000;
  const body = new URLSearchParams(fields).toString();
  return local.handler({
    httpMethod: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: options.base64 ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: options.base64 === true,
  });
}

function sessionOf(response: APIGatewayProxyResult): string {
  const match = /name="session" value="([^"]+)"/.exec(response.body);
  if (!match?.[1]) throw new Error(`no session in a ${response.statusCode} page`);
  return match[1];
}

async function openSession(token: string): Promise<string> {
  const response = await post({ 'x-amzn-marketplace-token': token });
  expect(response.statusCode).toBe(200);
  return sessionOf(response);
}

async function item(pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
  return (await documents.send(new GetCommand({ TableName: local.tableName, Key: { pk, sk }, ConsistentRead: true }))).Item;
}

async function tenantCount(): Promise<number> {
  const { Items } = await documents.send(new ScanCommand({ TableName: local.tableName, FilterExpression: 'sk = :sk', ExpressionAttributeValues: { ':sk': 'TENANT' } }));
  return Items?.length ?? 0;
}

function eventsFor(tenantId: string) {
  return local.publisher.events().filter((event) => event.detail.tenantId === tenantId);
}

async function subscribe(identity: MarketplaceIdentity): Promise<Tenant> {
  const { tenant } = applySubscriptionEvent(undefined, { kind: 'subscribed', identity, occurredAt: clock.now - 60_000, eventId: `evt-${sequence}`, source: 'sns', details: { origin: 'subscribe-success' } }, clock.now);
  if (tenant === undefined) throw new Error('expected a tenant');
  await local.registry.save(tenant, undefined);
  return tenant;
}

describe('happy path', () => {
  it('registers a new buyer: tenant pending_registration, token completed, session consumed, nothing published yet', async () => {
    const { token, identity } = buyer();
    const form = await post({ 'x-amzn-marketplace-token': token }, { base64: true });
    expect(form.statusCode).toBe(200);
    expect(form.headers?.['content-security-policy']).toContain("default-src 'none'");
    const sessionId = sessionOf(form);
    const session = await item(`REGSESSION#${sessionId}`, 'REGSESSION');
    expect(session).toMatchObject({ identity, tokenHash: hashToken(token), validUntil: clock.now + SESSION_TTL_MS, expiresAt: Math.ceil((clock.now + SESSION_TTL_MS) / 1000) });
    expect(await item(`REGTOKEN#${hashToken(token)}`, 'REGTOKEN')).toMatchObject({ status: 'pending' });

    const done = await post({ session: sessionId, ...CONTACT });
    expect(done.statusCode).toBe(200);
    const tenantId = deriveTenantId(identity);
    expect(done.body).toContain("<h1>You're set up</h1>");
    expect(done.body).toContain(`id="tenant-id">${tenantId}<`);
    const found = await local.registry.findByIdentity(identity);
    expect(found?.tenant).toMatchObject({ tenantId, state: 'pending_registration', identity, contact: CONTACT, registeredAt: clock.now });
    expect(eventsFor(tenantId)).toEqual([]);
    expect(await item(`REGSESSION#${sessionId}`, 'REGSESSION')).toBeUndefined();
    expect(await item(`REGTOKEN#${hashToken(token)}`, 'REGTOKEN')).toMatchObject({ status: 'completed', tenantId });
  });

  it('activates a buyer whose subscription Marketplace already confirmed, and publishes New AWS Marketplace Subscriber', async () => {
    const { token, identity } = buyer();
    const subscribed = await subscribe(identity);
    const done = await post({ session: await openSession(token), ...CONTACT });
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain("We've sent the details of how to sign in to <strong>jane@example.com</strong>");
    expect((await local.registry.get(subscribed.tenantId))?.tenant.state).toBe('active');
    expect(eventsFor(subscribed.tenantId)).toEqual([{
      detailType: DETAIL_TYPES.newSubscriber,
      detail: expect.objectContaining({
        tenantId: subscribed.tenantId,
        state: 'active',
        previousState: 'pending_registration',
        productCode: PRODUCT,
        customerAWSAccountID: identity.kind === 'license' ? identity.customerAWSAccountId : undefined,
        licenseArn: identity.kind === 'license' ? identity.licenseArn : undefined,
        ...CONTACT,
      }),
    }]);
  });

  it('registers a legacy buyer (CustomerIdentifier, no licence) under the legacy identity', async () => {
    const { token, identity } = buyer({ legacy: true });
    expect((await post({ session: await openSession(token), ...CONTACT })).statusCode).toBe(200);
    expect((await local.registry.findByIdentity(identity))?.tenant.identity).toEqual(identity);
  });
});

describe('tokens', () => {
  it('answers 400 for a missing token', async () => {
    const response = await post({});
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('Start from AWS Marketplace');
  });

  it('answers 400 for a token Marketplace does not know (InvalidTokenException)', async () => {
    const response = await post({ 'x-amzn-marketplace-token': 'never-issued' });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain("We couldn't verify this registration link");
  });

  it('answers 400 for an expired token (ExpiredTokenException), telling the buyer to choose Set up your account again', async () => {
    const { token } = buyer({ expiresAt: clock.now - 1 });
    const response = await post({ 'x-amzn-marketplace-token': token });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('<h1>This registration link has expired</h1>');
    expect(response.body).toContain('Go back to AWS Marketplace and choose <strong>Set up your account</strong> again.');
  });

  it('opens a new session when the token is posted again before completion (back, refresh), resolving it once', async () => {
    const { token } = buyer();
    const before = local.sim.calls().resolveCustomer;
    const first = await openSession(token);
    const second = await openSession(token);
    expect(second).not.toBe(first);
    expect(local.sim.calls().resolveCustomer).toBe(before + 1);
    expect(await item(`REGTOKEN#${hashToken(token)}`, 'REGTOKEN')).toMatchObject({ status: 'pending', resolvedAt: expect.any(Number) });
    expect((await post({ session: second, ...CONTACT })).statusCode).toBe(200);
  });

  it('answers 409 "already used" for a token that completed a registration, without calling ResolveCustomer', async () => {
    const { token } = buyer();
    const stale = await openSession(token);
    expect((await post({ session: await openSession(token), ...CONTACT })).statusCode).toBe(200);
    const before = local.sim.calls().resolveCustomer;
    const replay = await post({ 'x-amzn-marketplace-token': token });
    expect(replay.statusCode).toBe(409);
    expect(replay.body).toContain('This registration link was already used — sign in instead.');
    expect(local.sim.calls().resolveCustomer).toBe(before);
    // A session opened before completion cannot register again either.
    expect((await post({ session: stale, ...CONTACT, companyName: 'Someone Else' })).statusCode).toBe(409);
  });

  it('answers 502 with a reference id when Marketplace fails, and opens no session', async () => {
    const { token } = buyer();
    local.sim.faults.set({ apiDisabled: true });
    try {
      const response = await post({ 'x-amzn-marketplace-token': token });
      expect(response.statusCode).toBe(502);
      expect(response.body).toMatch(/quote reference <strong>[0-9a-f-]{36}<\/strong>/);
      expect(response.body).not.toContain('DisabledApi');
      expect(await item(`REGTOKEN#${hashToken(token)}`, 'REGTOKEN')).toBeUndefined();
    } finally {
      local.sim.faults.clear();
    }
    expect((await post({ 'x-amzn-marketplace-token': token })).statusCode).toBe(200);
  });
});

describe('sessions and fields', () => {
  it('answers 400 for an unknown session and for an expired one', async () => {
    expect((await post({ session: 'A'.repeat(43), ...CONTACT })).statusCode).toBe(400);
    const { token, identity } = buyer();
    const sessionId = await openSession(token);
    clock.now += SESSION_TTL_MS;
    const expired = await post({ session: sessionId, ...CONTACT });
    expect(expired.statusCode).toBe(400);
    expect(expired.body).toContain('This form has expired or was already submitted');
    expect(await local.registry.findByIdentity(identity)).toBeUndefined();
  });

  it('re-renders invalid fields (400) with the values kept; the corrected form registers', async () => {
    const { token, identity } = buyer();
    const sessionId = await openSession(token);
    const invalid = await post({ session: sessionId, ...CONTACT, contactEmail: 'jane.example.com', contactPhone: 'call me' });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.body).toContain('<a href="#contactEmail">Enter an email address in the correct format, like name@example.com</a>');
    expect(invalid.body).toContain('<a href="#contactPhone">');
    expect(invalid.body).toContain('value="jane.example.com"');
    expect(invalid.body).toContain('value="Example Ltd"');
    expect(sessionOf(invalid)).toBe(sessionId);
    expect(await local.registry.findByIdentity(identity)).toBeUndefined();
    expect((await post({ session: sessionId, ...CONTACT })).statusCode).toBe(200);
  });

  it('registers a double submit of the same session once: one tenant, one event', async () => {
    const { token, identity } = buyer();
    const subscribed = await subscribe(identity);
    const tenantsBefore = await tenantCount();
    const sessionId = await openSession(token);
    clock.now += 1000;
    const fields = new URLSearchParams({ session: sessionId, ...CONTACT }).toString();
    const event = { httpMethod: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: fields, isBase64Encoded: false };
    const [a, b] = await Promise.all([local.handler(event), local.handler(event)]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([200, 400]);
    const again = await post({ session: sessionId, ...CONTACT });
    expect(again.statusCode).toBe(400);
    expect(await tenantCount()).toBe(tenantsBefore);
    expect(eventsFor(subscribed.tenantId)).toHaveLength(1);
  });
});

describe('over HTTP', () => {
  it('serves the page through the local server with the security headers', async () => {
    const { token } = buyer();
    clock.now += 1000;
    const response = await fetch(local.server.registrationUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ 'x-amzn-marketplace-token': token }).toString(),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await response.text()).toContain('<form method="post" novalidate>');
    expect((await fetch(`${local.server.origin}/test/marketplace-redirect?token=x`)).status).toBe(404);
  });

  it('never logged a token, a session id or contact details', () => {
    const logged = JSON.stringify(local.log.entries);
    expect(logged).not.toMatch(/tok-\d+-x/);
    expect(logged).not.toMatch(/REGSESSION|[A-Za-z0-9_-]{43}/);
    for (const value of Object.values(CONTACT)) expect(logged).not.toContain(value);
    expect(local.log.outcomes()).toContain('registered');
  });
});
