/**
 * Fuzzing the pricing configuration (core/pricing/plan-schema.ts): valid configurations of every
 * charge model (amounts as JSON numbers and as decimal strings beyond 2^53), the same mutated —
 * fields deleted, retyped, wrapped, unknown and prototype-named keys added, number literals swapped
 * for `1e309`, `-0` or 30-digit integers in the JSON text — and arbitrary or deeply nested values.
 *
 * Properties: parsing either returns a configuration or throws a PricingConfigError (nothing else)
 * whose every problem reads `path: message` in the section the input was changed in; an accepted
 * configuration keeps every plan, charge and tenant assignment it was given, with amounts exact, is
 * written back and parsed again to itself (round trip), and gives a plan for any tenant id. Run
 * counts are in the test names (numRuns; FUZZ_RUNS multiplies them, see test/support/fuzz-runs.ts).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parsePricingConfig, planOfTenant, PricingConfigError, type PricingConfig } from '../../../core/pricing/plan-schema';
import { fuzzParameters, fuzzRuns } from '../../support/fuzz-runs';
import { anyText, anyValue, mutatedJsonText, mutatedValue, PROTOTYPE_KEYS, type Path } from './adversarial';

// ---------------------------------------------------------------------------------------------
// Valid configurations, as written in JSON
// ---------------------------------------------------------------------------------------------

/** A non-negative amount: a safe JSON number, or decimal text (also beyond 2^53). */
const amount = fc.oneof(fc.nat(), fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String));
const positiveAmount = fc.oneof(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.bigInt({ min: 1n, max: 10n ** 30n }).map(String));
const price = fc.oneof(amount, fc.record({ amountMinor: amount, per: positiveAmount }, { requiredKeys: ['amountMinor'] }));
/** Tiers with strictly ascending bounds, the last one open. */
const tiers = fc
  .uniqueArray(fc.bigInt({ min: 1n, max: 10n ** 20n }), { maxLength: 4 })
  .chain((bounds) => {
    const sorted = [...bounds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return fc.tuple(...[...sorted, null].map((upTo) => fc.record({ upTo: fc.constant(upTo === null ? null : upTo <= BigInt(Number.MAX_SAFE_INTEGER) && upTo % 2n === 0n ? Number(upTo) : String(upTo)), price })));
  });
const common = { description: fc.string({ maxLength: 40 }), freeAllowance: amount };
const charge = fc.oneof(
  fc.record({ kind: fc.constant('per_unit'), price, ...common }, { requiredKeys: ['kind', 'price'] }),
  fc.record({ kind: fc.constantFrom('graduated', 'volume'), tiers, ...common }, { requiredKeys: ['kind', 'tiers'] }),
  fc.record({ kind: fc.constant('package'), packageSize: positiveAmount, priceMinor: amount, ...common }, { requiredKeys: ['kind', 'packageSize', 'priceMinor'] }),
);
const charges = fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/), { maxLength: 4 }).chain((dimensions) => fc.tuple(...dimensions.map((dimension) => charge.map((c) => ({ dimension, ...c })))));
const plan = (id: string) =>
  fc.record(
    {
      id: fc.constant(id),
      name: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
      currency: fc.constantFrom('USD', 'EUR', 'JPY', 'KWD', 'CLF'),
      minorUnitDigits: fc.integer({ min: 0, max: 4 }),
      flatFeeMinor: amount,
      minimumCommitmentMinor: amount,
      charges,
    },
    { requiredKeys: ['id', 'name', 'currency', 'charges'] },
  );
/** Tenant ids as they reach the lake: any text without control characters, prototype names included. */
const tenantId = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/), fc.constantFrom(...PROTOTYPE_KEYS.filter((key) => key !== '__proto__'), 'a.b', 'é😀'));
const validConfig = fc
  .uniqueArray(fc.stringMatching(/^[a-z][a-z0-9_-]{0,15}$/), { minLength: 1, maxLength: 3 })
  .chain((ids) =>
    fc.record(
      {
        plans: fc.tuple(...ids.map(plan)),
        defaultPlan: fc.constantFrom(...ids),
        tenantPlans: fc.array(fc.tuple(tenantId, fc.constantFrom(...ids)), { maxLength: 4 }).map((entries) => Object.fromEntries(entries)),
      },
      { requiredKeys: ['plans', 'defaultPlan'] },
    ),
  );

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

