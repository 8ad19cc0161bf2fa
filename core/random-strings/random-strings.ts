import { randomInt } from 'node:crypto';

/** The alphabets a caller may ask for with `chars`. */
export const ALPHABETS = {
  letters: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ',
  lowercase: 'abcdefghijklmnopqrstuvwxyz',
  uppercase: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  digits: '0123456789',
} as const;

export type AlphabetName = keyof typeof ALPHABETS;

export interface RandomStringsRequest {
  readonly chars: AlphabetName;
  /** How many strings, 1–100. */
  readonly num: number;
  /** Length of each string, 1–20. */
  readonly len: number;
}

export const LIMITS = {
  num: { min: 1, max: 100, default: 1 },
  len: { min: 1, max: 20, default: 1 },
} as const;

export const DEFAULT_ALPHABET: AlphabetName = 'letters';

/** One problem with one query parameter. */
export interface ParameterError {
  readonly parameter: string;
  readonly reason: string;
}

export type ParseResult =
  | { readonly ok: true; readonly request: RandomStringsRequest }
  | { readonly ok: false; readonly errors: readonly ParameterError[] };

/**
 * Query parameters as API Gateway's Lambda proxy integration hands them over: single values and, for
 * a parameter given more than once, all its values.
 */
export interface QueryParameters {
  readonly single?: Readonly<Record<string, string | undefined>> | null;
  readonly multi?: Readonly<Record<string, readonly string[] | undefined>> | null;
}

const KNOWN_PARAMETERS = new Set(['chars', 'num', 'len']);
const DECIMAL_INTEGER = /^[0-9]+$/;

function parseBoundedInteger(
  name: 'num' | 'len',
  raw: string | undefined,
  errors: ParameterError[],
): number {
  const { min, max } = LIMITS[name];
  if (raw === undefined) return LIMITS[name].default;
  const value = DECIMAL_INTEGER.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    errors.push({ parameter: name, reason: `must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}` });
  }
  return value;
}

/**
 * Validates the query parameters of `GET /random/strings`. Every problem is reported, not only the
 * first: unknown parameters, repeated parameters, an unknown alphabet, numbers of the wrong form or
 * out of range.
 */
export function parseRandomStringsQuery(query: QueryParameters): ParseResult {
  const errors: ParameterError[] = [];
  const single = query.single ?? {};
  const multi = query.multi ?? {};

  for (const name of new Set([...Object.keys(single), ...Object.keys(multi)])) {
    if (!KNOWN_PARAMETERS.has(name)) {
      errors.push({ parameter: name, reason: 'is not a parameter of this endpoint (allowed: chars, num, len)' });
    } else if ((multi[name]?.length ?? 0) > 1) {
      errors.push({ parameter: name, reason: 'must be given at most once' });
    }
  }

  const charsRaw = single.chars;
  let chars: AlphabetName = DEFAULT_ALPHABET;
  if (charsRaw !== undefined) {
    if (Object.hasOwn(ALPHABETS, charsRaw)) {
      chars = charsRaw as AlphabetName;
    } else {
      errors.push({ parameter: 'chars', reason: `must be one of ${Object.keys(ALPHABETS).join(', ')}, got ${JSON.stringify(charsRaw)}` });
    }
  }
  const num = parseBoundedInteger('num', single.num, errors);
  const len = parseBoundedInteger('len', single.len, errors);

  return errors.length > 0 ? { ok: false, errors } : { ok: true, request: { chars, num, len } };
}

/** Source of uniform random integers in [0, max); crypto by default, replaceable in tests. */
export type RandomIndex = (max: number) => number;

/**
 * Generates `num` strings of `len` characters from the alphabet, each character drawn uniformly with
 * a cryptographically secure generator (no modulo bias).
 */
export function generateRandomStrings(request: RandomStringsRequest, randomIndex: RandomIndex = randomInt): string[] {
  const alphabet = ALPHABETS[request.chars];
  const strings: string[] = [];
  for (let i = 0; i < request.num; i += 1) {
    let value = '';
    for (let j = 0; j < request.len; j += 1) value += alphabet[randomIndex(alphabet.length)];
    strings.push(value);
  }
  return strings;
}
