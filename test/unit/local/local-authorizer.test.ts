import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import fc from 'fast-check';
import { Logger } from '@aws-lambda-powertools/logger';
import { createRandomStringsHandler } from '../../../functions/random-strings/handler';
import {
  apiGatewayClaims,
  apiGatewayDate,
  EXPIRED_TOKEN_MESSAGE,
  LocalCognitoAuthorizer,
  tokenOfAuthorizationHeader,
  UNAUTHORIZED_MESSAGE,
  type AuthorizerDecision,
} from '../../../local/api/local-authorizer';

const randomStrings = createRandomStringsHandler({ logger: new Logger({ serviceName: 'random-strings' }) });
import { LocalTokenIssuer } from '../../../local/api/local-token-issuer';
import { captureOutput } from '../../support/capture-output';

const ANN = { email: 'ann@acme.example', tenantId: 'acme', sub: '0f8fad5b-d9cb-469f-a165-70867728950e' };

function refused(decision: AuthorizerDecision): { message: string; reason: string } {
  if (decision.ok) throw new Error('expected the authorizer to refuse the token');
  return decision;
}

/** Replaces the character at `index` of `text` by another base64url character. */
function flip(text: string, index: number): string {
  const replacement = text[index] === 'A' ? 'B' : 'A';
  return `${text.slice(0, index)}${replacement}${text.slice(index + 1)}`;
}

describe('LocalCognitoAuthorizer', () => {
  let issuer: LocalTokenIssuer;
  let authorizer: LocalCognitoAuthorizer;
  beforeAll(async () => {
    issuer = await LocalTokenIssuer.create({ userPoolId: 'us-east-1_tenants', clientId: 'appclient0123456789abcdefg' });
    authorizer = new LocalCognitoAuthorizer({ userPoolId: issuer.userPoolId, clientId: issuer.clientId, jwks: issuer.jwks() });
  });

  it('accepts a valid ID token, raw or after "Bearer ", and passes its claims as API Gateway does (all strings)', async () => {
    const token = await issuer.issueIdToken(ANN);
    for (const header of [token, `Bearer ${token}`, `bearer  ${token}`]) {
      const decision = authorizer.authorize(header);
      expect(decision.ok).toBe(true);
      if (!decision.ok) continue;
      expect(decision.claims).toMatchObject({
        sub: ANN.sub,
        'cognito:username': ANN.sub,
        'custom:tenant_id': 'acme',
        email: ANN.email,
        email_verified: 'true',
        token_use: 'id',
        aud: issuer.clientId,
        iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_tenants',
      });
      expect(decision.claims.auth_time).toMatch(/^\d{10}$/);
      expect(decision.claims.exp).toMatch(/^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} UTC \d{4}$/);
      for (const value of Object.values(decision.claims)) expect(typeof value).toBe('string');
    }
  });

  it('refuses an expired token with the message API Gateway gives', async () => {
    const token = await issuer.issueIdToken(ANN, { issuedAt: Date.now() - 2 * 3600_000 });
    expect(refused(authorizer.authorize(token))).toMatchObject({ message: EXPIRED_TOKEN_MESSAGE, reason: expect.stringMatching(/^JwtExpiredError/) });
  });

  it('refuses a token for another app client of the pool (audience)', async () => {
    const other = new LocalCognitoAuthorizer({ userPoolId: issuer.userPoolId, clientId: 'anotherclient0123456789abc', jwks: issuer.jwks() });
    expect(refused(other.authorize(await issuer.issueIdToken(ANN)))).toMatchObject({ message: UNAUTHORIZED_MESSAGE, reason: expect.stringMatching(/^CognitoJwtInvalidClientIdError/) });
  });

  it('refuses a token of another user pool (issuer)', async () => {
    const otherPool = new LocalCognitoAuthorizer({ userPoolId: 'us-east-1_otherPool', clientId: issuer.clientId, jwks: issuer.jwks() });
    expect(refused(otherPool.authorize(await issuer.issueIdToken(ANN)))).toMatchObject({ message: UNAUTHORIZED_MESSAGE, reason: expect.stringMatching(/issuer/i) });
  });

  it('refuses an access token: the method has no scopes, so only ID tokens are taken', async () => {
    expect(refused(authorizer.authorize(await issuer.issueAccessToken(ANN)))).toMatchObject({ message: UNAUTHORIZED_MESSAGE, reason: expect.stringMatching(/^CognitoJwtInvalidTokenUseError/) });
  });

  it('refuses a tampered signature, a tampered payload and a token signed by another key, without fetching any JWKS', async () => {
    const token = await issuer.issueIdToken(ANN);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    expect(refused(authorizer.authorize(`${header}.${payload}.${flip(signature, 10)}`)).reason).toMatch(/^JwtInvalidSignatureError/);
    const otherTenant = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')), 'custom:tenant_id': 'globex' })).toString('base64url');
    expect(refused(authorizer.authorize(`${header}.${otherTenant}.${signature}`)).reason).toMatch(/^JwtInvalidSignatureError/);
    // Same pool and client, another key: the kid is not in the cached JWKS, and verifySync never downloads one.
    const impostor = await LocalTokenIssuer.create({ userPoolId: issuer.userPoolId, clientId: issuer.clientId });
    expect(refused(authorizer.authorize(await impostor.issueIdToken(ANN))).reason).toMatch(/^KidNotFoundInJwksError/);
    expect(refused(authorizer.authorize('not.a.jwt')).message).toBe(UNAUTHORIZED_MESSAGE);
  });

  it('refuses a request without a token', () => {
    for (const header of [undefined, '', '   ', 'Bearer ', 'Bearer']) {
      expect(refused(authorizer.authorize(header))).toMatchObject({ message: UNAUTHORIZED_MESSAGE });
    }
  });

  it('verifies a token without a tenant claim; the handler then refuses the caller with 403', async () => {
    const decision = authorizer.authorize(await issuer.issueIdToken({ email: 'nobody@example.com' }));
    if (!decision.ok) throw new Error(decision.reason);
    expect(decision.claims).not.toHaveProperty('custom:tenant_id');
    const event = { queryStringParameters: null, multiValueQueryStringParameters: null, requestContext: { requestId: 'r-1', authorizer: { claims: decision.claims } } } as unknown as APIGatewayProxyEvent;
    const { value: response } = await captureOutput(() => randomStrings(event, { functionName: 'random-strings', awsRequestId: 'a-1' } as Context));
    expect(response.statusCode).toBe(403);
    expect(JSON.parse(response.body).message).toMatch(/no tenant/);
  });

  it('judges expiry by the gateway clock when it lags the wall clock (a simulated run)', async () => {
    const simulated = Date.now() - 5 * 3600_000;
    let clock = simulated;
    const lagging = new LocalCognitoAuthorizer({ userPoolId: issuer.userPoolId, clientId: issuer.clientId, jwks: issuer.jwks(), now: () => clock });
    const token = await issuer.issueIdToken(ANN, { issuedAt: simulated, validitySeconds: 3600 });
    expect(lagging.authorize(token).ok).toBe(true);
    clock = simulated + 3600_000 - 1000;
    expect(lagging.authorize(token).ok).toBe(true);
    clock = simulated + 3600_000 + 1000;
    expect(refused(lagging.authorize(token)).message).toBe(EXPIRED_TOKEN_MESSAGE);
    // The wall-clock authorizer sees the same token as long expired.
    expect(refused(authorizer.authorize(token)).message).toBe(EXPIRED_TOKEN_MESSAGE);
  });
});

