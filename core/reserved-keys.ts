/**
 * Object keys that name a prototype rather than an entry: `JSON.parse` keeps `"__proto__"` as an own
 * key, but schema records (zod) and plain-object lookups drop or misread it, so such an entry would
 * vanish without a word. Configuration readers refuse it instead.
 */
export const RESERVED_KEYS: readonly string[] = ['__proto__'];

/** `"<path>.<key>: …"` for every reserved key `record` holds as its own (nothing when it is not an object). */
export function reservedKeyProblems(record: unknown, path: string): string[] {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return [];
  return RESERVED_KEYS.filter((key) => Object.hasOwn(record, key)).map((key) => `${path}.${key}: "${key}" cannot be used as a key (it names an object's prototype)`);
}

/** The value of `key` of `value` when `value` is a plain object. */
export function ownField(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}