/** The configuration written back as JSON text (amounts as decimal text, so none is rounded). */
function written(config: PricingConfig): string {
  return JSON.stringify(config, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}

/** The top-level section a problem or a changed path is in. */
function sectionOf(path: string | Path): string {
  const first = typeof path === 'string' ? path.split(/[.:]/)[0] : path[0];
  return first === undefined || first === '' ? '(root)' : String(first);
}

/** Parses; a refusal must be a PricingConfigError of well-formed `path: message` problems. */
function parseOrProblems(value: unknown): { config: PricingConfig } | { problems: readonly string[] } {
  try {
    return { config: parsePricingConfig(value) };
  } catch (error) {
    assert.ok(error instanceof PricingConfigError, `not a PricingConfigError: ${String(error)}`);
    assert.ok(error.problems.length > 0, 'a refusal names at least one problem');
    for (const problem of error.problems) {
      assert.match(problem, /^(\(root\)|plans|defaultPlan|tenantPlans)(\.|: )/, `a problem starts with its path: ${problem}`);
      assert.ok(problem.split(': ').slice(1).join(': ').trim().length > 0, `a problem says what is wrong: ${problem}`);
    }
    return { problems: error.problems };
  }
}

/** An accepted configuration keeps what it was given, round-trips through its JSON form, and places any tenant. */
function assertSoundConfig(config: PricingConfig, input: unknown): void {
  const given = input as { plans: { charges: unknown[]; flatFeeMinor?: unknown }[]; tenantPlans?: Record<string, string> };
  assert.equal(config.plans.length, given.plans.length);
  config.plans.forEach((p, i) => {
    assert.equal(p.charges.length, given.plans[i]?.charges.length);
    const fee = given.plans[i]?.flatFeeMinor;
    if (typeof fee === 'number' || typeof fee === 'string') assert.equal(p.flatFeeMinor, BigInt(fee), 'amounts are exact');
  });
  assert.deepEqual(Object.keys(config.tenantPlans).sort(), Object.keys(given.tenantPlans ?? {}).sort(), 'every tenant assignment is kept');
  // Compared in JSON form: a `-0` that JSON writes as `0` is the same configuration.
  const json = JSON.parse(written(config)) as unknown;
  assert.deepEqual(JSON.parse(written(parsePricingConfig(json))), json, 'the configuration written back parses to itself');
  for (const tenant of [...Object.keys(config.tenantPlans), ...PROTOTYPE_KEYS, 'nobody']) {
    const expected = Object.hasOwn(config.tenantPlans, tenant) ? config.tenantPlans[tenant] : config.defaultPlan;
    assert.equal(planOfTenant(config, tenant).id, expected);
  }
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

describe('the pricing configuration under adversarial input', () => {
  const runs = fuzzRuns(1500);
  it(`accepts a sound configuration or throws PricingConfigError naming each problem in the changed section (numRuns ${runs})`, () => {
    const input = fc.oneof(
      { weight: 5, arbitrary: mutatedValue(validConfig) },
      { weight: 3, arbitrary: mutatedJsonText(validConfig).map((text) => ({ text })) },
      { weight: 1, arbitrary: anyValue.map((value) => ({ value, changed: [[]] as Path[] })) },
      { weight: 1, arbitrary: fc.tuple(anyText(10), anyValue).map(([key, value]) => ({ value: { plans: [], defaultPlan: 'x', [key]: value }, changed: [[]] as Path[] })) },
    );
    fc.assert(
      fc.property(input, (drawn) => {
        let value: unknown;
        let changed: readonly Path[] = [[]];
        if ('text' in drawn) {
          try {
            value = JSON.parse(drawn.text);
          } catch {
            return; // Not JSON: the file's loader refuses it before the schema sees it.
          }
        } else {
          value = drawn.value;
          changed = drawn.changed;
        }
        const outcome = parseOrProblems(value);
        if ('config' in outcome) {
          assertSoundConfig(outcome.config, value);
          return;
        }
        const sections = new Set(changed.map(sectionOf));
        const named = outcome.problems.map(sectionOf);
        assert.ok(
          sections.has('(root)') || named.some((section) => sections.has(section) || section === 'defaultPlan' || section === 'tenantPlans' || section === '(root)'),
          `no problem in the changed section (${[...sections].join(', ')}): ${outcome.problems.join(' | ')}`,
        );
      }),
      fuzzParameters(1500),
    );
  });

  const validRuns = fuzzRuns(1000);
  it(`accepts every valid configuration, amounts exact beyond 2^53, and round-trips it (numRuns ${validRuns})`, () => {
    fc.assert(
      fc.property(validConfig, (config) => {
        const outcome = parseOrProblems(JSON.parse(JSON.stringify(config)));
        assert.ok('config' in outcome, `a valid configuration was refused: ${'problems' in outcome ? outcome.problems.join(' | ') : ''}`);
        assertSoundConfig(outcome.config, config);
      }),
      fuzzParameters(1000),
    );
  });
});
