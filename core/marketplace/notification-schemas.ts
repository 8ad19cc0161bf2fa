/**
 * Zod schemas of the AWS Marketplace notification payloads, as documented (no example of the
 * documentation is copied; field names and types only):
 *
 * - SNS envelope as delivered to SQS (raw message delivery off): `Type` ("Notification"), `MessageId`,
 *   `TopicArn`, optional `Subject`, `Message` (a string), `Timestamp` (ISO 8601, GMT), signature fields
 *   (not checked here: SQS delivery from an SNS subscription is authenticated by the queue policy).
 *   https://docs.aws.amazon.com/sns/latest/dg/http-notification-json.html
 *   With raw message delivery the SQS body is the `Message` itself and SNS metadata is stripped:
 *   https://docs.aws.amazon.com/sns/latest/dg/sns-large-payload-raw-message-delivery.html
 * - Legacy Marketplace message (the SNS `Message`): `action`, `customer-identifier`, `product-code`;
 *   on the subscription topic also `offer-identifier` (only with subscribe-success / subscribe-fail) and
 *   `isFreeTrialTermPresent` (a *string* "true"/"false"). The entitlement topic's action is always
 *   `entitlement-updated`. https://docs.aws.amazon.com/marketplace/latest/userguide/saas-notification.html
 * - EventBridge event: `id`, `detail-type`, `source` (`aws.agreement-marketplace`), `time`, `detail`.
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html
 *   Purchase-agreement detail: `requestId`, `agreement` {`id`, `intent`, `status`, `startTime`,
 *   `endTime`, `previousAgreementId`}, `acceptor.accountId`, `proposer.accountId`, `offer.id`,
 *   `product.id`, `resaleAuthorization.id` (may be null). Licence detail: `agreement.id`,
 *   `product.code`, `product.id`, `license.arn`, `acceptor.accountId`, `offer.id`.
 *   https://docs.aws.amazon.com/marketplace/latest/userguide/notifications-eventbridge.html
 *
 * Decisions where the documentation is unclear:
 * - The seller guide's example `customer-identifier` starts with a blank; identifiers are trimmed.
 * - `isFreeTrialTermPresent` is accepted as "true"/"false" (any case) or a JSON boolean; anything else
 *   is invalid (the notification is not guessed at).
 * - An empty `offer-identifier` counts as absent.
 * - Fields we do not use are not validated (e.g. `proposer`, `renewalSummary`), so a change to them
 *   cannot make us drop a subscription.
 * - Identifier formats: product code as the listing configuration checks it; AWS account ids are 12
 *   digits; agreement ids follow DescribeAgreement (`[A-Za-z0-9_/-]`, at most 64); a licence ARN must
 *   end in a licence id (`l-…`); other ids are 1–256 visible ASCII characters.
 */
import { z } from 'zod';

/** Marketplace opened in 2012: an earlier notification time is not plausible. */
export const MIN_NOTIFICATION_TIME = Date.UTC(2012, 0, 1);

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/** An ISO 8601 date-time with an offset → epoch ms, or undefined when invalid or implausible. */
export function parseIsoTime(text: string): number | undefined {
  if (!ISO_UTC.test(text)) return undefined;
  const millis = Date.parse(text);
  return Number.isFinite(millis) && millis >= MIN_NOTIFICATION_TIME ? millis : undefined;
}

const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/** A notification or request id. */
export const idSchema = z.string().min(1).max(256).regex(VISIBLE_ASCII);
/** An ISO 8601 time (kept as text; converted with {@link parseIsoTime}). */
export const isoTimeSchema = z.string().max(40).refine((text) => parseIsoTime(text) !== undefined, 'must be an ISO 8601 time after 2012');
const customerIdentifierSchema = z.string().trim().min(1).max(255).regex(VISIBLE_ASCII);
const productCodeSchema = z.string().regex(/^[A-Za-z0-9_-]{1,255}$/);
const accountIdSchema = z.string().regex(/^\d{12}$/);
const agreementIdSchema = z.string().regex(/^[A-Za-z0-9_/-]{1,64}$/);
const licenseArnSchema = z.string().max(2048).regex(VISIBLE_ASCII).regex(/(?:^|[:/])l-[A-Za-z0-9]+$/);
const optionalIdSchema = idSchema.nullish();
/** An offer id; empty means absent. */
const offerIdSchema = z.string().trim().max(256).regex(/^[\x21-\x7e]*$/).nullish();
/** An enumeration value such as an agreement status or intent. */
const codeSchema = z.string().regex(/^[A-Z][A-Z_]{0,39}$/).nullish();

