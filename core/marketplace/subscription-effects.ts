/**
 * What the caller of the subscription lifecycle must do after a change: publish an event to the SaaS
 * control plane, send final usage, off-board, read the entitlements again — or nothing, with the reason.
 *
 * Published detail-types: where the AWS Marketplace serverless SaaS quick start has a name,
 * its name is kept, so that control-plane rules written for it (e.g. the quick start's onboarding rule on
 * `New AWS Marketplace Subscriber`, which reads `detail.companyName`, `detail.contactEmail`,
 * `detail.contactPhone`, `detail.customerIdentifier`) keep working. Quick-start names from
 * https://github.com/aws-samples/aws-marketplace-serverless-saas-integration (src/grant-revoke-access-to-product.js,
 * src/subscription-sqs.js). `AWS Marketplace Unsubscribe Pending` is ours: the quick start's subject
 * for it ("unsubscribe pending") is not a usable event name.
 */
import type { Tenant, TenantState } from './tenant';

/** Detail-types published to the control plane. */
export const DETAIL_TYPES = {
  /** Subscribed and registered: provision the tenant and grant access (quick start's name). */
  newSubscriber: 'New AWS Marketplace Subscriber',
  /** The subscription failed (quick start's subject). */
  subscriptionFailed: 'AWS Marketplace Subscription failed',
  /** The buyer is leaving: final usage is being sent (ours). */
  unsubscribePending: 'AWS Marketplace Unsubscribe Pending',
  /** The subscription ended: revoke access (quick start's name). */
  endOfSubscription: 'AWS Marketplace customer end of subscription',
  /** The offer or the entitlements changed (quick start's name). */
  changeOfSubscription: 'AWS Marketplace customer change of subscription',
} as const;

/** A detail-type published to the control plane. */
export type PublishedDetailType = (typeof DETAIL_TYPES)[keyof typeof DETAIL_TYPES];

/**
 * The detail of a published event: the quick start's field names (`customerAWSAccountID` included, as
 * the quick start spells it) plus ours. Contains contact details: it goes to the control plane, never to logs.
 */
export interface PublishedDetail {
  readonly tenantId: string;
  readonly state: TenantState;
  readonly previousState?: TenantState;
  readonly productCode: string;
  readonly customerIdentifier?: string;
  readonly customerAWSAccountID?: string;
  readonly licenseArn?: string;
  readonly agreementId?: string;
  readonly companyName?: string;
  readonly contactPerson?: string;
  readonly contactEmail?: string;
  readonly contactPhone?: string;
  readonly tenantTier?: string;
  readonly offerId?: string;
  readonly isFreeTrialTermPresent: boolean;
  /** The notification that caused this, when one did (`sns:<id>` / `eventbridge:<id>`). */
  readonly eventId?: string;
}

/** Something the caller must do. Effects may be repeated when a notification is redelivered: make them idempotent. */
export type Effect =
  | { readonly type: 'publish'; readonly detailType: PublishedDetailType; readonly detail: PublishedDetail }
  /** Send all unsent usage of the tenant before `deadline` (epoch ms; about an hour after unsubscribe-pending). */
  | { readonly type: 'send_final_usage'; readonly deadline: number }
  /** Remove the tenant's access and resources (following the retention policy). */
  | { readonly type: 'offboard' }
  /** Read the entitlements (GetEntitlements) and hand them to `recordEntitlements`. */
  | { readonly type: 'refresh_entitlements' }
  /** Nothing to do: the notification was a duplicate, stale, or not for this tenant. */
  | { readonly type: 'ignore'; readonly reason: string }
  /** The notification cannot be applied yet (its tenant is unknown): deliver it again later. */
  | { readonly type: 'defer'; readonly reason: string };

/** How long after unsubscribe-pending (or Purchase Agreement Ended) final usage is still accepted: about one hour. */
export const FINAL_USAGE_WINDOW_MS = 60 * 60 * 1000;

/** A publish effect for a tenant (the detail is built from the tenant as it is after the change). */
export function publish(detailType: PublishedDetailType, tenant: Tenant, previousState: TenantState | undefined, eventId?: string): Effect {
  const { identity, contact } = tenant;
  const detail: PublishedDetail = {
    tenantId: tenant.tenantId,
    state: tenant.state,
    ...(previousState === undefined ? {} : { previousState }),
    productCode: identity.productCode,
    ...(identity.kind === 'customer-identifier'
      ? { customerIdentifier: identity.customerIdentifier }
      : {
          customerAWSAccountID: identity.customerAWSAccountId,
          licenseArn: identity.licenseArn,
          ...(identity.agreementId === undefined ? {} : { agreementId: identity.agreementId }),
          ...(identity.customerIdentifier === undefined ? {} : { customerIdentifier: identity.customerIdentifier }),
        }),
    ...(contact ?? {}),
    ...(tenant.tier === undefined ? {} : { tenantTier: tenant.tier }),
    ...(tenant.entitlement.offerId === undefined ? {} : { offerId: tenant.entitlement.offerId }),
    isFreeTrialTermPresent: tenant.entitlement.freeTrial,
    ...(eventId === undefined ? {} : { eventId }),
  };
  return { type: 'publish', detailType, detail };
}
