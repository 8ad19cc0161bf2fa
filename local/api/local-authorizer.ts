/**
 * The local stand-in for the metered API's `COGNITO_USER_POOLS` authorizer (never bundled into a
 * Lambda): it reads the `Authorization` header, verifies the ID token with aws-jwt-verify's
 * `CognitoJwtVerifier` — the verifier a real Cognito consumer uses, checking signature, issuer,
 * audience (app client), expiry and `token_use` — fed the local pool's JWKS through `cacheJwks`, and
 * hands the claims on the way API Gateway does.
 *
 * How API Gateway behaves, and the sources:
 * - The token is the `Authorization` header (the authorizer's identity source). API Gateway's guide
 *   only says the token is "set to the request's Authorization header"; field reports show the REST
 *   API's Cognito authorizer accepts both the raw token and `Bearer <token>` (e.g.
 *   aws-amplify/docs#1137, amazon-cognito-identity-js#165), so both are accepted here.
 * - Without OAuth scopes on the method (ours has none), the authorizer wants an ID token; an access
 *   token is refused (re:Post "need access token as header in cognito").
 * - A missing or invalid token is answered 401 `{"message":"Unauthorized"}`; an expired one 401
 *   `{"message":"The incoming token has expired"}` (the message clients report, e.g.
 *   aws-amplify/amplify-js#6060). Both are the UNAUTHORIZED gateway response.
 * - The integration gets the claims in `requestContext.authorizer.claims`, every value a string
 *   (awsdocs/amazon-api-gateway-developer-guide#158): numbers in decimal, booleans `true`/`false`,
 *   and `exp`/`iat` as dates like `Sun Dec 17 07:28:12 UTC 2017` (as in logged events, e.g.
 *   amazon-cognito-identity-js#92); `auth_time` stays seconds. How arrays and objects are rendered is
 *   undocumented (tokens of the local issuer carry none): they are given as JSON text.
 *
 * JWKS are never fetched: `verifySync` uses the cached local keys only, so a token naming another key
 * is refused without a network call.
 */
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { JwtExpiredError } from 'aws-jwt-verify/error';
import type { Jwks } from 'aws-jwt-verify/jwk';
import type { LocalJwks } from './local-token-issuer';

/** The 401 body message for a missing or invalid token. */
export const UNAUTHORIZED_MESSAGE = 'Unauthorized';
/** The 401 body message for an expired token. */
export const EXPIRED_TOKEN_MESSAGE = 'The incoming token has expired';
/** The gateway response type of both (logged as `$context.error.responseType`). */
export const UNAUTHORIZED_RESPONSE_TYPE = 'UNAUTHORIZED';

/** The claims as API Gateway passes them to the integration: every value a string. */
export type ApiGatewayClaims = Readonly<Record<string, string>>;

/** The authorizer's decision on one request. */
export type AuthorizerDecision =
  | { readonly ok: true; readonly claims: ApiGatewayClaims }
  | {
      readonly ok: false;
      /** The message of the 401 body. */
      readonly message: string;
      /** Why, for the local operator (never sent to the caller). */
      readonly reason: string;
    };

/** The pool and app client the authorizer trusts, and the pool's public keys. */
export interface LocalAuthorizerProps {
  readonly userPoolId: string;
  readonly clientId: string;
  readonly jwks: LocalJwks;
  /** The gateway's clock (epoch ms) that expiry is judged by. @default Date.now */
  readonly now?: () => number;
}

const BEARER = /^bearer +/i;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
/**
 * Extra grace given to the verifier's wall-clock expiry check, so that time passing between reading
 * the clocks never refuses a token the gateway's clock still accepts; the exact check follows.
 */
const CLOCK_MARGIN_SECONDS = 60;
/** Claims API Gateway renders as dates. */
const DATE_CLAIMS: ReadonlySet<string> = new Set(['exp', 'iat']);

/** The token of an `Authorization` header value: the raw token, or the one after `Bearer `. */
export function tokenOfAuthorizationHeader(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const token = value.trim().replace(BEARER, '');
  return token.length === 0 ? undefined : token;
}

const two = (n: number): string => String(n).padStart(2, '0');

/** Epoch seconds as API Gateway writes a date claim: `Sun Dec 17 07:28:12 UTC 2017`. */
export function apiGatewayDate(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const time = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${two(d.getUTCDate())} ${time} UTC ${d.getUTCFullYear()}`;
}

/** A verified token payload as API Gateway hands it on (see the module comment). */
export function apiGatewayClaims(payload: Readonly<Record<string, unknown>>): ApiGatewayClaims {
  const claims: [string, string][] = [];
  for (const [name, value] of Object.entries(payload)) {
    if (value === undefined) continue;
    if (typeof value === 'string') claims.push([name, value]);
    else if (typeof value === 'number') claims.push([name, DATE_CLAIMS.has(name) ? apiGatewayDate(value) : String(value)]);
    else if (typeof value === 'boolean') claims.push([name, value ? 'true' : 'false']);
    else claims.push([name, JSON.stringify(value)]);
  }
  // Own properties whatever their names (a claim named `__proto__` must not become a prototype).
  return Object.fromEntries(claims);
}

/** Verifies ID tokens of one local user pool and app client, as the metered API's authorizer does. */
export class LocalCognitoAuthorizer {
  private readonly verifier;
  private readonly now: () => number;

  constructor(props: LocalAuthorizerProps) {
    this.verifier = CognitoJwtVerifier.create({ userPoolId: props.userPoolId, clientId: props.clientId, tokenUse: 'id' });
    this.verifier.cacheJwks(props.jwks as unknown as Jwks);
    this.now = props.now ?? Date.now;
  }

  /**
   * Decides on a request from its `Authorization` header value (undefined when absent). Expiry is
   * judged by the gateway's clock: the verifier compares `exp` with the wall clock, so it is given
   * the clock's lag (and a margin) as grace, and `exp` is then checked against the gateway's time
   * here, with the verifier's rule (expired once `exp` is in the past).
   */
  authorize(authorizationHeader: string | undefined): AuthorizerDecision {
    const token = tokenOfAuthorizationHeader(authorizationHeader);
    if (token === undefined) return { ok: false, message: UNAUTHORIZED_MESSAGE, reason: 'no Authorization header' };
    const at = this.now();
    try {
      const graceSeconds = Math.max(0, Math.ceil((Date.now() - at) / 1000)) + CLOCK_MARGIN_SECONDS;
      const payload = this.verifier.verifySync(token, { graceSeconds });
      if (payload.exp < at / 1000) return { ok: false, message: EXPIRED_TOKEN_MESSAGE, reason: `token expired at ${new Date(payload.exp * 1000).toISOString()}` };
      return { ok: true, claims: apiGatewayClaims(payload) };
    } catch (error) {
      const reason = error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error);
      return { ok: false, message: error instanceof JwtExpiredError ? EXPIRED_TOKEN_MESSAGE : UNAUTHORIZED_MESSAGE, reason };
    }
  }
}
