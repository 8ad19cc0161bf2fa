/**
 * Adversarial input for the fuzz properties: values that are not merely random but chosen to break
 * parsers — arbitrary JSON values, prototype keys (`__proto__`, `constructor`) as own properties,
 * huge strings, deep nesting, control and unpaired-surrogate characters, number texts such as `NaN`,
 * `-0` and `1e309`, wrong types everywhere — and mutations of valid input (a field deleted, replaced,
 * wrapped, turned to text; the JSON text truncated, a byte changed, a key repeated, a number literal
 * swapped for an extreme one).
 *
 * Every generated text may carry {@link MARKER}: the parsers' reasons end up in logs and must name
 * fields and rules, never repeat a value, so a property can check that no reason contains it.
 */
import fc from 'fast-check';

/** A value that must never appear in a rejection reason. */
export const MARKER = 'zq-MARKER-7f3a';

/** Keys that reach an object's prototype machinery when handled carelessly. */
export const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', '__defineGetter__', 'then'] as const;

/** Texts of numbers at and beyond the edges of a double, and number look-alikes. */
export const NUMBER_TEXTS = [
  'NaN', 'Infinity', '-Infinity', '-0', '0', '1e309', '-1e309', '1e-400', '5e-324', '1.7976931348623157e308', '9007199254740993',
  '123456789012345678901234567890', '0x1F', '0b11', '0o17', '1_000', '１２', '٣', ' 1', '1 ', '+1', '01', '1.', '.5', '1e3', '1E+2',
  '-1', '0.1', '0.30000000000000004', '',
] as const;

/** Texts that trip encoders, escapers, trimmers and injection-prone code. */
export const HOSTILE_TEXTS = [
  '\u0000', 'a\u0000b', '\u0007\u001b[31m', '\u007f', '\ufeff', '\u200b', '\u202e', '\u2028\u2029', '\ud800', '\udfff', 'x\udc00y', '😀', 'e\u0301',
  '\r\n', '\t', ' ', '   ', '\\', '"', "'", '%', '%zz', '%00', '%E0%A4%A', '+', '&', '=', '#', '<script>alert(1)</script>', "' OR '1'='1' --",
  '${7*7}', '{{7*7}}', '../../etc/passwd', '-', 'null', 'undefined', 'true', '{}', '[]', MARKER, `${MARKER}\u0000`,
] as const;

/** Numbers JSON and parsers get wrong most often. */
export const HOSTILE_NUMBERS = [
  Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0, -1, 0.1 + 0.2, 1e21, 1e-7, 2 ** 31, 2 ** 53, 2 ** 53 + 2,
  Number.MAX_VALUE, Number.MIN_VALUE, Number.EPSILON, -Number.MAX_SAFE_INTEGER,
] as const;

/** Huge texts, built once (generating them per run would dominate the run time). */
export const HUGE_TEXTS: readonly string[] = [
  'x'.repeat(70_000),
  '😀'.repeat(40_000),
  MARKER.repeat(5_000),
  '9'.repeat(1_000),
  ' '.repeat(5_000),
  '\u0000'.repeat(3_000),
  '\ud800'.repeat(2_000),
];

/** JSON texts nested this deep, arrays and objects (the deepest is past what JSON.stringify can write back). */
export const DEEP_JSON_TEXTS: readonly string[] = [10, 1_000, 100_000].flatMap((depth) => [
  `${'['.repeat(depth)}${']'.repeat(depth)}`,
  `${'{"a":'.repeat(depth)}"${MARKER}"${'}'.repeat(depth)}`,
]);

/** The values of {@link DEEP_JSON_TEXTS} that JSON.stringify can still write (depth ≤ 1,000). */
export const DEEP_VALUES: readonly unknown[] = DEEP_JSON_TEXTS.filter((text) => text.length < 20_000).map((text) => JSON.parse(text) as unknown);

/** Any single UTF-16 code unit in the surrogate range (never paired). */
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));

/** `text` with each `[piece, at]` inserted at `at` (modulo its length). */
function withInserted(text: string, inserts: readonly (readonly [string, number])[]): string {
  let result = text;
  for (const [piece, at] of inserts) {
    const position = at % (result.length + 1);
    result = `${result.slice(0, position)}${piece}${result.slice(position)}`;
  }
  return result;
}

/** Any text: random Unicode (lone surrogates included), hostile and number texts, prototype keys, now and then a huge one. */
export function anyText(maxLength = 24): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 16, arbitrary: fc.string({ unit: 'binary', maxLength }) },
    { weight: 8, arbitrary: fc.tuple(fc.string({ unit: 'binary', maxLength }), fc.array(fc.tuple(loneSurrogate, fc.nat()), { minLength: 1, maxLength: 3 })).map(([text, inserts]) => withInserted(text, inserts)) },
    { weight: 12, arbitrary: fc.constantFrom(...HOSTILE_TEXTS, ...NUMBER_TEXTS, ...PROTOTYPE_KEYS) },
    { weight: 8, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength }) },
    // Rare, as each costs a few hundred kilobytes of work per run.
    { weight: 1, arbitrary: fc.constantFrom(...HUGE_TEXTS) },
  );
}

