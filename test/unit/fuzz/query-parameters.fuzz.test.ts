/**
 * Fuzzing the query parameters of `GET /random/strings` (core/random-strings/random-strings.ts and
 * its handler): raw query strings — repeated, empty and valueless parameters, prototype names
 * (`__proto__`, `constructor`), malformed percent escapes, `+`, number look-alikes (`1e1`, `٣`, ` 1`,
 * `0x1F`), unpaired surrogates, huge values — read into API Gateway's single- and multi-value maps as
 * the URL standard decodes them.
 *
 * Properties: nothing throws; a query is accepted exactly when every parameter it names is known,
 * given once and valid, and then the request holds the given values (defaults for the rest, nothing
 * ignored); otherwise every offending parameter gets an error naming it and its rule. Through the
 * handler: a 200 with exactly the strings asked for, or a 400 listing the same errors — never anything
 * else. Run counts are in the test names (numRuns; FUZZ_RUNS multiplies them, see test/support/fuzz-runs.ts).
 */
import assert from 'node:assert/strict';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import fc from 'fast-check';
import { ALPHABETS, LIMITS, parseRandomStringsQuery, type QueryParameters } from '../../../core/random-strings/random-strings';
import { createRandomStringsHandler } from '../../../functions/random-strings/handler';
import { fuzzParameters, fuzzRuns } from '../../support/fuzz-runs';
import { anyText, HUGE_TEXTS, NUMBER_TEXTS, PROTOTYPE_KEYS } from './adversarial';

const KNOWN = ['chars', 'num', 'len'] as const;
/** What each error's reason must say: the rule the parameter broke. */
const RULE = /allowed: chars, num, len|at most once|must be one of letters, lowercase, uppercase, digits|must be a whole number from 1 to (100|20)/;

// ---------------------------------------------------------------------------------------------
// Raw query strings, read as API Gateway reads them
// ---------------------------------------------------------------------------------------------

