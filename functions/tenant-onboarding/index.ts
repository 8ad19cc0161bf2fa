import { Logger } from '@aws-lambda-powertools/logger';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import type { Context } from 'aws-lambda';
import { CognitoTenantUserDirectory } from '../../adapters/cognito/cognito-tenant-user-directory';
import { CONTROL_PLANE_EVENT_SOURCE } from '../../adapters/eventbridge/eventbridge-event-publisher';
import { InvalidOnboardingEvent, parseOnboardingEvent } from '../../core/marketplace/onboarding-event';
import { CrossTenantUserError, onboardFirstUser } from '../../core/marketplace/onboarding-user';
import { requiredEnvironment } from '../commons/environment';

/*
 * Environment: USER_POOL_ID (the tenant user pool). Missing configuration stops the function at cold
 * start.
 */
const env = requiredEnvironment(process.env, ['USER_POOL_ID']);
const logger = new Logger({ serviceName: 'tenant-onboarding' });
const directory = new CognitoTenantUserDirectory(new CognitoIdentityProviderClient({}), env.USER_POOL_ID);

/**
 * Target of the rule on the project's bus for `New AWS Marketplace Subscriber` (source
 * `saas-metering.marketplace`), used when no external onboarding URL is configured: creates the
 * tenant's first Cognito user and lets Cognito e-mail the invitation with a temporary password
 * (`core/marketplace/onboarding-user.ts`, `adapters/cognito/cognito-tenant-user-directory.ts`).
 * Idempotent: a user already in the tenant is success. An invalid event, a user of another tenant or
 * a Cognito error fails the invocation (asynchronous: Lambda retries, then the on-failure
 * destination keeps the event). Logs carry the tenant id and the event id, never the e-mail or name.
 */
export async function handler(event: unknown, context?: Context) {
  if (context) logger.addContext(context);
  const parsed = parseOnboardingEvent(event, CONTROL_PLANE_EVENT_SOURCE);
  if (!parsed.ok) {
    logger.error('onboarding event refused', { outcome: 'invalid_event', reason: parsed.reason, ...(parsed.eventId === undefined ? {} : { eventId: parsed.eventId }) });
    throw new InvalidOnboardingEvent(parsed.reason);
  }
  const { user } = parsed;
  const where = { tenantId: user.tenantId, ...(parsed.eventId === undefined ? {} : { eventId: parsed.eventId }), ...(parsed.notificationKey === undefined ? {} : { notificationKey: parsed.notificationKey }) };
  try {
    const outcome = await onboardFirstUser(directory, user);
    logger.info(outcome === 'created' ? 'first tenant user created and invited by e-mail' : 'first tenant user already exists in the tenant', { outcome, ...where });
    return { tenantId: user.tenantId, outcome };
  } catch (error) {
    if (error instanceof CrossTenantUserError) {
      logger.error('onboarding refused: the contact e-mail belongs to a user of another tenant (never moved)', { outcome: 'cross_tenant_user', ...where, existingTenantId: error.existingTenantId ?? null });
    } else {
      logger.error('onboarding failed', { outcome: 'failed', ...where, errorName: (error as { name?: unknown } | null)?.name });
    }
    throw error;
  }
}
