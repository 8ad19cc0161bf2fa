/** What the benchmarks share: settings from the environment, a seeded generator, medians. */

/**
 * A whole number from the environment variable `name`, or `fallback` when it is unset or empty.
 * Anything else is an error: a benchmark must never quietly measure another size than asked.
 */
export function positiveIntegerFromEnv(name: string, fallback: number, zeroAllowed = false): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < (zeroAllowed ? 0 : 1)) throw new Error(`${name} must be a ${zeroAllowed ? 'non-negative' : 'positive'} whole number, got ${JSON.stringify(text)}`);
  return value;
}

export { seededRandom } from '../core/seeded-random';

/** The median of some values (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The median wall time of `repetitions` runs of `run`, in ms, after `warmup` runs not counted. */
export function medianMillis(run: () => unknown, repetitions: number, warmup: number): number {
  for (let i = 0; i < warmup; i++) run();
  const samples: number[] = [];
  for (let i = 0; i < repetitions; i++) {
    const start = process.hrtime.bigint();
    run();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return median(samples);
}
