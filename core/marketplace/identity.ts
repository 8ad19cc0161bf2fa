/**
 * Who a Marketplace customer is, in the two identity schemes AWS Marketplace uses, and how a
 * notification is matched to a tenant.
 *
 * - Legacy: `CustomerIdentifier` + product code. The SNS notifications carry `customer-identifier` and
 *   `product-code` (https://docs.aws.amazon.com/marketplace/latest/userguide/saas-notification.html).
 * - Current: the buyer's AWS account + the licence (`CustomerAWSAccountId` + `LicenseArn`) + product
 *   code, as ResolveCustomer returns them and BatchMeterUsage takes them (never together with
 *   `CustomerIdentifier` in one record). The EventBridge licence events carry `acceptor.accountId`,
 *   `license.arn`, `product.code` and `agreement.id`; the purchase-agreement events carry only the
 *   account, the agreement id and the offer — no licence and no product code
 *   (https://docs.aws.amazon.com/marketplace/latest/userguide/notifications-eventbridge.html).
 *
 * Decisions (the documentation leaves these open):
 * - A licence is compared by its id (`l-…`), not by the whole ARN: the seller guide's licence-event
 *   example prints the ARN without its leading `arn:`, while ResolveCustomer returns a full ARN. An ARN
 *   that starts with `aws:` is stored with `arn:` put in front ({@link canonicalLicenseArn}).
 * - An agreement-only identity (purchase-agreement events) matches a tenant through the agreement id
 *   (or the id of the agreement it renews or replaces) and the buyer's account; such an event can never
 *   create a tenant, since it lacks what metering needs.
 * - A licence identity may also carry the legacy `customerIdentifier` (ResolveCustomer returns both
 *   while AWS migrates), so that legacy SNS notifications still reach a tenant registered with a licence.
 */
import { createHash } from 'node:crypto';

/** The legacy identity: Marketplace's opaque customer identifier, per product. */
export interface CustomerIdentifierIdentity {
  readonly kind: 'customer-identifier';
  readonly customerIdentifier: string;
  readonly productCode: string;
}

/** The current identity: the buyer's AWS account and licence, per product. */
export interface LicenseIdentity {
  readonly kind: 'license';
  /** 12-digit AWS account id of the buyer. */
  readonly customerAWSAccountId: string;
  readonly licenseArn: string;
  readonly productCode: string;
  /** The purchase agreement the licence belongs to, once an event has told us. */
  readonly agreementId?: string;
  /** The legacy identifier, when ResolveCustomer returned it too (migration period). */
  readonly customerIdentifier?: string;
}

/** How a tenant is identified towards AWS Marketplace (and billed). */
export type MarketplaceIdentity = CustomerIdentifierIdentity | LicenseIdentity;

/** What a purchase-agreement event says about the buyer: an account and an agreement, nothing more. */
export interface AgreementIdentity {
  readonly kind: 'agreement';
  readonly customerAWSAccountId: string;
  readonly agreementId: string;
  /** The agreement this one renews or replaces (Created events with intent RENEW / REPLACE). */
  readonly previousAgreementId?: string;
}

/** The identity a notification carries. */
export type EventIdentity = MarketplaceIdentity | AgreementIdentity;

const LICENSE_ID = /(?:^|[:/])(l-[A-Za-z0-9]+)$/;

/** The licence id (`l-…`) at the end of a licence ARN, or undefined when there is none. */
export function licenseIdOf(licenseArn: string): string | undefined {
  return LICENSE_ID.exec(licenseArn)?.[1];
}

/** A licence ARN with `arn:` put in front when it starts with `aws:` (see the module comment). */
export function canonicalLicenseArn(licenseArn: string): string {
  return licenseArn.startsWith('aws:') ? `arn:${licenseArn}` : licenseArn;
}

/**
 * The keys under which a tenant with (or an event carrying) this identity can be found. A tenant store
 * indexes every key of {@link tenantLookupKeys}; an event is looked up by each of its keys in turn.
 */
export function lookupKeys(identity: EventIdentity): string[] {
  switch (identity.kind) {
    case 'customer-identifier':
      return [customerKey(identity.productCode, identity.customerIdentifier)];
    case 'license': {
      const keys = [`license:${licenseIdOf(identity.licenseArn) ?? identity.licenseArn}`];
      if (identity.agreementId !== undefined) keys.push(`agreement:${identity.agreementId}`);
      if (identity.customerIdentifier !== undefined) keys.push(customerKey(identity.productCode, identity.customerIdentifier));
      return keys;
    }
    case 'agreement':
      return identity.previousAgreementId === undefined
        ? [`agreement:${identity.agreementId}`]
        : [`agreement:${identity.agreementId}`, `agreement:${identity.previousAgreementId}`];
  }
}

function customerKey(productCode: string, customerIdentifier: string): string {
  return `customer:${productCode}:${customerIdentifier}`;
}

function accountOf(identity: EventIdentity): string | undefined {
  return identity.kind === 'customer-identifier' ? undefined : identity.customerAWSAccountId;
}

function productOf(identity: EventIdentity): string | undefined {
  return identity.kind === 'agreement' ? undefined : identity.productCode;
}

/**
 * Whether an event's identity designates this tenant: they share a lookup key, and neither the buyer's
 * account nor the product code (where both sides know it) differ.
 */
export function identityMatches(tenant: MarketplaceIdentity, event: EventIdentity): boolean {
  const tenantAccount = accountOf(tenant);
  const eventAccount = accountOf(event);
  if (tenantAccount !== undefined && eventAccount !== undefined && tenantAccount !== eventAccount) return false;
  const eventProduct = productOf(event);
  if (eventProduct !== undefined && eventProduct !== tenant.productCode) return false;
  const keys = new Set(lookupKeys(tenant));
  return lookupKeys(event).some((key) => keys.has(key));
}

/**
 * A stable tenant id derived from the identity (so that two concurrent creations of the same customer
 * agree): `mp-` and 24 hex digits of a SHA-256 of the identity's primary key.
 */
export function deriveTenantId(identity: MarketplaceIdentity): string {
  const primary = lookupKeys(identity)[0];
  return `mp-${createHash('sha256').update(primary).digest('hex').slice(0, 24)}`;
}