/** The SNS envelope of a notification delivered to SQS. */
export const snsEnvelopeSchema = z.object({
  Type: z.string().max(64),
  MessageId: idSchema,
  TopicArn: z.string().min(1).max(512).regex(VISIBLE_ASCII),
  Subject: z.string().max(512).nullish(),
  Message: z.string(),
  Timestamp: isoTimeSchema,
});

/** The actions of the legacy topics. */
export const LEGACY_ACTIONS = ['subscribe-success', 'subscribe-fail', 'unsubscribe-pending', 'unsubscribe-success', 'entitlement-updated'] as const;
/** An action of the legacy topics. */
export type LegacyAction = (typeof LEGACY_ACTIONS)[number];

/** The legacy Marketplace message (the SNS `Message`, or the SQS body with raw delivery). */
export const legacyMessageSchema = z.object({
  action: z.enum(LEGACY_ACTIONS),
  'customer-identifier': customerIdentifierSchema,
  'product-code': productCodeSchema,
  'offer-identifier': offerIdSchema,
  isFreeTrialTermPresent: z.union([z.boolean(), z.string().regex(/^(?:true|false)$/i)]).nullish(),
});

/** The EventBridge event envelope (the detail is checked per detail-type). */
export const eventBridgeEnvelopeSchema = z.object({
  id: idSchema,
  'detail-type': z.string().min(1).max(256),
  source: z.string().min(1).max(256),
  time: isoTimeSchema,
  detail: z.record(z.string(), z.unknown()),
});

/** The detail of the purchase-agreement events (Created, Amended, Ended). */
export const agreementDetailSchema = z.object({
  requestId: optionalIdSchema,
  agreement: z.object({
    id: agreementIdSchema,
    intent: codeSchema,
    status: codeSchema,
    startTime: isoTimeSchema.nullish(),
    endTime: isoTimeSchema.nullish(),
    previousAgreementId: agreementIdSchema.nullish(),
  }),
  acceptor: z.object({ accountId: accountIdSchema }),
  offer: z.object({ id: offerIdSchema }).nullish(),
  product: z.object({ id: optionalIdSchema }).nullish(),
});

/** The detail of the licence events (Updated, Deprovisioned). */
export const licenseDetailSchema = z.object({
  requestId: optionalIdSchema,
  agreement: z.object({ id: agreementIdSchema }).nullish(),
  product: z.object({ code: productCodeSchema, id: optionalIdSchema }),
  license: z.object({ arn: licenseArnSchema }),
  acceptor: z.object({ accountId: accountIdSchema }),
  offer: z.object({ id: offerIdSchema }).nullish(),
});

/** A Zod issue described without the offending value (reasons end up in logs: no personal data). */
export function describeIssues(issues: readonly z.core.$ZodIssue[], limit = 3): string {
  const described = issues.slice(0, limit).map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${describeIssue(issue)}`);
  const more = issues.length > limit ? `; and ${issues.length - limit} more` : '';
  return described.join('; ') + more;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.message.endsWith('received undefined') ? 'missing' : `expected ${issue.expected}`;
    case 'too_big':
      return 'too long';
    case 'too_small':
      return 'too short';
    case 'invalid_format':
      return 'malformed';
    case 'invalid_value':
    case 'invalid_union':
      return 'unexpected value';
    case 'custom':
      // Our own refinement messages only (fixed text).
      return issue.message;
    default:
      return issue.code;
  }
}
