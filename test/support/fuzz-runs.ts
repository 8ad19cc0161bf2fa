/**
 * How many inputs each fuzz property (test/unit/fuzz/) runs, and with which seed.
 *
 * Every property states its base count in its code and its test name. The default keeps the whole
 * fuzz suite fast enough to run with every `npm test`; a longer campaign multiplies every count
 * without editing a test:
 *
 *   FUZZ_RUNS=20 npx jest test/unit/fuzz          # 20 × the inputs of every property
 *   FUZZ_SEED=1234567 npx jest test/unit/fuzz     # replay a campaign (fast-check prints the seed of a failure)
 *
 * A malformed value stops the run with a message naming the variable, rather than quietly running
 * the default count.
 */
import type { Parameters } from 'fast-check';

/** The environment variable that multiplies every property's base count. */
export const FUZZ_RUNS_VARIABLE = 'FUZZ_RUNS';
/** The environment variable that fixes the seed of every property. */
export const FUZZ_SEED_VARIABLE = 'FUZZ_SEED';

type Environment = Readonly<Record<string, string | undefined>>;

/** The multiplier of every base count: `FUZZ_RUNS` (a positive decimal number), 1 when unset. */
export function fuzzRunsMultiplier(env: Environment = process.env): number {
  const raw = env[FUZZ_RUNS_VARIABLE];
  if (raw === undefined || raw.trim() === '') return 1;
  const multiplier = /^\s*[0-9]+(\.[0-9]+)?\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(multiplier > 0) || !Number.isFinite(multiplier)) {
    throw new Error(`${FUZZ_RUNS_VARIABLE} must be a positive number (the multiplier of every fuzz property's input count), got ${JSON.stringify(raw)}`);
  }
  return multiplier;
}

/** The number of inputs a property with base count `base` runs: `base × FUZZ_RUNS`, at least 1. */
export function fuzzRuns(base: number, env: Environment = process.env): number {
  return Math.max(1, Math.round(base * fuzzRunsMultiplier(env)));
}

/** The seed of every property: `FUZZ_SEED` (a 32-bit integer) when set, else fast-check's own. */
export function fuzzSeed(env: Environment = process.env): number | undefined {
  const raw = env[FUZZ_SEED_VARIABLE];
  if (raw === undefined || raw.trim() === '') return undefined;
  const seed = /^\s*-?[0-9]{1,10}\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(seed) || seed < -(2 ** 31) || seed >= 2 ** 32) {
    throw new Error(`${FUZZ_SEED_VARIABLE} must be a 32-bit integer (the seed fast-check printed), got ${JSON.stringify(raw)}`);
  }
  return seed;
}

/** The fast-check parameters of a property with base count `base`: its run count and the seed, if fixed. */
export function fuzzParameters<T>(base: number, env: Environment = process.env): Parameters<T> {
  const seed = fuzzSeed(env);
  return seed === undefined ? { numRuns: fuzzRuns(base, env) } : { numRuns: fuzzRuns(base, env), seed };
}
