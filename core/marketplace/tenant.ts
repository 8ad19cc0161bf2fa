/**
 * The tenant of an AWS Marketplace customer: who it is towards Marketplace, where its subscription
 * stands, what the registration page captured, what it is entitled to, and what is needed to apply
 * notifications idempotently and in any order (see `subscription-lifecycle.ts`).
 *
 * All times are epoch milliseconds. Times named after a notification (`subscribedAt`, …) are
 * Marketplace's time of the *latest* such notification, not the time we processed it; `createdAt`,
 * `updatedAt` and `registeredAt` are our clock.
 */
import { z } from 'zod';
import type { MarketplaceIdentity } from './identity';
import type { MeteringCustomer } from './metering-records';
import type { StatusEventKind } from './subscription-event';

/**
 * Where the subscription stands:
 * - `pending_registration`: onboarding is incomplete — the registration page has not been completed
 *   (`registeredAt` absent), or it has and Marketplace has not confirmed the subscription yet
 *   (`lastStatusEvent` absent). Decision: no separate state for the second case; see the lifecycle.
 * - `active`: subscribed and registered; usage is metered.
 * - `unsubscribe_pending`: the buyer is leaving; final usage is due within about an hour.
 * - `cancelled`: the subscription ended; no usage is accepted any more.
 * - `failed`: the subscription failed (e.g. payment); no access, no metering.
 */
export type TenantState = 'pending_registration' | 'active' | 'unsubscribe_pending' | 'cancelled' | 'failed';

/** The contact details the registration page captures (the quick start's field names). */
export interface ContactDetails {
  readonly companyName: string;
  readonly contactPerson: string;
  readonly contactEmail: string;
  readonly contactPhone: string;
}

/** One contract dimension the buyer is entitled to (from GetEntitlements). */
export interface EntitlementDimension {
  readonly dimension: string;
  /** Purchased quantity, when the entitlement is a quantity. */
  readonly quantity?: number;
  /** Expiry, epoch ms. */
  readonly expiresAt?: number;
}

/** What the buyer bought, as far as the notifications and GetEntitlements told us. */
export interface Entitlement {
  /** SNS `isFreeTrialTermPresent`; false until a notification says otherwise. */
  readonly freeTrial: boolean;
  /** The offer accepted, when a notification named it. */
  readonly offerId?: string;
  /** Contract dimensions, when read from GetEntitlements (see `recordEntitlements`). */
  readonly dimensions?: readonly EntitlementDimension[];
  /** When those dimensions were read, epoch ms. */
  readonly dimensionsAsOf?: number;
}

/** The time and id of an applied notification; orders notifications that carry the same time. */
export interface EventStamp {
  readonly occurredAt: number;
  /** The applied-event key (`sns:<id>` / `eventbridge:<id>`). */
  readonly eventId: string;
}

/** Fields set by the newest notification that carried them (last writer wins by {@link EventStamp}). */
export type VersionedField = 'offerId' | 'freeTrial' | 'licenseArn' | 'agreementId';

/** A tenant. Immutable: every change returns a new object. */
export interface Tenant {
  readonly tenantId: string;
  readonly identity: MarketplaceIdentity;
  readonly state: TenantState;
  /** The plan the control plane provisions (e.g. "Basic"); the registration page sets it. */
  readonly tier?: string;
  readonly contact?: ContactDetails;
  readonly entitlement: Entitlement;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** First completion of the registration page (our clock). */
  readonly registeredAt?: number;
  /** Latest `subscribed` notification (Marketplace's clock). */
  readonly subscribedAt?: number;
  /** Latest `subscribe_failed` notification. */
  readonly subscribeFailedAt?: number;
  /** Latest `unsubscribe_pending` notification: the final-usage window opened then. */
  readonly unsubscribePendingAt?: number;
  /** Latest `unsubscribed` notification. */
  readonly cancelledAt?: number;
  /** Latest time of any applied notification. */
  readonly lastEventAt?: number;
  /** The status notification that decides `state` (the newest one; see the lifecycle). */
  readonly lastStatusEvent?: EventStamp & { readonly kind: StatusEventKind };
  /** Which notification last set each {@link VersionedField}. */
  readonly fieldVersions: Readonly<Partial<Record<VersionedField, EventStamp>>>;
  /** Keys of the most recently applied notifications (at most {@link MAX_APPLIED_EVENT_IDS}), oldest first. */
  readonly appliedEventIds: readonly string[];
}

/**
 * How many applied notification ids a tenant remembers. Older duplicates are still harmless: applying a
 * notification twice never changes the tenant twice (see the lifecycle), it only repeats its effects.
 */
export const MAX_APPLIED_EVENT_IDS = 64;

/** The registration page's input: contact details and, optionally, the tier chosen. */
export const registrationSchema = z.object({
  companyName: z.string().trim().min(1).max(256),
  contactPerson: z.string().trim().min(1).max(256),
  contactEmail: z.string().trim().max(320).regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'must be an e-mail address'),
  contactPhone: z.string().trim().min(3).max(64).regex(/^[+0-9 ().-]+$/, 'must be a phone number'),
  tier: z.string().trim().min(1).max(64).optional(),
});

/** A validated registration. */
export type Registration = z.infer<typeof registrationSchema>;

/** Whether usage of this tenant is sent to Marketplace: active, or leaving with final usage still due. */
export function isBillable(tenant: Tenant): boolean {
  return tenant.state === 'active' || tenant.state === 'unsubscribe_pending';
}

/** The customer fields of a BatchMeterUsage record for this tenant (one identity scheme, never both). */
export function meteringCustomerOf(tenant: Tenant): MeteringCustomer {
  return tenant.identity.kind === 'license'
    ? { customerAWSAccountId: tenant.identity.customerAWSAccountId, licenseArn: tenant.identity.licenseArn }
    : { customerIdentifier: tenant.identity.customerIdentifier };
}
