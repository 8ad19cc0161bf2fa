/** Hour arithmetic in UTC. An hour is identified by its start, as epoch milliseconds. */

export const HOUR_MS = 3_600_000;

/** The start of the hour that contains `millis`. */
export function hourStart(millis: number): number {
  return Math.floor(millis / HOUR_MS) * HOUR_MS;
}

/** `2026-11-23T10` — the key of an hour in the usage store. */
export function hourKey(hourStartMillis: number): string {
  return new Date(hourStartMillis).toISOString().slice(0, 13);
}

/** Parses an hour key (`2026-11-23T10`) back to its start. */
export function parseHourKey(key: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})$/.exec(key);
  if (!match) throw new Error(`not an hour key: ${JSON.stringify(key)}`);
  const millis = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]), Number(match[4]));
  if (hourKey(millis) !== key) throw new Error(`not an hour key: ${JSON.stringify(key)}`);
  return millis;
}

/** SQL timestamp text for a query bound: `2026-11-23 10:00:00.000` (UTC, portable Trino/DuckDB). */
export function sqlTimestamp(millis: number): string {
  return new Date(millis).toISOString().replace('T', ' ').replace('Z', '');
}

/**
 * Parses a timestamp as Athena or DuckDB print it (`2026-11-23 10:00:00.000`, `2026-11-23 10:00:00`,
 * ISO with `T`/`Z`), as UTC.
 */
export function parseSqlTimestamp(text: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z?$/.exec(text.trim());
  if (!match) throw new Error(`not a timestamp: ${JSON.stringify(text)}`);
  const millis = match[7] ? Number(match[7].slice(0, 3).padEnd(3, '0')) : 0;
  return Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]), Number(match[4]), Number(match[5]), Number(match[6]), millis);
}

/** Hour starts from `first` to `last`, both included. */
export function hoursFrom(first: number, last: number): number[] {
  const hours: number[] = [];
  for (let h = hourStart(first); h <= last; h += HOUR_MS) hours.push(h);
  return hours;
}
