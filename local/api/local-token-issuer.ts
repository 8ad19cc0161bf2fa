/**
 * A local stand-in for the tenant user pool's token endpoint (never bundled into a Lambda): it makes
 * an RS256 key pair per token kind at start, publishes them as the pool's JWKS, and signs ID and
 * access tokens that carry what Cognito puts in them, so the local API can verify them with the same
 * verifier a real Cognito consumer uses (`local-authorizer.ts`).
 *
 * The claims follow Cognito's documentation of the ID token ("Understanding the identity (ID) token",
 * https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-id-token.html):
 * header `kid` and `alg` RS256; payload `sub` (a UUID), `email_verified`, `iss`
 * (`https://cognito-idp.<region>.amazonaws.com/<userPoolId>`), `cognito:username`, `origin_jti`, `aud`
 * (the app client id), `event_id`, `token_use` `id`, `auth_time`, `exp`, `iat` (seconds since the
 * epoch), `jti`, `email`, and each readable custom attribute as a `custom:` claim with a string
 * value (here `custom:tenant_id`). Groups, roles, identities and nonce are absent: the pool has no
 * groups, no federation and no hosted UI. The access token ("Understanding the access token", same
 * guide) carries `sub`, `token_use` `access`, `scope`, `auth_time`, `iss`, `exp`, `iat`, `origin_jti`,
 * `jti`, `event_id`, `client_id` and `username`, and Cognito signs it with another key than ID tokens
 * (its `kid` differs), as here.
 *
 * As in `modules/metered-api/tenant-user-pool.ts`: users sign in with their email, so their
 * `cognito:username` is their `sub`; tokens are valid for 60 minutes; the tenant attribute holds
 * 1-64 characters and is absent from the token of a user without a tenant.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { TENANT_CLAIM } from '../../core/access-log/fields';

/** The JWT signature algorithm of Cognito user pools. */
export const COGNITO_SIGNING_ALGORITHM = 'RS256';
/** Token lifetime of the tenant user pool's app client: 60 minutes. */
export const DEFAULT_TOKEN_VALIDITY_SECONDS = 60 * 60;
/** Cognito's bounds on ID and access token lifetimes: 5 minutes to 1 day. */
export const MIN_TOKEN_VALIDITY_SECONDS = 5 * 60;
export const MAX_TOKEN_VALIDITY_SECONDS = 24 * 60 * 60;
/** The scope Cognito puts in an access token from a user-pool API sign-in. */
export const USER_POOL_ADMIN_SCOPE = 'aws.cognito.signin.user.admin';
/** Length bounds of the tenant attribute (the pool schema's string constraints). */
const TENANT_LENGTH = { min: 1, max: 64 } as const;
/** The shape of a user pool id: `<region>_<id>` (aws-jwt-verify checks the same). */
const USER_POOL_ID = /^((?:eusc-[a-z]{2}|[a-z]{2})-(?:gov-)?[a-z]+-\d)_[a-zA-Z0-9]+$/;
/** Cognito app client ids are 26 lowercase letters and digits. */
const CLIENT_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A bad argument to the issuer: names the problem. */
export class LocalTokenError extends Error {
  override readonly name = 'LocalTokenError';
}

/** Options of {@link LocalTokenIssuer.create}. */
export interface LocalTokenIssuerOptions {
  /** `<region>_<id>`; its region is the issuer's. @default 'us-east-1_localPool' */
  readonly userPoolId?: string;
  /** The app client id (the ID token's `aud`). @default 26 random lowercase letters and digits */
  readonly clientId?: string;
  /** Token lifetime. @default {@link DEFAULT_TOKEN_VALIDITY_SECONDS} */
  readonly tokenValiditySeconds?: number;
  /** The issuer's clock, epoch ms. @default Date.now */
  readonly now?: () => number;
}

/** The user a token is issued to. */
export interface LocalUser {
  /** The sign-in email (claim `email`). */
  readonly email: string;
  /** The `custom:tenant_id` attribute; omit for a user without a tenant (the claim is then absent). */
  readonly tenantId?: string;
  /** The user's `sub`. @default a random UUID */
  readonly sub?: string;
}

/** How one token is issued. */
export interface IssueOptions {
  /** When the token is issued (epoch ms): `iat` and `auth_time`. @default the issuer's clock */
  readonly issuedAt?: number;
  /** Lifetime of this token. @default the issuer's */
  readonly validitySeconds?: number;
}

/** One public key of the pool's JWKS, with the members Cognito publishes. */
export interface LocalJwk {
  readonly kid: string;
  readonly alg: typeof COGNITO_SIGNING_ALGORITHM;
  readonly kty: 'RSA';
  readonly e: string;
  readonly n: string;
  readonly use: 'sig';
  readonly [member: string]: string;
}

/** The pool's JSON Web Key Set (what `<issuer>/.well-known/jwks.json` serves). */
export interface LocalJwks {
  readonly keys: readonly LocalJwk[];
  readonly [member: string]: readonly LocalJwk[];
}

interface SigningKey {
  readonly privateKey: CryptoKey;
  readonly jwk: LocalJwk;
}

async function signingKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(COGNITO_SIGNING_ALGORITHM);
  const exported = await exportJWK(publicKey);
  if (exported.kty !== 'RSA' || typeof exported.n !== 'string' || typeof exported.e !== 'string') throw new Error('jose exported a non-RSA public key');
  const kid = await calculateJwkThumbprint(exported);
  return { privateKey, jwk: { kid, alg: COGNITO_SIGNING_ALGORITHM, kty: 'RSA', e: exported.e, n: exported.n, use: 'sig' } };
}

function randomClientId(): string {
  return Array.from(randomBytes(26), (byte) => CLIENT_ID_ALPHABET[byte % CLIENT_ID_ALPHABET.length]).join('');
}

