import fc from 'fast-check';
import { allocateCosts, type AllocationInput, type AllocationResult } from '../../../core/cost/allocate-costs';
import { parseCostAllocationConfig } from '../../../core/cost/allocation-config';
import { CONSUMPTION_STREAMS, type ConsumptionRecord } from '../../../core/cost/consumption';
import type { CostLine } from '../../../core/cost/cost-line';

/**
 * Properties of the allocation over random configurations, tenants, cost lines (some siloed, some
 * tagged for unknown tenants, some of services without a rule, credits included) and consumption
 * (hourly and daily, by known and unknown tenants). Expected figures are computed here independently:
 * amounts are generated as integer units of 10^-10 and written as text, groups are summed and rounded
 * by this file's own code.
 */

const HOUR = 3_600_000;
const DAY0 = Date.UTC(2026, 10, 1);
const DAYS = ['2026-11-01', '2026-11-02', '2026-11-03'];
const SERVICES = ['AWSLambda', 'AmazonApiGateway', 'AmazonDynamoDB', 'AWSGlue', 'AmazonS3'];
const POSSIBLE_TENANTS = ['acme', 'globex', 'initech', 'umbrella'];
/** Tenants whose consumption arrives hourly; the others' daily (one granularity per tenant, stream and day). */
const HOURLY_TENANTS = new Set(['globex', 'stranger']);
const AMOUNT_SCALE = 10n ** 10n;
const TAG = 'user_tenant_id';

const ruleArb = (service: string) =>
  fc.oneof(
    fc.record({ service: fc.constant(service), split: fc.constant('proportional'), stream: fc.constantFrom(...CONSUMPTION_STREAMS), whenNoConsumption: fc.constantFrom('even', 'unallocated') }),
    fc.record({ service: fc.constant(service), split: fc.constant('even') }),
    fc.constant(null), // no rule
  );

const configArb = fc.tuple(...SERVICES.map(ruleArb)).map((rules) => parseCostAllocationConfig({ currency: 'USD', tenantTag: TAG, rules: rules.filter((r) => r !== null) }));

