/**
 * Parsing of the registration page's POST bodies (plain and base64, as API Gateway hands them over)
 * and the per-field validation messages.
 */
import {
  CONTACT_FIELDS,
  EMPTY_CONTACT_VALUES,
  MAX_BODY_BYTES,
  decodeBody,
  mediaTypeOf,
  parseRegistrationPost,
  validateContactValues,
  type ContactValues,
} from '../../../core/marketplace/registration-form';

const FORM = 'application/x-www-form-urlencoded';
const VALID: ContactValues = { companyName: 'Example Ltd', contactPerson: 'Jane Doe', contactEmail: 'jane@example.com', contactPhone: '+44 20 7946 0000' };
const SESSION = 'a'.repeat(43);

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

describe('parseRegistrationPost', () => {
  it('reads the token AWS Marketplace posts', () => {
    expect(parseRegistrationPost({ body: 'x-amzn-marketplace-token=abc%2Bdef%3D%3D', contentType: FORM })).toEqual({ kind: 'token', token: 'abc+def==' });
  });

  it('reads a base64-encoded body (binary media types in API Gateway)', () => {
    const body = base64('x-amzn-marketplace-token=tok%2F1');
    expect(parseRegistrationPost({ body, isBase64Encoded: true, contentType: FORM })).toEqual({ kind: 'token', token: 'tok/1' });
  });

  it('accepts the charset parameter and any case in the content type, and a missing content type', () => {
    expect(parseRegistrationPost({ body: 'x-amzn-marketplace-token=t', contentType: 'Application/X-WWW-Form-Urlencoded; charset=UTF-8' }).kind).toBe('token');
    expect(parseRegistrationPost({ body: 'x-amzn-marketplace-token=t' }).kind).toBe('token');
  });

  it('refuses other media types (415) and oversized bodies (413)', () => {
    expect(parseRegistrationPost({ body: '{"x-amzn-marketplace-token":"t"}', contentType: 'application/json' })).toEqual({ kind: 'unsupported-media-type' });
    expect(parseRegistrationPost({ body: 'x', contentType: 'multipart/form-data; boundary=x' })).toEqual({ kind: 'unsupported-media-type' });
    const big = `x-amzn-marketplace-token=${'a'.repeat(MAX_BODY_BYTES)}`;
    expect(parseRegistrationPost({ body: big, contentType: FORM })).toEqual({ kind: 'too-large' });
    expect(parseRegistrationPost({ body: base64(big), isBase64Encoded: true, contentType: FORM })).toEqual({ kind: 'too-large' });
  });

  it('sees no token in an empty, missing or blank body', () => {
    for (const body of [null, undefined, '', 'x-amzn-marketplace-token=', 'x-amzn-marketplace-token=%20%20', 'other=1']) {
      expect(parseRegistrationPost({ body, contentType: FORM })).toEqual({ kind: 'no-token' });
    }
  });

  it('reads a submission: session plus the contact fields, decoding + and percent escapes', () => {
    const body = `session=${SESSION}&companyName=Acme+%26+Sons&contactPerson=Zo%C3%AB+M%C3%BCller&contactEmail=zoe%40example.com&contactPhone=%2B49+30+1234`;
    expect(parseRegistrationPost({ body, contentType: FORM })).toEqual({
      kind: 'submission',
      sessionId: SESSION,
      values: { companyName: 'Acme & Sons', contactPerson: 'Zoë Müller', contactEmail: 'zoe@example.com', contactPhone: '+49 30 1234' },
    });
  });

  it('treats absent contact fields as empty and takes the first of repeated fields', () => {
    const parsed = parseRegistrationPost({ body: `session=${SESSION}&companyName=First&companyName=Second`, contentType: FORM });
    expect(parsed).toEqual({ kind: 'submission', sessionId: SESSION, values: { ...EMPTY_CONTACT_VALUES, companyName: 'First' } });
  });

  it('gives the session precedence over a token in the same body', () => {
    expect(parseRegistrationPost({ body: `x-amzn-marketplace-token=t&session=${SESSION}`, contentType: FORM }).kind).toBe('submission');
  });

  it('survives malformed percent escapes', () => {
    expect(parseRegistrationPost({ body: 'x-amzn-marketplace-token=%E0%A4%A', contentType: FORM }).kind).toBe('token');
  });
});

describe('decodeBody and mediaTypeOf', () => {
  it('decodes only when base64 is flagged', () => {
    expect(decodeBody({ body: 'YQ==', isBase64Encoded: false })).toBe('YQ==');
    expect(decodeBody({ body: 'YQ==', isBase64Encoded: true })).toBe('a');
    expect(decodeBody({ body: null })).toBe('');
  });

  it('strips parameters and lower-cases', () => {
    expect(mediaTypeOf(' Text/HTML ; charset=utf-8')).toBe('text/html');
    expect(mediaTypeOf(undefined)).toBeUndefined();
    expect(mediaTypeOf('')).toBeUndefined();
  });
});

describe('validateContactValues', () => {
  it('accepts valid details, trimmed, without a tier', () => {
    const result = validateContactValues({ ...VALID, companyName: '  Example Ltd  ' });
    expect(result).toEqual({ ok: true, registration: { ...VALID, companyName: 'Example Ltd' } });
  });

  it('says what to enter for every empty or blank field', () => {
    const result = validateContactValues({ companyName: '', contactPerson: '   ', contactEmail: '', contactPhone: '\t' });
    expect(result).toEqual({
      ok: false,
      errors: {
        companyName: 'Enter your company name',
        contactPerson: 'Enter the name of the person we should contact',
        contactEmail: 'Enter an email address',
        contactPhone: 'Enter a phone number',
      },
    });
  });

  it.each([
    ['jane.example.com'],
    ['jane@example'],
    ['jane doe@example.com'],
    ['@example.com'],
  ])('explains the e-mail format for %p', (email) => {
    const result = validateContactValues({ ...VALID, contactEmail: email });
    expect(result).toEqual({ ok: false, errors: { contactEmail: 'Enter an email address in the correct format, like name@example.com' } });
  });

  it('explains the phone format and minimum length', () => {
    expect(validateContactValues({ ...VALID, contactPhone: 'call me' })).toEqual({ ok: false, errors: { contactPhone: expect.stringMatching(/^Enter a phone number using only digits/) } });
    expect(validateContactValues({ ...VALID, contactPhone: '12' })).toEqual({ ok: false, errors: { contactPhone: 'Phone number must be at least 3 characters' } });
  });

  it('names the maximum length of every field', () => {
    const result = validateContactValues({ companyName: 'c'.repeat(257), contactPerson: 'p'.repeat(257), contactEmail: `${'e'.repeat(320)}@example.com`, contactPhone: '1'.repeat(65) });
    expect(result).toEqual({
      ok: false,
      errors: {
        companyName: 'Company name must be 256 characters or fewer',
        contactPerson: 'Contact person must be 256 characters or fewer',
        contactEmail: 'Email address must be 320 characters or fewer',
        contactPhone: 'Phone number must be 64 characters or fewer',
      },
    });
  });

  it('reports one message per field, only for invalid fields', () => {
    const result = validateContactValues({ ...VALID, contactPhone: 'x' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(Object.keys(result.errors)).toEqual(['contactPhone']);
  });

  it('covers every contact field the page shows', () => {
    expect(CONTACT_FIELDS).toEqual(['companyName', 'contactPerson', 'contactEmail', 'contactPhone']);
  });
});
