/**
 * Reads required environment variables; throws one error naming every missing one, so a
 * misconfigured function fails at cold start with a clear message.
 */
export function requiredEnvironment<K extends string>(env: Readonly<Record<string, string | undefined>>, names: readonly K[]): Record<K, string> {
  const missing = names.filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`missing environment variables: ${missing.join(', ')}`);
  return Object.fromEntries(names.map((name) => [name, env[name] as string])) as Record<K, string>;
}
