/**
 * The registration page (the listing's fulfilment URL) as a function over ports, free of AWS and HTTP
 * frameworks: the Lambda handler and the local server both call {@link createRegistrationFlow}'s result.
 *
 * 1. `POST x-amzn-marketplace-token=<token>` (AWS Marketplace, from the buyer's browser): a token that
 *    already completed a registration gets the "already used" page (409); otherwise ResolveCustomer
 *    turns it into the buyer's identity (refused: 400; other failures: 502 with a reference id), the
 *    token's SHA-256 is recorded as pending with that identity (conditional put), and a 30-minute
 *    registration session is opened: the form, with the session id in a hidden field. Posting the same
 *    token again before completion (back, refresh) opens another session for the same buyer from the
 *    recorded identity, without resolving the token again within an hour (Marketplace may refuse a
 *    resubmitted token as expired, which would lock the buyer out).
 * 2. `POST session=<id>&companyName=…`: invalid fields → the form again (400) with the values and an
 *    error per field, the session kept; unknown, expired or already used session → 400; otherwise the
 *    session is consumed (conditional delete: a double submit registers once), the tenant registered
 *    and saved, its `publish` effects sent to the control plane, the token marked completed → 200.
 * 3. `GET`: how to start from AWS Marketplace (200); other methods: 405.
 *
 * Order after consuming the session: save (with the events in the tenant's outbox) → publish the
 * outbox → mark the token completed. A publish failure
 * answers 502 and leaves the token pending, so the buyer can come back from Marketplace; the failure
 * is logged with the tenant id and the unpublished detail-types, which stay in the outbox until the
 * next attempt or notification of that tenant publishes them. A failure to mark the token is logged
 * and does not fail the registration.
 *
 * Logs carry the outcome, a session fingerprint and the tenant id — never the token, the session id
 * or contact details.
 */
import { randomUUID } from 'node:crypto';
import type { MarketplaceIdentity } from './identity';
import { EMPTY_CONTACT_VALUES, parseRegistrationPost, validateContactValues, type ContactValues, type RawBody } from './registration-form';
import { pageResponse, type PageOptions } from './registration-html';
import {
  RegistrationTokenError,
  type CustomerResolver,
  type RegistrationLog,
  type RegistrationSessions,
  type TokenRecord,
} from './registration-ports';
import { saveRegistration } from './registration-save';
import { hashToken, isSessionId, newSessionId, SESSION_TTL_MS, sessionFingerprint, TOKEN_RECORD_TTL_MS, TOKEN_REUSE_WINDOW_MS } from './registration-session';
import type { RegistrationPage, RegistrationResponse } from './registration-views';
import type { TenantRegistry } from './tenant-registry';
import { publishOutbox } from './outbox';
import type { EventPublisher } from './control-plane-events';

/** An HTTP request to the registration page. */
export interface RegistrationRequest extends RawBody {
  readonly method: string;
}

/** What the flow talks to. */
export interface RegistrationFlowPorts {
  readonly resolver: CustomerResolver;
  readonly sessions: RegistrationSessions;
  readonly registry: TenantRegistry;
  readonly publisher: EventPublisher;
  readonly log: RegistrationLog;
}

/** Options of the flow: page texts, and the clock and ids (injectable for tests). */
export interface RegistrationFlowOptions extends PageOptions {
  /** @default Date.now */
  readonly now?: () => number;
  /** Reference ids shown on the 502 page. @default randomUUID */
  readonly newReferenceId?: () => string;
  /** @default 256 random bits, base64url */
  readonly newSessionId?: () => string;
}

/** The registration page: a request in, a page out (never throws). */
export type RegistrationFlow = (request: RegistrationRequest) => Promise<RegistrationResponse>;

/** A failure in one step, with the step's name for the log. */
class StepFailure extends Error {
  constructor(readonly step: string, override readonly cause: unknown, readonly attributes: Record<string, unknown> = {}) {
    super(`${step} failed`);
    this.name = 'StepFailure';
  }
}

async function step<T>(name: string, action: () => Promise<T>, attributes?: Record<string, unknown>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof RegistrationTokenError) throw error;
    throw new StepFailure(name, error, attributes);
  }
}

/** The error's name and (except for ResolveCustomer, whose input is the token) a bounded message. */
function errorAttributes(step: string, error: unknown): Record<string, unknown> {
  const name = (error as { name?: unknown } | null)?.name;
  const message = (error as { message?: unknown } | null)?.message;
  return {
    errorName: typeof name === 'string' ? name : typeof error,
    ...(step === 'resolve_customer' || typeof message !== 'string' ? {} : { errorMessage: message.slice(0, 300) }),
  };
}