const name = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...KNOWN) },
  { weight: 2, arbitrary: fc.constantFrom(...PROTOTYPE_KEYS, 'CHARS', 'num ', '%6Eum', 'n%75m', 'len[]', '', 'other') },
  { weight: 1, arbitrary: anyText(8) },
);
const value = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...Object.keys(ALPHABETS), '1', '7', '20', '100', '0', '21', '101', '00', '007', '99999999999999999999', '%31%30', '1+', '+1') },
  { weight: 2, arbitrary: fc.constantFrom(...NUMBER_TEXTS, ...PROTOTYPE_KEYS, '%', '%zz', '%E0%A4%A', '%00', '%F0%9F%98%80') },
  { weight: 2, arbitrary: anyText(12) },
  { weight: 1, arbitrary: fc.constantFrom(...HUGE_TEXTS) },
);
/** One `&`-separated piece: `name=value`, a bare name, an empty piece or any text. */
const piece = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(name, value).map(([n, v]) => `${n}=${v}`) },
  { weight: 1, arbitrary: name },
  { weight: 1, arbitrary: fc.constantFrom('', '=', '==', '&', '#', '?') },
  { weight: 1, arbitrary: anyText(10) },
);
/** Percent-encodes every character of a text (a valid but unusual spelling). */
const percentEncoded = (text: string): string => [...Buffer.from(text, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
/** A valid query: each known parameter at most once, with a valid value, spelt plainly or percent-encoded. */
const validQuery = fc
  .tuple(
    fc.record({ chars: fc.constantFrom(...Object.keys(ALPHABETS)), num: fc.integer({ min: 1, max: 100 }).map(String), len: fc.integer({ min: 1, max: 20 }).map(String) }, { requiredKeys: [] }),
    fc.boolean(),
  )
  .map(([parameters, encode]) =>
    Object.entries(parameters)
      .map(([key, item]) => (encode ? `${percentEncoded(key)}=${percentEncoded(item)}` : `${key}=${item}`))
      .join('&'),
  );
const rawQuery = fc.oneof(
  { weight: 3, arbitrary: validQuery },
  { weight: 2, arbitrary: fc.tuple(validQuery, fc.array(piece, { minLength: 1, maxLength: 2 })).map(([query, more]) => [query, ...more].join('&')) },
  { weight: 5, arbitrary: fc.array(piece, { maxLength: 6 }).map((pieces) => pieces.join('&')) },
);

/** The query's parameters in order, as the URL standard decodes them (what API Gateway hands over). */
function queryParameters(query: string): QueryParameters & { readonly lists: ReadonlyMap<string, readonly string[]> } {
  const lists = new Map<string, string[]>();
  for (const [key, item] of new URLSearchParams(query)) lists.set(key, [...(lists.get(key) ?? []), item]);
  if (lists.size === 0) return { single: null, multi: null, lists };
  const multi = Object.fromEntries(lists);
  const single = Object.fromEntries([...lists].map(([key, items]) => [key, items[items.length - 1] as string]));
  return { single, multi, lists };
}

/** The parameters that break a rule, by the rules as documented (independently of the parser). */
function offending(lists: ReadonlyMap<string, readonly string[]>): Set<string> {
  const bad = new Set<string>();
  for (const [key, items] of lists) {
    const last = items[items.length - 1] as string;
    if (!(KNOWN as readonly string[]).includes(key) || items.length > 1) bad.add(key);
    else if (key === 'chars' ? !Object.keys(ALPHABETS).includes(last) : !/^[0-9]+$/.test(last) || Number(last) < LIMITS[key as 'num' | 'len'].min || Number(last) > LIMITS[key as 'num' | 'len'].max) bad.add(key);
  }
  return bad;
}

describe('parseRandomStringsQuery under adversarial query strings', () => {
  const runs = fuzzRuns(2000);
  it(`accepts a query exactly when it breaks no rule, with every given value; otherwise names each offending parameter and its rule (numRuns ${runs})`, () => {
    fc.assert(
      fc.property(rawQuery, (query) => {
        const parameters = queryParameters(query);
        const result = parseRandomStringsQuery(parameters);
        const bad = offending(parameters.lists);
        if (result.ok) {
          assert.equal(bad.size, 0);
          const given = (key: string) => parameters.lists.get(key)?.[0];
          assert.deepEqual(result.request, {
            chars: given('chars') ?? 'letters',
            num: given('num') === undefined ? LIMITS.num.default : Number(given('num')),
            len: given('len') === undefined ? LIMITS.len.default : Number(given('len')),
          });
          return;
        }
        assert.deepEqual(new Set(result.errors.map((error) => error.parameter)), bad, 'exactly the offending parameters are named');
        for (const error of result.errors) assert.match(error.reason, RULE);
      }),
      fuzzParameters(2000),
    );
  });
});

describe('GET /random/strings under adversarial query strings', () => {
  const handler = createRandomStringsHandler({ logger: new Logger({ serviceName: 'random-strings', logLevel: 'SILENT' }) });
  const context = { functionName: 'random-strings', awsRequestId: 'fuzz' } as Context;

  const runs = fuzzRuns(1000);
  it(`answers 200 with exactly the strings asked for, or 400 with the parser's errors; never anything else (numRuns ${runs})`, async () => {
    await fc.assert(
      fc.asyncProperty(rawQuery, async (query) => {
        const { single, multi } = queryParameters(query);
        const event = {
          queryStringParameters: single,
          multiValueQueryStringParameters: multi,
          requestContext: { requestId: 'fuzz', authorizer: { claims: { 'custom:tenant_id': 'tenant-a' } } },
        } as unknown as APIGatewayProxyEvent;
        const response = await handler(event, context);
        const parsed = parseRandomStringsQuery({ single, multi });
        const answer = JSON.parse(response.body) as unknown;
        if (parsed.ok) {
          assert.equal(response.statusCode, 200);
          const alphabet = ALPHABETS[parsed.request.chars];
          assert.ok(Array.isArray(answer) && answer.length === parsed.request.num);
          for (const text of answer as string[]) assert.ok(text.length === parsed.request.len && [...text].every((char) => alphabet.includes(char)));
        } else {
          assert.equal(response.statusCode, 400);
          assert.deepEqual(answer, { message: 'Invalid query parameters', errors: parsed.errors });
        }
      }),
      fuzzParameters(1000),
    );
  });
});
