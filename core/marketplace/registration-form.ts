/**
 * What a POST to the registration page carries: AWS Marketplace's registration token (the buyer's
 * browser posts `x-amzn-marketplace-token=<token>` as `application/x-www-form-urlencoded`), or the
 * completed form (`session` + the contact fields). Parses API Gateway bodies (plain or base64) and
 * validates the contact fields with {@link registrationSchema}, with a message a buyer can act on per field.
 */
import { registrationSchema, type Registration } from './tenant';

/** The form field AWS Marketplace posts the registration token in. */
export const TOKEN_FIELD = 'x-amzn-marketplace-token';
/** The hidden field carrying the registration session id. */
export const SESSION_FIELD = 'session';
/** The contact fields of the form, in the order the page shows them. */
export const CONTACT_FIELDS = ['companyName', 'contactPerson', 'contactEmail', 'contactPhone'] as const;
/** A contact field of the form. */
export type ContactField = (typeof CONTACT_FIELDS)[number];
/** The submitted (raw, untrimmed) value of each contact field; absent fields are empty. */
export type ContactValues = Readonly<Record<ContactField, string>>;
/** A message per invalid contact field. */
export type FieldErrors = Readonly<Partial<Record<ContactField, string>>>;

/** Bodies larger than this are refused (the form is a few hundred bytes; a token a few thousand). */
export const MAX_BODY_BYTES = 32 * 1024;

/** A request body as API Gateway's Lambda proxy integration hands it over. */
export interface RawBody {
  readonly body: string | null | undefined;
  readonly isBase64Encoded?: boolean;
  /** The `Content-Type` header, if any. */
  readonly contentType?: string;
}

/** What a POST asks for. */
export type RegistrationPost =
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'submission'; readonly sessionId: string; readonly values: ContactValues }
  | { readonly kind: 'no-token' }
  | { readonly kind: 'unsupported-media-type' }
  | { readonly kind: 'too-large' };

/** The media type of a `Content-Type` header, lower-cased, without parameters. */
export function mediaTypeOf(contentType: string | undefined): string | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  return type === undefined || type === '' ? undefined : type;
}

/** The body as text (API Gateway base64-encodes it when the media type is a binary media type). */
export function decodeBody(raw: RawBody): string {
  if (raw.body === null || raw.body === undefined) return '';
  return raw.isBase64Encoded === true ? Buffer.from(raw.body, 'base64').toString('utf8') : raw.body;
}

/**
 * Classifies a POST. A body without a `Content-Type` is read as a form (some clients omit it); any
 * other media type than `application/x-www-form-urlencoded` is refused. A non-empty `session` field
 * makes it a submission; otherwise a non-empty token field makes it a token post; otherwise there is no
 * token. Repeated fields: the first one counts.
 */
export function parseRegistrationPost(raw: RawBody): RegistrationPost {
  const mediaType = mediaTypeOf(raw.contentType);
  if (mediaType !== undefined && mediaType !== 'application/x-www-form-urlencoded') return { kind: 'unsupported-media-type' };
  const encodedLength = raw.body?.length ?? 0;
  if ((raw.isBase64Encoded === true ? Math.floor((encodedLength * 3) / 4) : Buffer.byteLength(raw.body ?? '')) > MAX_BODY_BYTES) return { kind: 'too-large' };
  const params = new URLSearchParams(decodeBody(raw));
  const sessionId = params.get(SESSION_FIELD)?.trim() ?? '';
  if (sessionId !== '') {
    const values = Object.fromEntries(CONTACT_FIELDS.map((field) => [field, params.get(field) ?? ''])) as Record<ContactField, string>;
    return { kind: 'submission', sessionId, values };
  }
  const token = params.get(TOKEN_FIELD)?.trim() ?? '';
  return token === '' ? { kind: 'no-token' } : { kind: 'token', token };
}

/** Empty values for a fresh form. */
export const EMPTY_CONTACT_VALUES: ContactValues = { companyName: '', contactPerson: '', contactEmail: '', contactPhone: '' };

/** The outcome of {@link validateContactValues}. */
export type ContactValidation =
  | { readonly ok: true; readonly registration: Registration }
  | { readonly ok: false; readonly errors: FieldErrors };

const LABELS: Readonly<Record<ContactField, string>> = {
  companyName: 'Company name',
  contactPerson: 'Contact person',
  contactEmail: 'Email address',
  contactPhone: 'Phone number',
};

const EMPTY_MESSAGES: Readonly<Record<ContactField, string>> = {
  companyName: 'Enter your company name',
  contactPerson: 'Enter the name of the person we should contact',
  contactEmail: 'Enter an email address',
  contactPhone: 'Enter a phone number',
};

const FORMAT_MESSAGES: Readonly<Record<ContactField, string>> = {
  companyName: 'Enter your company name',
  contactPerson: 'Enter the name of the person we should contact',
  contactEmail: 'Enter an email address in the correct format, like name@example.com',
  contactPhone: 'Enter a phone number using only digits, spaces and + ( ) . -, like +44 20 7946 0000',
};

/** The label the page shows for a field (also used in error messages). */
export function labelOf(field: ContactField): string {
  return LABELS[field];
}

function isContactField(value: unknown): value is ContactField {
  return typeof value === 'string' && (CONTACT_FIELDS as readonly string[]).includes(value);
}

function messageFor(field: ContactField, value: string, issue: { code: string; maximum?: unknown; minimum?: unknown }): string {
  if (value.trim() === '') return EMPTY_MESSAGES[field];
  if (issue.code === 'too_big') return `${LABELS[field]} must be ${String(issue.maximum)} characters or fewer`;
  if (issue.code === 'too_small') return `${LABELS[field]} must be at least ${String(issue.minimum)} characters`;
  return FORMAT_MESSAGES[field];
}

/**
 * Validates the contact fields with {@link registrationSchema}. The tier is never taken from the form:
 * it is a plan decision, not the buyer's to pick on a page anyone can post to.
 */
export function validateContactValues(values: ContactValues): ContactValidation {
  const parsed = registrationSchema.safeParse({
    companyName: values.companyName,
    contactPerson: values.contactPerson,
    contactEmail: values.contactEmail,
    contactPhone: values.contactPhone,
  });
  if (parsed.success) return { ok: true, registration: parsed.data };
  const errors: Partial<Record<ContactField, string>> = {};
  for (const issue of parsed.error.issues) {
    const field = issue.path[0];
    // The first problem of a field is the one shown: one actionable message per field.
    if (!isContactField(field) || errors[field] !== undefined) continue;
    errors[field] = messageFor(field, values[field], issue as { code: string; maximum?: unknown; minimum?: unknown });
  }
  return { ok: false, errors };
}
