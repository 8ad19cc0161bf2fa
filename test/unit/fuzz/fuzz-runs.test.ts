/** How the fuzz properties' input counts and seed are read from the environment (test/support/fuzz-runs.ts). */
import { fuzzParameters, fuzzRuns, fuzzRunsMultiplier, fuzzSeed } from '../../support/fuzz-runs';

describe('fuzz run counts', () => {
  it('run each property\'s base count when FUZZ_RUNS is unset or blank', () => {
    expect(fuzzRuns(1000, {})).toBe(1000);
    expect(fuzzRuns(1000, { FUZZ_RUNS: '' })).toBe(1000);
    expect(fuzzRuns(1000, { FUZZ_RUNS: '  ' })).toBe(1000);
  });

  it('multiply every base count by FUZZ_RUNS, rounding, never below one run', () => {
    expect(fuzzRuns(1000, { FUZZ_RUNS: '20' })).toBe(20_000);
    expect(fuzzRuns(1500, { FUZZ_RUNS: '0.5' })).toBe(750);
    expect(fuzzRuns(3, { FUZZ_RUNS: '0.1' })).toBe(1);
    expect(fuzzRunsMultiplier({ FUZZ_RUNS: ' 3 ' })).toBe(3);
  });

  it('refuse a FUZZ_RUNS that is not a positive number, naming the variable', () => {
    for (const raw of ['0', '-2', 'ten', '1e3', 'Infinity', '2x', '0.0']) {
      expect(() => fuzzRuns(1000, { FUZZ_RUNS: raw })).toThrow(`FUZZ_RUNS must be a positive number (the multiplier of every fuzz property's input count), got ${JSON.stringify(raw)}`);
    }
  });

  it('fix the seed of every property with FUZZ_SEED, and refuse one that is not a 32-bit integer', () => {
    expect(fuzzSeed({})).toBeUndefined();
    expect(fuzzSeed({ FUZZ_SEED: '-1973237383' })).toBe(-1973237383);
    expect(fuzzParameters(100, { FUZZ_SEED: '42', FUZZ_RUNS: '2' })).toEqual({ numRuns: 200, seed: 42 });
    expect(fuzzParameters(100, {})).toEqual({ numRuns: 100 });
    for (const raw of ['1.5', 'abc', '99999999999', '4294967296']) {
      expect(() => fuzzSeed({ FUZZ_SEED: raw })).toThrow(/^FUZZ_SEED must be a 32-bit integer/);
    }
  });
});