/** Builds the registration flow over its ports. */
export function createRegistrationFlow(ports: RegistrationFlowPorts, options: RegistrationFlowOptions = {}): RegistrationFlow {
  const now = options.now ?? Date.now;
  const newReference = options.newReferenceId ?? randomUUID;
  const newSession = options.newSessionId ?? newSessionId;
  const { resolver, sessions, registry, publisher, log } = ports;

  /** The identity of a token: recorded when it was resolved recently, otherwise from ResolveCustomer. */
  async function identityOf(token: string, tokenHash: string, record: TokenRecord | undefined, at: number): Promise<{ identity: MarketplaceIdentity; resolved: boolean } | { page: RegistrationPage }> {
    if (record?.status === 'pending' && at - record.resolvedAt < TOKEN_REUSE_WINDOW_MS) return { identity: record.identity, resolved: false };
    let identity: MarketplaceIdentity;
    try {
      identity = await step('resolve_customer', () => resolver.resolve(token));
    } catch (error) {
      if (!(error instanceof RegistrationTokenError)) throw error;
      log.info('registration token refused', { outcome: `token_${error.problem}` });
      return { page: { kind: error.problem === 'invalid' ? 'invalid-token' : 'expired-token' } };
    }
    const recorded = await step('record_token', () => sessions.recordToken(tokenHash, identity, at, at + TOKEN_RECORD_TTL_MS));
    if (recorded.status === 'completed') return { page: alreadyUsed() };
    return { identity, resolved: true };
  }

  function alreadyUsed(session?: string): RegistrationPage {
    log.info('registration token already used', { outcome: 'token_already_used', ...(session === undefined ? {} : { session }) });
    return { kind: 'already-used' };
  }

  async function openSession(token: string): Promise<RegistrationPage> {
    const tokenHash = hashToken(token);
    const record = await step('find_token', () => sessions.findToken(tokenHash));
    if (record?.status === 'completed') return alreadyUsed();
    const at = now();
    const found = await identityOf(token, tokenHash, record, at);
    if ('page' in found) return found.page;
    const { identity, resolved } = found;
    const sessionId = newSession();
    await step('open_session', () => sessions.open({ sessionId, identity, tokenHash, createdAt: at, expiresAt: at + SESSION_TTL_MS }));
    log.info('registration session opened', { outcome: 'session_opened', session: sessionFingerprint(sessionId), productCode: identity.productCode, identityKind: identity.kind, resolved });
    return { kind: 'form', sessionId, values: EMPTY_CONTACT_VALUES, errors: {} };
  }

  async function submit(sessionId: string, values: ContactValues): Promise<RegistrationPage> {
    if (!isSessionId(sessionId)) {
      log.info('registration form refused', { outcome: 'session_malformed' });
      return { kind: 'session-expired' };
    }
    const session = sessionFingerprint(sessionId);
    const validation = validateContactValues(values);
    if (!validation.ok) {
      const open = await step('find_session', () => sessions.find(sessionId, now()));
      if (open === undefined) {
        log.info('registration form refused', { outcome: 'session_unknown', session });
        return { kind: 'session-expired' };
      }
      log.info('registration form invalid', { outcome: 'invalid_fields', session, fields: Object.keys(validation.errors) });
      return { kind: 'form', sessionId, values, errors: validation.errors };
    }
    const consumed = await step('consume_session', () => sessions.consume(sessionId, now()));
    if (consumed === undefined) {
      log.info('registration form refused', { outcome: 'session_unknown', session });
      return { kind: 'session-expired' };
    }
    if ((await step('find_token', () => sessions.findToken(consumed.tokenHash)))?.status === 'completed') return alreadyUsed(session);
    const at = now();
    const { tenant, saved, effects } = await step('save_tenant', () => saveRegistration(registry, consumed.identity, validation.registration, at), { session });
    for (const effect of effects) {
      if (effect.type !== 'publish') log.info('effect not carried out by the registration page', { tenantId: tenant.tenantId, effect: effect.type });
    }
    // The events were saved in the tenant's outbox with the registration; publish them (and any an
    // earlier attempt left). On failure they stay there for the next attempt or notification.
    const current = await step('read_tenant', () => registry.get(tenant.tenantId), { tenantId: tenant.tenantId });
    const unpublished = current?.outbox.map((event) => event.detailType) ?? [];
    const published = await step('publish', () => publishOutbox(registry, current, publisher), { tenantId: tenant.tenantId, unpublished });
    try {
      await sessions.completeToken(consumed.tokenHash, tenant.tenantId, at, at + TOKEN_RECORD_TTL_MS);
    } catch (error) {
      log.warn('registration token not marked completed', { tenantId: tenant.tenantId, session, ...errorAttributes('complete_token', error) });
    }
    log.info('tenant registered', { outcome: 'registered', session, tenantId: tenant.tenantId, state: tenant.state, saved, published });
    return { kind: 'success', tenantId: tenant.tenantId, state: tenant.state, companyName: validation.registration.companyName, contactEmail: validation.registration.contactEmail };
  }

  async function route(request: RegistrationRequest): Promise<RegistrationPage> {
    const method = request.method.toUpperCase();
    if (method === 'GET' || method === 'HEAD') return { kind: 'start-from-marketplace', status: 200 };
    if (method !== 'POST') return { kind: 'start-from-marketplace', status: 405 };
    const post = parseRegistrationPost(request);
    switch (post.kind) {
      case 'unsupported-media-type':
        log.info('registration request refused', { outcome: 'unsupported_media_type' });
        return { kind: 'unreadable-request', status: 415 };
      case 'too-large':
        log.info('registration request refused', { outcome: 'body_too_large' });
        return { kind: 'unreadable-request', status: 413 };
      case 'no-token':
        log.info('registration request refused', { outcome: 'token_missing' });
        return { kind: 'start-from-marketplace', status: 400 };
      case 'token':
        return openSession(post.token);
      case 'submission':
        return submit(post.sessionId, post.values);
    }
  }

  return async (request) => {
    let page: RegistrationPage;
    try {
      page = await route(request);
    } catch (error) {
      const referenceId = newReference();
      const failure = error instanceof StepFailure ? error : new StepFailure('unexpected', error);
      log.error('registration failed', { outcome: 'service_error', referenceId, step: failure.step, ...failure.attributes, ...errorAttributes(failure.step, failure.cause) });
      page = { kind: 'service-error', referenceId };
    }
    return pageResponse(page, options);
  };
}