/** Units of 10^-`scale` as plain decimal text, written independently of the code under test. */
function decimalText(units: bigint, scale: number): string {
  const digits = (units < 0n ? -units : units).toString().padStart(scale + 1, '0');
  return `${units < 0n ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

interface GeneratedLine {
  readonly day: number;
  readonly hour: number;
  readonly service: string;
  readonly tag: string | null;
  readonly units: bigint;
}

const lineArb = (amount: fc.Arbitrary<bigint>) =>
  fc.record({
    day: fc.integer({ min: 0, max: 2 }),
    hour: fc.integer({ min: 0, max: 23 }),
    service: fc.constantFrom(...SERVICES, 'AWSSecretsManager'),
    tag: fc.option(fc.constantFrom(...POSSIBLE_TENANTS, 'hooli', ''), { freq: 3 }),
    units: amount,
  });

const nonNegativeAmount = fc.oneof(fc.bigInt(0n, 100n * AMOUNT_SCALE), fc.bigInt(0n, AMOUNT_SCALE / 10n));
const anyAmount = fc.oneof(nonNegativeAmount, fc.bigInt(-50n * AMOUNT_SCALE, 0n));

const consumptionArb = fc.array(
  fc.record({
    tenantId: fc.constantFrom(...POSSIBLE_TENANTS, 'stranger'),
    stream: fc.constantFrom(...CONSUMPTION_STREAMS),
    day: fc.integer({ min: 0, max: 2 }),
    hour: fc.integer({ min: 0, max: 23 }),
    units: fc.oneof(fc.constant(0n), fc.bigInt(1n, 10n ** 6n), fc.bigInt(0n, 10n ** 15n)),
  }),
  { maxLength: 30 },
);

const scenarioArb = (amount: fc.Arbitrary<bigint>) =>
  fc.record({
    config: configArb,
    tenants: fc.subarray(POSSIBLE_TENANTS),
    lines: fc.array(lineArb(amount), { maxLength: 30 }),
    usage: consumptionArb,
  });

type Scenario = { config: AllocationInput['config']; tenants: string[]; lines: GeneratedLine[]; usage: { tenantId: string; stream: ConsumptionRecord['stream']; day: number; hour: number; units: bigint }[] };

function inputOf(s: Scenario): AllocationInput {
  const costs: CostLine[] = s.lines.map((l) => ({
    start: DAY0 + l.day * 24 * HOUR + l.hour * HOUR,
    service: l.service,
    tags: l.tag === null ? { user_service: 'x' } : ({ [TAG]: l.tag } as Record<string, string>),
    amount: decimalText(l.units, 10),
    currency: 'USD',
  }));
  const consumption: ConsumptionRecord[] = s.usage.map((u) => {
    const hourly = HOURLY_TENANTS.has(u.tenantId);
    return { tenantId: u.tenantId, stream: u.stream, granularity: hourly ? 'HOURLY' : 'DAILY', start: DAY0 + u.day * 24 * HOUR + (hourly ? u.hour * HOUR : 0), value: decimalText(u.units, 6) };
  });
  return { config: s.config, tenants: s.tenants, costs, consumption, granularity: 'DAILY' };
}

/** Exact units of 10^-10 → cents, halves away from zero. */
function toCents(units: bigint): bigint {
  const divisor = AMOUNT_SCALE / 100n;
  const magnitude = ((units < 0n ? -units : units) * 2n + divisor) / (2n * divisor);
  return units < 0n ? -magnitude : magnitude;
}

/** The groups as the allocation defines them: per day and service, each silo tenant, each unknown tag, and the pool. */
function expectedGroups(s: Scenario) {
  const groups = new Map<string, { day: string; service: string; target: string; units: bigint; lines: number }>();
  for (const l of s.lines) {
    const target = l.tag === null || l.tag === '' ? 'pool' : s.tenants.includes(l.tag) ? `silo:${l.tag}` : `unknown:${l.tag}`;
    const key = `${l.day}|${l.service}|${target}`;
    const group = groups.get(key) ?? { day: DAYS[l.day], service: l.service, target, units: 0n, lines: 0 };
    groups.set(key, { ...group, units: group.units + l.units, lines: group.lines + 1 });
  }
  return [...groups.values()].map((g) => ({ ...g, cents: toCents(g.units) }));
}

/** Each tenant's consumption of a stream on a day (units of 10^-6). */
function expectedWeights(s: Scenario, day: string, stream: string): Map<string, bigint> {
  const weights = new Map<string, bigint>();
  for (const u of s.usage) if (DAYS[u.day] === day && u.stream === stream && u.units > 0n) weights.set(u.tenantId, (weights.get(u.tenantId) ?? 0n) + u.units);
  return weights;
}

const sum = (values: readonly bigint[]) => values.reduce((a, b) => a + b, 0n);
const inDayService = <T extends { day: string; service: string }>(list: readonly T[], day: string, service: string) => list.filter((x) => x.day === day && x.service === service);

/** A deterministic shuffle driven by `seed`. */
function shuffled<T>(list: readonly T[], seed: number): T[] {
  const copy = [...list];
  let state = seed >>> 0;
  for (let i = copy.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    const j = state % (i + 1);
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

describe('allocateCosts properties', () => {
  it('allocated + unallocated = the sum of the rounded group totals, to the cent, per day and service too (numRuns 500)', () => {
    fc.assert(
      fc.property(scenarioArb(anyAmount), (scenario) => {
        const result = allocateCosts(inputOf(scenario));
        const groups = expectedGroups(scenario);
        const total = sum(groups.map((g) => g.cents));
        expect(result.totalMinor).toBe(total);
        expect(result.allocatedMinor + result.unallocatedMinor).toBe(total);
        expect(sum(result.allocations.map((a) => a.amountMinor)) + sum(result.unallocated.map((u) => u.amountMinor))).toBe(total);
        expect(sum(result.byTenant.map((t) => t.costMinor))).toBe(result.allocatedMinor);
        const exact = sum(scenario.lines.map((l) => l.units));
        expect(toUnits(result.exactTotal)).toBe(exact);
        expect(toUnits(result.roundingDifference)).toBe(total * (AMOUNT_SCALE / 100n) - exact);
        for (const { day, service } of groups) {
          const reported = sum(inDayService(result.allocations, day, service).map((a) => a.amountMinor)) + sum(inDayService(result.unallocated, day, service).map((u) => u.amountMinor));
          expect(reported).toBe(sum(groups.filter((g) => g.day === day && g.service === service).map((g) => g.cents)));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('gives no tenant a negative amount when every cost is non-negative (numRuns 500)', () => {
    fc.assert(
      fc.property(scenarioArb(nonNegativeAmount), (scenario) => {
        const result = allocateCosts(inputOf(scenario));
        for (const a of result.allocations) expect(a.amountMinor > 0n).toBe(true); // zero parts are left out
        for (const t of result.byTenant) expect(t.costMinor >= 0n).toBe(true);
        for (const u of result.unallocated) expect(u.amountMinor >= 0n).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps each proportional and even share within one minor unit of its exact share (numRuns 500)', () => {
    fc.assert(
      fc.property(scenarioArb(anyAmount), (scenario) => {
        const result = allocateCosts(inputOf(scenario));
        for (const pool of expectedGroups(scenario).filter((g) => g.target === 'pool')) {
          const rule = scenario.config.rules.find((r) => r.service === pool.service);
          const shares = inDayService(result.allocations, pool.day, pool.service).filter((a) => a.basis !== 'silo');
          const shareOf = (tenantId: string) => shares.find((a) => a.tenantId === tenantId)?.amountMinor ?? 0n;
          const weights = rule?.split === 'proportional' ? expectedWeights(scenario, pool.day, rule.stream) : new Map<string, bigint>();
          if (weights.size > 0) {
            const weightSum = sum([...weights.values()]);
            for (const [tenantId, weight] of weights) {
              const known = scenario.tenants.includes(tenantId);
              const gap = shareOf(tenantId) * weightSum - pool.cents * weight; // (share − exact share) × weightSum
              if (known) expect((gap < 0n ? -gap : gap) < weightSum).toBe(true);
              else expect(shares.some((a) => a.tenantId === tenantId)).toBe(false);
            }
            expect(shares.every((a) => a.basis === 'proportional' && weights.has(a.tenantId))).toBe(true);
          } else if (shares.length > 0) {
            const n = BigInt(scenario.tenants.length);
            for (const tenantId of scenario.tenants) {
              const gap = shareOf(tenantId) * n - pool.cents;
              expect((gap < 0n ? -gap : gap) < n).toBe(true);
            }
            expect(shares.every((a) => a.basis === 'even')).toBe(true);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('does not depend on the order of lines, consumption or tenants (numRuns 500)', () => {
    fc.assert(
      fc.property(scenarioArb(anyAmount), fc.integer(), (scenario, seed) => {
        const input = inputOf(scenario);
        const permuted = { ...input, costs: shuffled(input.costs, seed), consumption: shuffled(input.consumption, seed + 1), tenants: shuffled(input.tenants, seed + 2) };
        expect(allocateCosts(permuted)).toEqual(allocateCosts(input));
      }),
      { numRuns: 500 },
    );
  });

  it('reports unallocatable cost, never dropping it (numRuns 500)', () => {
    fc.assert(
      fc.property(scenarioArb(anyAmount), (scenario) => {
        const result: AllocationResult = allocateCosts(inputOf(scenario));
        for (const group of expectedGroups(scenario)) {
          const rule = scenario.config.rules.find((r) => r.service === group.service);
          const unallocated = inDayService(result.unallocated, group.day, group.service);
          if (group.target.startsWith('unknown:')) {
            const tag = group.target.slice('unknown:'.length);
            expect(unallocated).toContainEqual({ day: group.day, service: group.service, amountMinor: group.cents, reason: `tag ${TAG} names unknown tenant "${tag}"`, lineCount: group.lines });
          }
          if (group.target === 'pool' && rule === undefined) {
            expect(unallocated).toContainEqual({ day: group.day, service: group.service, amountMinor: group.cents, reason: `no rule for service ${group.service}`, lineCount: group.lines });
          }
          if (group.target === 'pool' && rule?.split === 'proportional' && rule.whenNoConsumption === 'unallocated' && expectedWeights(scenario, group.day, rule.stream).size === 0) {
            expect(unallocated).toContainEqual({ day: group.day, service: group.service, amountMinor: group.cents, reason: `no ${rule.stream} consumption on ${group.day}`, lineCount: group.lines });
          }
          if (group.target === 'pool' && group.cents !== 0n) {
            // A non-zero pool is either shared out or (partly) reported unallocated, to the cent.
            const shared = sum(inDayService(result.allocations, group.day, group.service).filter((a) => a.basis !== 'silo').map((a) => a.amountMinor));
            const left = sum(unallocated.filter((u) => !u.reason.startsWith('tag ')).map((u) => u.amountMinor));
            expect(shared + left).toBe(group.cents);
          }
        }
        const unallocatedLines = scenario.lines.filter((l) => {
          const tagged = l.tag !== null && l.tag !== '';
          return (tagged && !scenario.tenants.includes(l.tag!)) || (!tagged && !scenario.config.rules.some((r) => r.service === l.service));
        }).length;
        expect(sum(result.unallocated.filter((u) => u.reason.startsWith('tag ') || u.reason.startsWith('no rule')).map((u) => BigInt(u.lineCount)))).toBe(BigInt(unallocatedLines));
      }),
      { numRuns: 500 },
    );
  });
});

/** Decimal text → units of 10^-10 (the generated amounts' scale). */
function toUnits(text: string): bigint {
  const negative = text.startsWith('-');
  const [whole, fraction = ''] = (negative ? text.slice(1) : text).split('.');
  const units = BigInt(whole + fraction.padEnd(10, '0'));
  return negative ? -units : units;
}