/** Any number, the hostile ones often. */
export const anyNumber: fc.Arbitrary<number> = fc.oneof(fc.constantFrom(...HOSTILE_NUMBERS), fc.double(), fc.integer());

/** Any object key, prototype keys often. */
export const anyKey: fc.Arbitrary<string> = fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS), anyText(12));

/** Defines `key` as an own, enumerable property (assignment would call the `__proto__` setter instead). */
export function defineOwn(target: object, key: string | number, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** An object with exactly these own entries, `__proto__` included as a plain key (as JSON.parse makes it). */
export function ownObject(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const [key, value] of entries) defineOwn(object, key, value);
  return object;
}

const leaf: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: anyText() },
  { weight: 3, arbitrary: anyNumber },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constantFrom(...DEEP_VALUES) },
);

/** Any JSON-shaped value (text, number, boolean, null, arrays, objects with hostile keys, deep nesting). */
export const anyValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown; array: unknown[]; object: Record<string, unknown> }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.array(fc.tuple(anyKey, tie('value')), { maxLength: 4 }).map(ownObject),
})).value;

/** Any value at all, including what JSON cannot hold (undefined, bigint, symbols, functions, null-prototype objects). */
export const anyThing: fc.Arbitrary<unknown> = fc.oneof(anyValue, fc.anything({ withBigInt: true, withNullPrototype: true, withBoxedValues: true, withSparseArray: true, withObjectString: true }), fc.constantFrom(undefined, () => 1, Symbol('s'), 10n));

/** A path from the root of a value to one of its parts. */
export type Path = readonly (string | number)[];

/** Every path of `value` down to `maxDepth`, the root (`[]`) first. */
export function pathsOf(value: unknown, maxDepth = 8): Path[] {
  const paths: Path[] = [];
  const walk = (node: unknown, path: Path): void => {
    paths.push(path);
    if (path.length >= maxDepth || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) node.forEach((item, index) => walk(item, [...path, index]));
    else for (const key of Object.keys(node)) walk((node as Record<string, unknown>)[key], [...path, key]);
  };
  walk(value, []);
  return paths;
}

function partAt(root: unknown, path: Path): unknown {
  let node = root;
  for (const key of path) node = (node as Record<string | number, unknown>)[key];
  return node;
}

/** One change to a parsed value, at the path picked by `at` (modulo the number of paths). */
export type ValueMutation =
  | { readonly kind: 'delete'; readonly at: number }
  | { readonly kind: 'replace'; readonly at: number; readonly value: unknown }
  | { readonly kind: 'wrap'; readonly at: number }
  | { readonly kind: 'to-text'; readonly at: number }
  | { readonly kind: 'add-key'; readonly at: number; readonly key: string; readonly value: unknown };

/** Any {@link ValueMutation}. */
export const valueMutation: fc.Arbitrary<ValueMutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: anyValue }) },
  fc.record({ kind: fc.constant('wrap' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('to-text' as const), at: fc.nat() }),
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('add-key' as const), at: fc.nat(), key: anyKey, value: anyValue }) },
);

/** The result of {@link applyMutations}: the mutated value and the paths it changed. */
export interface Mutated {
  readonly value: unknown;
  readonly changed: readonly Path[];
}

/**
 * Applies mutations to a copy of a JSON value. Neither the original nor the inserted values are
 * changed (fast-check may hand the same value out again): what is inserted is a copy.
 */
export function applyMutations(original: unknown, mutations: readonly ValueMutation[]): Mutated {
  let root = original === undefined ? undefined : (JSON.parse(JSON.stringify(original)) as unknown);
  const changed: Path[] = [];
  for (const mutation of mutations) {
    const paths = pathsOf(root);
    const path = paths[mutation.at % paths.length] as Path;
    const current = partAt(root, path);
    let next: unknown;
    switch (mutation.kind) {
      case 'delete':
        next = undefined;
        break;
      case 'replace':
        next = structuredClone(mutation.value);
        break;
      case 'wrap':
        next = [current];
        break;
      case 'to-text':
        next = JSON.stringify(current) ?? String(current);
        break;
      case 'add-key':
        if (current === null || typeof current !== 'object' || Array.isArray(current)) continue;
        defineOwn(current, mutation.key, structuredClone(mutation.value));
        changed.push([...path, mutation.key]);
        continue;
    }
    if (path.length === 0) {
      root = next;
    } else {
      const parent = partAt(root, path.slice(0, -1)) as Record<string | number, unknown>;
      const key = path[path.length - 1] as string | number;
      if (next === undefined) {
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key];
      } else {
        defineOwn(parent, key, next);
      }
    }
    changed.push(path);
  }
  return { value: root, changed };
}

