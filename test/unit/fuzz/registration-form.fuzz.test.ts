/**
 * Fuzzing the registration page's POST parsing and contact validation
 * (core/marketplace/registration-form.ts): bodies as API Gateway hands them over (form-encoded or
 * not, base64 or not, malformed percent escapes, repeated and prototype-named fields, unpaired
 * surrogates, sizes around the limit) under any Content-Type, and contact values that are hostile,
 * blank, padded, or just past each length limit.
 *
 * Properties: nothing throws; every POST is classified as exactly one of its five kinds, by the
 * documented rules (media type, size, session before token, first of repeated fields, trimmed), and a
 * submission carries every contact field it was sent (zero lost); validation accepts exactly the values
 * each field accepts on its own, says what to fix per invalid field (one message each, naming nothing
 * but the field and its rule), and an accepted registration validates again to itself (idempotence).
 * Run counts are in the test names (numRuns; FUZZ_RUNS multiplies them, see test/support/fuzz-runs.ts).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CONTACT_FIELDS,
  labelOf,
  MAX_BODY_BYTES,
  parseRegistrationPost,
  SESSION_FIELD,
  TOKEN_FIELD,
  validateContactValues,
  type ContactValues,
  type RegistrationPost,
} from '../../../core/marketplace/registration-form';
import { registrationSchema } from '../../../core/marketplace/tenant';
import { fuzzParameters, fuzzRuns } from '../../support/fuzz-runs';
import { anyText, MARKER, PROTOTYPE_KEYS } from './adversarial';

const FORM = 'application/x-www-form-urlencoded';
const KINDS: readonly RegistrationPost['kind'][] = ['token', 'submission', 'no-token', 'unsupported-media-type', 'too-large'];
const VALID: ContactValues = { companyName: 'Example Ltd', contactPerson: 'Jane Doe', contactEmail: 'jane@example.com', contactPhone: '+44 20 7946 0000' };

/** What a string becomes once it has been through a form encoding (unpaired surrogates → U+FFFD). */
const wellFormed = (text: string): string => (text as unknown as { toWellFormed(): string }).toWellFormed();

// ---------------------------------------------------------------------------------------------
// POST bodies
// ---------------------------------------------------------------------------------------------

const fieldName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...CONTACT_FIELDS, SESSION_FIELD, TOKEN_FIELD) },
  { weight: 2, arbitrary: fc.constantFrom(...PROTOTYPE_KEYS, 'Session', `${TOKEN_FIELD} `, 'tier', '') },
  { weight: 1, arbitrary: anyText(10) },
);
const fieldValue = fc.oneof(
  { weight: 3, arbitrary: anyText(30) },
  { weight: 2, arbitrary: fc.constantFrom('', ' ', '\t\n', `  ${'a'.repeat(43)}  `, 'tok+en/==', VALID.contactEmail, VALID.contactPhone) },
);
const pairs = fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 10 });

const contentType = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(undefined, FORM, 'Application/X-WWW-Form-Urlencoded; charset=UTF-8', ` ${FORM} ;`, `${FORM};charset=iso-8859-1`) },
  { weight: 2, arbitrary: fc.constantFrom('', ';', ' ', 'application/json', 'text/plain', 'multipart/form-data; boundary=x', `${FORM}x`, 'application/x-www-form-urlencoded\u0000') },
  { weight: 1, arbitrary: anyText(30) },
);

/** A body: form-encoded pairs (whose expected reading is known), raw joined pairs, anything, or sizes around the limit. */
const body = fc.oneof(
  { weight: 5, arbitrary: pairs.map((list) => ({ text: new URLSearchParams(list.map(([name, value]): [string, string] => [name, value])).toString(), pairs: list })) },
  { weight: 2, arbitrary: fc.tuple(pairs, fc.constantFrom('&', '&&', ';', '&amp;')).map(([list, separator]) => ({ text: list.map(([name, value]) => `${name}=${value}`).join(separator) })) },
  { weight: 1, arbitrary: anyText(60).map((text) => ({ text })) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.integer({ min: -3, max: 3 }), fc.constantFrom('a', 'é', '😀')).map(([delta, unit]) => {
      const prefix = `${TOKEN_FIELD}=`;
      const unitBytes = Buffer.byteLength(unit);
      const count = Math.max(0, Math.floor((MAX_BODY_BYTES - prefix.length) / unitBytes) + delta);
      return { text: `${prefix}${unit.repeat(count)}` };
    }),
  },
);

/** The reading the documented rules give for form-encoded pairs: first value of a field, session before token, both trimmed. */
function expectedReading(list: readonly (readonly [string, string])[]): RegistrationPost {
  const first = (name: string): string | undefined => {
    const found = list.find(([candidate]) => wellFormed(candidate) === name);
    return found === undefined ? undefined : wellFormed(found[1]);
  };
  const sessionId = first(SESSION_FIELD)?.trim() ?? '';
  if (sessionId !== '') {
    const values = Object.fromEntries(CONTACT_FIELDS.map((field) => [field, first(field) ?? ''])) as Record<(typeof CONTACT_FIELDS)[number], string>;
    return { kind: 'submission', sessionId, values };
  }
  const token = first(TOKEN_FIELD)?.trim() ?? '';
  return token === '' ? { kind: 'no-token' } : { kind: 'token', token };
}

