/**
 * The one normalised form of an AWS Marketplace subscription notification, whichever channel it came
 * through: the legacy SNS topics (`aws-mp-subscription-notification-<productCode>`,
 * `aws-mp-entitlement-notification-<productCode>`) or the EventBridge events of source
 * `aws.agreement-marketplace`. Produced by `notification-parsers.ts`, consumed by
 * `subscription-lifecycle.ts`.
 *
 * Mapping (sources: https://docs.aws.amazon.com/marketplace/latest/userguide/saas-notification.html,
 * https://docs.aws.amazon.com/marketplace/latest/userguide/saas-eventbridge-integration.html,
 * https://docs.aws.amazon.com/marketplace/latest/userguide/notifications-eventbridge.html):
 *
 * | notification                                         | kind                  |
 * |------------------------------------------------------|-----------------------|
 * | SNS `subscribe-success`                              | `subscribed`          |
 * | SNS `subscribe-fail`                                 | `subscribe_failed`    |
 * | SNS `unsubscribe-pending`                            | `unsubscribe_pending` |
 * | SNS `unsubscribe-success`                            | `unsubscribed`        |
 * | SNS `entitlement-updated`                            | `entitlement_updated` |
 * | EventBridge `License Updated - Manufacturer`         | `subscribed`          |
 * | EventBridge `License Deprovisioned - Manufacturer`   | `unsubscribed`        |
 * | EventBridge `Purchase Agreement Created - …`         | `agreement_created`   |
 * | EventBridge `Purchase Agreement Amended - …`         | `agreement_amended`   |
 * | EventBridge `Purchase Agreement Ended - …`, status CANCELLED / EXPIRED / TERMINATED / ARCHIVED (or none) | `unsubscribe_pending` |
 * | EventBridge `Purchase Agreement Ended - …`, status RENEWED / REPLACED / SUPERSEDED / ROLLED_BACK | `agreement_replaced` |
 *
 * Decisions: the licence events are documented for the manufacturer only; a `- Proposer` variant
 * would be read the same way. `License Updated` is the subscription confirmation of the current
 * scheme (it is the only event with the licence metering needs, and it says the buyer's entitlement
 * changed), so it maps to `subscribed`; the lifecycle also asks for the entitlements to be read again. `Purchase Agreement
 * Ended` opens the one-hour final-usage window and `License Deprovisioned` closes it
 * (saas-eventbridge-integration.html, "Report final usage before license is deprovisioned"), the same
 * meaning as `unsubscribe-pending` / `unsubscribe-success`. An agreement that ended because it was
 * renewed or replaced is not a cancellation (statuses of DescribeAgreement:
 * https://docs.aws.amazon.com/marketplace-agreements/latest/api-reference/API_DescribeAgreement.html).
 */
import type { EventIdentity } from './identity';

/** Notifications that set the subscription status of a tenant. */
export const STATUS_EVENT_KINDS = ['subscribe_failed', 'subscribed', 'unsubscribe_pending', 'unsubscribed'] as const;
/** A notification that sets the subscription status. */
export type StatusEventKind = (typeof STATUS_EVENT_KINDS)[number];

/** Notifications that inform without changing the status. */
export const INFO_EVENT_KINDS = ['entitlement_updated', 'agreement_created', 'agreement_amended', 'agreement_replaced'] as const;
/** A notification that informs without changing the status. */
export type InfoEventKind = (typeof INFO_EVENT_KINDS)[number];

/** Every kind of normalised notification. */
export type SubscriptionEventKind = StatusEventKind | InfoEventKind;

/** Whether a kind sets the subscription status. */
export function isStatusEventKind(kind: SubscriptionEventKind): kind is StatusEventKind {
  return (STATUS_EVENT_KINDS as readonly string[]).includes(kind);
}

/** What else a notification said (only what was present and valid). */
export interface SubscriptionEventDetails {
  /** The SNS `action` or the EventBridge `detail-type` this event came from. */
  readonly origin: string;
  /** EventBridge: whose copy of the event this is. */
  readonly role?: 'manufacturer' | 'proposer';
  /** SNS `offer-identifier` or EventBridge `offer.id`. */
  readonly offerId?: string;
  /** SNS `isFreeTrialTermPresent` (sent as the string "true" / "false"). */
  readonly freeTrial?: boolean;
  /** SNS `TopicArn` (absent with raw message delivery). */
  readonly topicArn?: string;
  /** EventBridge `detail.requestId`. */
  readonly requestId?: string;
  /** EventBridge `detail.agreement.intent` (NEW, RENEW, REPLACE, AMEND, …). */
  readonly agreementIntent?: string;
  /** EventBridge `detail.agreement.status` (ACTIVE, CANCELLED, EXPIRED, RENEWED, …). */
  readonly agreementStatus?: string;
  /** EventBridge `detail.agreement.startTime`, epoch ms. */
  readonly agreementStartsAt?: number;
  /** EventBridge `detail.agreement.endTime`, epoch ms. */
  readonly agreementEndsAt?: number;
  /** EventBridge `detail.product.id` (the catalog entity id, not the product code). */
  readonly productId?: string;
}

/** One notification, normalised. */
export interface SubscriptionEvent {
  readonly kind: SubscriptionEventKind;
  readonly identity: EventIdentity;
  /** When Marketplace emitted it (SNS `Timestamp`, EventBridge `time`, or SQS `SentTimestamp`), epoch ms. */
  readonly occurredAt: number;
  /** SNS `MessageId`, EventBridge `id`, or (raw SNS delivery) the SQS message id: the de-duplication key. */
  readonly eventId: string;
  readonly source: 'sns' | 'eventbridge';
  readonly details: SubscriptionEventDetails;
}

/** The key under which an event is remembered as applied (ids of the two channels never collide). */
export function appliedEventKey(event: Pick<SubscriptionEvent, 'source' | 'eventId'>): string {
  return `${event.source}:${event.eventId}`;
}