/** Mutated copies of the values of `valid`: one to three {@link ValueMutation}s each. */
export function mutatedValue(valid: fc.Arbitrary<unknown>): fc.Arbitrary<Mutated> {
  return fc.tuple(valid, fc.array(valueMutation, { minLength: 1, maxLength: 3 })).map(([value, mutations]) => applyMutations(value, mutations));
}

/** One change to a JSON text. */
export type TextMutation =
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'set-char'; readonly at: number; readonly char: string }
  | { readonly kind: 'insert'; readonly at: number; readonly text: string }
  | { readonly kind: 'repeat-key'; readonly key: string; readonly valueText: string }
  | { readonly kind: 'number-literal'; readonly which: number; readonly literal: string }
  | { readonly kind: 'wrap'; readonly before: string; readonly after: string };

/** Number literals: valid JSON with extreme values, and invalid JSON that looks like a number. */
const NUMBER_LITERALS = ['1e309', '-1e309', '-0', '0e0', '1E400', '1e-400', '5e-324', '123456789012345678901234567890', '9007199254740993', '0.1e1', 'NaN', 'Infinity', '-Infinity', '01', '+1', '.5', '1.', '0x10'];

/** Any {@link TextMutation}. */
export const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('set-char' as const), at: fc.nat(), char: fc.oneof(fc.constantFrom('"', '\\', '{', '}', '[', ']', ',', ':', '\u0000', '\n', '\ud800', 'é'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom('\ufeff', ' ', ',', '"__proto__":{},', '/*x*/', '\u2028'), anyText(6)) }),
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('repeat-key' as const),
      key: fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS), anyText(10)),
      valueText: anyValue.map((value) => JSON.stringify(value) ?? 'null'),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('number-literal' as const), which: fc.nat(), literal: fc.constantFrom(...NUMBER_LITERALS) }) },
  fc.record({ kind: fc.constant('wrap' as const), before: fc.constantFrom('', '[', '\ufeff', ' \n', '{"x":'), after: fc.constantFrom('', ']', '}', 'garbage', '\n', '\u0000', ',') }),
);

/** Applies text mutations to a JSON text. */
export function applyTextMutations(text: string, mutations: readonly TextMutation[]): string {
  let result = text;
  for (const mutation of mutations) {
    const length = Math.max(1, result.length);
    switch (mutation.kind) {
      case 'truncate':
        result = result.slice(0, mutation.at % length);
        break;
      case 'set-char': {
        const at = mutation.at % length;
        result = `${result.slice(0, at)}${mutation.char}${result.slice(at + 1)}`;
        break;
      }
      case 'insert': {
        const at = mutation.at % (result.length + 1);
        result = `${result.slice(0, at)}${mutation.text}${result.slice(at)}`;
        break;
      }
      case 'repeat-key':
        // A key repeated after the others: JSON.parse keeps the last value.
        if (result.endsWith('}') && result.length > 2) result = `${result.slice(0, -1)},${JSON.stringify(mutation.key)}:${mutation.valueText}}`;
        break;
      case 'number-literal': {
        const literals = [...result.matchAll(/-?\b[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/g)];
        const found = literals.length === 0 ? undefined : literals[mutation.which % literals.length];
        if (found !== undefined && found.index !== undefined) result = `${result.slice(0, found.index)}${mutation.literal}${result.slice(found.index + found[0].length)}`;
        break;
      }
      case 'wrap':
        result = `${mutation.before}${result}${mutation.after}`;
        break;
    }
  }
  return result;
}

/**
 * JSON texts built from valid values: as they are, with value mutations, with text mutations, or
 * both (each kind of change alone too, so that a single broken field is tried as often as a broken text).
 */
export function mutatedJsonText(valid: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  return fc
    .tuple(valid, fc.array(valueMutation, { maxLength: 3 }), fc.array(textMutation, { maxLength: 2 }))
    .map(([value, valueMutations, textMutations]) => applyTextMutations(JSON.stringify(applyMutations(value, valueMutations).value) ?? '', textMutations));
}

/** Any JSON text: of any value, deeply nested, or not JSON at all. */
export const anyJsonText: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: anyValue.map((value) => JSON.stringify(value) ?? 'null') },
  { weight: 1, arbitrary: fc.constantFrom(...DEEP_JSON_TEXTS) },
  { weight: 4, arbitrary: anyText(40) },
);