describe('parseRegistrationPost under adversarial POSTs', () => {
  const runs = fuzzRuns(2000);
  it(`classifies every POST as exactly one kind by the documented rules; a submission carries every field sent (numRuns ${runs})`, () => {
    fc.assert(
      fc.property(body, fc.option(fc.boolean(), { nil: undefined }), contentType, (sent, base64, type) => {
        const encoded = base64 === true ? Buffer.from(sent.text, 'utf8').toString('base64') : sent.text;
        const post = parseRegistrationPost({ body: encoded, isBase64Encoded: base64, contentType: type });
        assert.ok(KINDS.includes(post.kind));

        const mediaType = type?.split(';')[0]?.trim().toLowerCase() ?? '';
        if (mediaType !== '' && mediaType !== FORM) {
          assert.deepEqual(post, { kind: 'unsupported-media-type' });
          return;
        }
        const size = base64 === true ? Math.floor((encoded.length * 3) / 4) : Buffer.byteLength(encoded);
        if (size > MAX_BODY_BYTES) {
          assert.deepEqual(post, { kind: 'too-large' });
          return;
        }
        assert.ok(post.kind !== 'unsupported-media-type' && post.kind !== 'too-large');
        if ('pairs' in sent && sent.pairs !== undefined) assert.deepEqual(post, expectedReading(sent.pairs));
        if (post.kind === 'submission') {
          assert.ok(post.sessionId.length > 0 && post.sessionId === post.sessionId.trim());
          assert.deepEqual(Object.keys(post.values), [...CONTACT_FIELDS]);
        }
        if (post.kind === 'token') assert.ok(post.token.length > 0 && post.token === post.token.trim());
      }),
      fuzzParameters(2000),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Contact values
// ---------------------------------------------------------------------------------------------

/** Texts of exactly `lengths` characters, padded or not. */
const sized = (lengths: readonly number[], unit: string) => fc.constantFrom(...lengths).map((length) => unit.repeat(length));
const contactValue = fc.oneof(
  { weight: 4, arbitrary: anyText(30) },
  { weight: 2, arbitrary: fc.constantFrom('', ' ', '\u00a0', '\t', '\ufeff', MARKER, `${MARKER}@x.y`) },
  { weight: 2, arbitrary: fc.emailAddress() },
  { weight: 2, arbitrary: fc.stringMatching(/^[+0-9 ().-]{1,66}$/) },
  { weight: 1, arbitrary: sized([1, 2, 3, 63, 64, 65, 255, 256, 257, 319, 320, 321], 'a') },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...Object.values(VALID)), fc.constantFrom(' ', '  ', '\n')).map(([value, pad]) => `${pad}${value}${pad}`) },
);
const values: fc.Arbitrary<ContactValues> = fc.record({
  companyName: fc.oneof(contactValue, fc.constant(VALID.companyName)),
  contactPerson: fc.oneof(contactValue, fc.constant(VALID.contactPerson)),
  contactEmail: fc.oneof(contactValue, fc.constant(VALID.contactEmail)),
  contactPhone: fc.oneof(contactValue, fc.constant(VALID.contactPhone)),
});

describe('validateContactValues under adversarial values', () => {
  const runs = fuzzRuns(2000);
  it(`accepts exactly what every field accepts on its own, says what to fix per invalid field, and re-validates an accepted registration to itself (numRuns ${runs})`, () => {
    fc.assert(
      fc.property(values, (submitted) => {
        const result = validateContactValues(submitted);
        const errors = result.ok ? {} : result.errors;
        if (!result.ok) assert.ok(Object.keys(errors).length > 0, 'a refusal names at least one field');
        for (const field of CONTACT_FIELDS) {
          // The field alone, in an otherwise valid form: the same verdict and the same message.
          const alone = validateContactValues({ ...VALID, [field]: submitted[field] });
          const message = (errors as Record<string, string | undefined>)[field];
          assert.equal(message, alone.ok ? undefined : alone.errors[field], `field ${field}`);
          if (message !== undefined) {
            assert.ok(message.startsWith('Enter') || message.startsWith(labelOf(field)), `the message names the field: ${message}`);
            assert.ok(!message.includes(MARKER), 'a message never repeats the value');
          }
        }
        for (const key of Object.keys(errors)) assert.ok((CONTACT_FIELDS as readonly string[]).includes(key));
        if (!result.ok) return;
        const { registration } = result;
        for (const field of CONTACT_FIELDS) assert.equal(registration[field], submitted[field].trim(), 'nothing but blanks is dropped');
        assert.equal(registration.tier, undefined, 'the tier never comes from the form');
        assert.deepEqual(registrationSchema.parse(registration), registration);
        assert.deepEqual(validateContactValues(registration as ContactValues), result);
      }),
      fuzzParameters(2000),
    );
  });
});