function checkValidity(seconds: number, what: string): number {
  if (!Number.isSafeInteger(seconds) || seconds < MIN_TOKEN_VALIDITY_SECONDS || seconds > MAX_TOKEN_VALIDITY_SECONDS) {
    throw new LocalTokenError(`${what} must be a whole number of seconds from ${MIN_TOKEN_VALIDITY_SECONDS} to ${MAX_TOKEN_VALIDITY_SECONDS} (5 minutes to 1 day, as Cognito allows), got ${seconds}`);
  }
  return seconds;
}

/** Issues Cognito-shaped tokens of one local user pool and app client. */
export class LocalTokenIssuer {
  /** The pool's region, from its id. */
  readonly region: string;
  /** The `iss` of every token: `https://cognito-idp.<region>.amazonaws.com/<userPoolId>`. */
  readonly issuer: string;
  private readonly validitySeconds: number;
  private readonly now: () => number;

  private constructor(
    readonly userPoolId: string,
    readonly clientId: string,
    options: LocalTokenIssuerOptions,
    private readonly idKey: SigningKey,
    private readonly accessKey: SigningKey,
  ) {
    this.region = (USER_POOL_ID.exec(userPoolId) as RegExpExecArray)[1] as string;
    this.issuer = `https://cognito-idp.${this.region}.amazonaws.com/${userPoolId}`;
    this.validitySeconds = checkValidity(options.tokenValiditySeconds ?? DEFAULT_TOKEN_VALIDITY_SECONDS, 'tokenValiditySeconds');
    this.now = options.now ?? Date.now;
  }

  /** Makes the pool's signing keys (one for ID tokens, one for access tokens). */
  static async create(options: LocalTokenIssuerOptions = {}): Promise<LocalTokenIssuer> {
    const userPoolId = options.userPoolId ?? 'us-east-1_localPool';
    if (!USER_POOL_ID.test(userPoolId)) throw new LocalTokenError(`userPoolId must look like <region>_<id> (e.g. us-east-1_localPool), got ${JSON.stringify(userPoolId)}`);
    const clientId = options.clientId ?? randomClientId();
    if (!/^[\w+]{1,128}$/.test(clientId)) throw new LocalTokenError(`clientId must be 1-128 letters, digits, "_" or "+", got ${JSON.stringify(clientId)}`);
    const [idKey, accessKey] = await Promise.all([signingKey(), signingKey()]);
    return new LocalTokenIssuer(userPoolId, clientId, options, idKey, accessKey);
  }

  /** The public keys, as the pool's `jwks.json` lists them. */
  jwks(): LocalJwks {
    return { keys: [{ ...this.idKey.jwk }, { ...this.accessKey.jwk }] };
  }

  /** An ID token of `user`, as Cognito issues it on sign-in (the token the metered API takes). */
  async issueIdToken(user: LocalUser, options: IssueOptions = {}): Promise<string> {
    const email = checkEmail(user.email);
    const tenantId = checkTenant(user.tenantId);
    const sub = user.sub ?? randomUUID();
    const times = this.times(options);
    const payload: JWTPayload = {
      sub,
      email_verified: true,
      iss: this.issuer,
      'cognito:username': sub,
      origin_jti: randomUUID(),
      aud: this.clientId,
      event_id: randomUUID(),
      token_use: 'id',
      auth_time: times.iat,
      exp: times.exp,
      iat: times.iat,
      jti: randomUUID(),
      email,
      ...(tenantId === undefined ? {} : { [TENANT_CLAIM]: tenantId }),
    };
    return sign(payload, this.idKey);
  }

  /** An access token of `user` from the same sign-in (which the ID-token authorizer refuses). */
  async issueAccessToken(user: LocalUser, options: IssueOptions = {}): Promise<string> {
    checkEmail(user.email);
    const sub = user.sub ?? randomUUID();
    const times = this.times(options);
    const payload: JWTPayload = {
      sub,
      iss: this.issuer,
      client_id: this.clientId,
      origin_jti: randomUUID(),
      event_id: randomUUID(),
      token_use: 'access',
      scope: USER_POOL_ADMIN_SCOPE,
      auth_time: times.iat,
      exp: times.exp,
      iat: times.iat,
      jti: randomUUID(),
      username: sub,
    };
    return sign(payload, this.accessKey);
  }

  private times(options: IssueOptions): { iat: number; exp: number } {
    const issuedAt = options.issuedAt ?? this.now();
    if (!Number.isFinite(issuedAt)) throw new LocalTokenError(`issuedAt must be epoch milliseconds, got ${issuedAt}`);
    const validity = options.validitySeconds === undefined ? this.validitySeconds : checkValidity(options.validitySeconds, 'validitySeconds');
    const iat = Math.floor(issuedAt / 1000);
    return { iat, exp: iat + validity };
  }
}

function sign(payload: JWTPayload, key: SigningKey): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ kid: key.jwk.kid, alg: COGNITO_SIGNING_ALGORITHM }).sign(key.privateKey);
}

function checkEmail(email: string): string {
  if (typeof email !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(email)) throw new LocalTokenError(`email must be an email address, got ${JSON.stringify(email)}`);
  return email;
}

function checkTenant(tenantId: string | undefined): string | undefined {
  if (tenantId === undefined) return undefined;
  if (typeof tenantId !== 'string' || tenantId.length < TENANT_LENGTH.min || tenantId.length > TENANT_LENGTH.max) {
    throw new LocalTokenError(`tenantId must be ${TENANT_LENGTH.min}-${TENANT_LENGTH.max} characters (the user pool's tenant_id attribute), got ${JSON.stringify(tenantId)}`);
  }
  return tenantId;
}
