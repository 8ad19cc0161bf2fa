/**
 * The onboarding event: `New AWS Marketplace Subscriber`, published on the project's bus when a tenant
 * becomes active (subscribed and registered; see `subscription-effects.ts`). When no external
 * onboarding URL is configured, a rule on that bus sends it to the tenant-onboarding function, which
 * creates the tenant's first user from it ({@link parseOnboardingEvent} → `onboarding-user.ts`).
 *
 * Only what the first user needs is read and checked: `detail.tenantId`, `detail.contactEmail`,
 * `detail.contactPerson` (the registration page validated them; they are checked again because the
 * bus accepts events from anyone allowed to put them). Reasons name fields, never values.
 */
import { z } from 'zod';
import { describeIssues } from './notification-schemas';
import { DETAIL_TYPES } from './subscription-effects';
import { TENANT_ID } from '../identifiers';

/** The detail-type the onboarding rule matches. */
export const ONBOARDING_DETAIL_TYPE = DETAIL_TYPES.newSubscriber;

/** The first user of a tenant: who is invited, and to which tenant they belong for ever. */
export interface FirstTenantUser {
  readonly tenantId: string;
  /** Sign-in email (the user name of the pool). */
  readonly email: string;
  /** Display name (`name` attribute). */
  readonly name: string;
}

/** The tenant id as the pool's `custom:tenant_id` takes it (1–64 characters; ours are `mp-` + 24 hex). */
const tenantIdSchema = z.string().regex(TENANT_ID);

const envelopeSchema = z.object({
  id: z.string().min(1).max(256).optional(),
  source: z.string().min(1).max(256),
  'detail-type': z.string().min(1).max(256),
  detail: z.record(z.string(), z.unknown()),
});

const detailSchema = z.object({
  tenantId: tenantIdSchema,
  // Cognito user names are at most 128 characters; the e-mail is the user name.
  contactEmail: z.string().trim().max(128).regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'must be an e-mail address'),
  contactPerson: z.string().trim().min(1).max(256),
  eventId: z.string().max(300).optional(),
});

/** An onboarding event that cannot be used (wrong source or detail-type, missing or malformed fields). */
export class InvalidOnboardingEvent extends Error {
  constructor(readonly reason: string) {
    super(`invalid onboarding event: ${reason}`);
    this.name = 'InvalidOnboardingEvent';
  }
}

/** A parsed onboarding event, or why it was refused. */
export type ParsedOnboardingEvent =
  | { readonly ok: true; readonly user: FirstTenantUser; readonly eventId?: string; readonly notificationKey?: string }
  | { readonly ok: false; readonly reason: string; readonly eventId?: string };

/**
 * Reads the first user from an EventBridge event of `expectedSource` and detail-type
 * {@link ONBOARDING_DETAIL_TYPE}. Never throws.
 */
export function parseOnboardingEvent(event: unknown, expectedSource: string): ParsedOnboardingEvent {
  const envelope = envelopeSchema.safeParse(event);
  if (!envelope.success) return { ok: false, reason: `invalid EventBridge event: ${describeIssues(envelope.error.issues)}` };
  const { id, source, detail } = envelope.data;
  const eventId = id === undefined ? {} : { eventId: id };
  if (source !== expectedSource) return { ok: false, reason: `the event source is not ${expectedSource}`, ...eventId };
  if (envelope.data['detail-type'] !== ONBOARDING_DETAIL_TYPE) return { ok: false, reason: `the detail-type is not "${ONBOARDING_DETAIL_TYPE}"`, ...eventId };
  const parsed = detailSchema.safeParse(detail);
  if (!parsed.success) return { ok: false, reason: `invalid ${ONBOARDING_DETAIL_TYPE} detail: ${describeIssues(parsed.error.issues)}`, ...eventId };
  const { tenantId, contactEmail, contactPerson, eventId: notificationKey } = parsed.data;
  return {
    ok: true,
    user: { tenantId, email: contactEmail, name: contactPerson },
    ...eventId,
    ...(notificationKey === undefined ? {} : { notificationKey }),
  };
}