describe('claims as API Gateway passes them', () => {
  it('writes dates like the logged events of API Gateway', () => {
    // The documented sample: auth_time 1513492092, iat "Sun Dec 17 06:28:12 UTC 2017", exp an hour later.
    expect(apiGatewayDate(1513492092)).toBe('Sun Dec 17 06:28:12 UTC 2017');
    expect(apiGatewayDate(1513495692)).toBe('Sun Dec 17 07:28:12 UTC 2017');
    expect(apiGatewayDate(1780000000)).toBe('Thu May 28 20:26:40 UTC 2026');
    expect(apiGatewayClaims({ iat: 1513492092, exp: 1513495692, auth_time: 1513492092, email_verified: true, 'custom:tenant_id': 'acme' })).toEqual({
      iat: 'Sun Dec 17 06:28:12 UTC 2017', exp: 'Sun Dec 17 07:28:12 UTC 2017', auth_time: '1513492092', email_verified: 'true', 'custom:tenant_id': 'acme',
    });
  });

  it('gives every claim of any payload as a string, strings unchanged (property, 500 runs)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), fc.jsonValue({ maxDepth: 2 })), (payload) => {
        const claims = apiGatewayClaims(payload);
        for (const [name, value] of Object.entries(payload)) {
          expect(typeof claims[name]).toBe('string');
          if (typeof value === 'string') expect(claims[name]).toBe(value);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('reads the token of an Authorization header', () => {
    expect(tokenOfAuthorizationHeader('abc.def.ghi')).toBe('abc.def.ghi');
    expect(tokenOfAuthorizationHeader(' Bearer abc.def.ghi ')).toBe('abc.def.ghi');
    expect(tokenOfAuthorizationHeader('BEARER abc')).toBe('abc');
    expect(tokenOfAuthorizationHeader(undefined)).toBeUndefined();
  });
});
