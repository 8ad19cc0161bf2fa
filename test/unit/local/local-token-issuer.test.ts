import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { DEFAULT_TOKEN_VALIDITY_SECONDS, LocalTokenError, LocalTokenIssuer, USER_POOL_ADMIN_SCOPE } from '../../../local/api/local-token-issuer';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const AT = Date.UTC(2026, 10, 23, 10, 5, 0);

/** Verifies a token's RS256 signature with jose against the issuer's published JWKS (independently of aws-jwt-verify). */
async function verified(issuer: LocalTokenIssuer, token: string) {
  const keys = createLocalJWKSet(issuer.jwks() as unknown as JSONWebKeySet);
  return (await jwtVerify(token, keys, { algorithms: ['RS256'], currentDate: new Date(AT + 60_000) })).payload;
}

describe('LocalTokenIssuer', () => {
  let issuer: LocalTokenIssuer;
  beforeAll(async () => {
    issuer = await LocalTokenIssuer.create({ userPoolId: 'eu-west-2_AbC123', clientId: 'localclient0123456789abcde', now: () => AT });
  });

  it('issues ID tokens with exactly the claims Cognito documents for a user of this pool, signed RS256 with a published key', async () => {
    const token = await issuer.issueIdToken({ email: 'ann@acme.example', tenantId: 'acme' });
    const payload = await verified(issuer, token);
    expect(Object.keys(payload).sort()).toEqual([
      'aud', 'auth_time', 'cognito:username', 'custom:tenant_id', 'email', 'email_verified', 'event_id', 'exp', 'iat', 'iss', 'jti', 'origin_jti', 'sub', 'token_use',
    ]);
    const iat = Math.floor(AT / 1000);
    expect(payload).toMatchObject({
      iss: 'https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_AbC123',
      aud: 'localclient0123456789abcde',
      token_use: 'id',
      email: 'ann@acme.example',
      email_verified: true,
      'custom:tenant_id': 'acme',
      iat,
      auth_time: iat,
      exp: iat + DEFAULT_TOKEN_VALIDITY_SECONDS,
    });
    expect(payload.sub).toMatch(UUID);
    expect(payload['cognito:username']).toBe(payload.sub);
    for (const id of ['jti', 'origin_jti', 'event_id']) expect(payload[id]).toMatch(UUID);
    const header = decodeProtectedHeader(token);
    expect(header.alg).toBe('RS256');
    expect(issuer.jwks().keys.map((key) => key.kid)).toContain(header.kid);
  });

  it('leaves the tenant claim out for a user without a tenant, and gives every token its own ids', async () => {
    const user = { email: 'bob@example.com', sub: '11111111-2222-4333-8444-555555555555' };
    const [first, second] = await Promise.all([issuer.issueIdToken(user), issuer.issueIdToken(user)]);
    const a = await verified(issuer, first);
    const b = await verified(issuer, second);
    expect(a).not.toHaveProperty('custom:tenant_id');
    expect([a.sub, b.sub]).toEqual([user.sub, user.sub]);
    expect(new Set([a.jti, b.jti, a.origin_jti, b.origin_jti, a.event_id, b.event_id]).size).toBe(6);
  });

  it('signs access tokens with a second key and the access token claims', async () => {
    const idToken = await issuer.issueIdToken({ email: 'ann@acme.example', tenantId: 'acme' });
    const accessToken = await issuer.issueAccessToken({ email: 'ann@acme.example', tenantId: 'acme' });
    const payload = await verified(issuer, accessToken);
    expect(Object.keys(payload).sort()).toEqual(['auth_time', 'client_id', 'event_id', 'exp', 'iat', 'iss', 'jti', 'origin_jti', 'scope', 'sub', 'token_use', 'username']);
    expect(payload).toMatchObject({ token_use: 'access', client_id: issuer.clientId, scope: USER_POOL_ADMIN_SCOPE, username: payload.sub });
    expect(decodeProtectedHeader(accessToken).kid).not.toBe(decodeProtectedHeader(idToken).kid);
  });

  it('publishes a JWKS with the members of a Cognito jwks.json and no private part', () => {
    const { keys } = issuer.jwks();
    expect(keys).toHaveLength(2);
    for (const key of keys) {
      expect(Object.keys(key).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
      expect(key).toMatchObject({ alg: 'RS256', kty: 'RSA', use: 'sig', e: 'AQAB' });
      // A 2048-bit modulus: 256 bytes, 342 base64url characters.
      expect(key.n).toHaveLength(342);
    }
  });

  it('takes the issue time and lifetime of a token, within the bounds Cognito allows', async () => {
    const payload = await verified(issuer, await issuer.issueIdToken({ email: 'ann@acme.example' }, { issuedAt: AT - 30_000, validitySeconds: 300 }));
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(payload.iat).toBe(Math.floor((AT - 30_000) / 1000));
    await expect(issuer.issueIdToken({ email: 'ann@acme.example' }, { validitySeconds: 299 })).rejects.toThrow(/validitySeconds must be a whole number of seconds from 300 to 86400/);
    await expect(issuer.issueIdToken({ email: 'ann@acme.example' }, { validitySeconds: 86_401 })).rejects.toThrow(LocalTokenError);
  });

  it('refuses bad input with the reason', async () => {
    await expect(LocalTokenIssuer.create({ userPoolId: 'localPool' })).rejects.toThrow(/userPoolId must look like <region>_<id>/);
    await expect(LocalTokenIssuer.create({ clientId: 'has space' })).rejects.toThrow(/clientId must be/);
    await expect(LocalTokenIssuer.create({ tokenValiditySeconds: 60 })).rejects.toThrow(/tokenValiditySeconds/);
    await expect(issuer.issueIdToken({ email: 'not-an-email' })).rejects.toThrow(/email must be an email address/);
    await expect(issuer.issueIdToken({ email: 'a@b.example', tenantId: '' })).rejects.toThrow(/tenantId must be 1-64 characters/);
    await expect(issuer.issueIdToken({ email: 'a@b.example', tenantId: 't'.repeat(65) })).rejects.toThrow(LocalTokenError);
  });

  it('defaults to a pool in us-east-1 and a Cognito-shaped app client id', async () => {
    const plain = await LocalTokenIssuer.create();
    expect(plain.issuer).toBe('https://cognito-idp.us-east-1.amazonaws.com/us-east-1_localPool');
    expect(plain.region).toBe('us-east-1');
    expect(plain.clientId).toMatch(/^[a-z0-9]{26}$/);
  });
});
