import type { AllocationRule, CostAllocationConfig } from './allocation-config';
import { CONSUMPTION_STREAMS, type ConsumptionRecord, type ConsumptionStream } from './consumption';
import type { CostLine } from './cost-line';
import { COST_AMOUNT_SCALE, CONSUMPTION_VALUE_SCALE, DecimalAmountError, formatDecimal, parseDecimal, rescale } from './decimal-amount';

/**
 * Allocation of AWS cost to tenants, day by day and service by service (the approach of the AWS APN blog on tenant cost allocation with CloudZero:
 * siloed resources first, then pooled cost split by consumption or evenly), done here rather than
 * left to a vendor.
 *
 * Per UTC day (of a line's `start`) and service, the lines fall into groups that go one way:
 * - the lines whose `tags[tenantTag]` names a known tenant: wholly that tenant's (basis `silo`);
 * - the lines whose tag names an unknown tenant: unallocated, one group per tag value;
 * - the other lines (no tag, or an empty one), the pool: split by the service's rule — `proportional`
 *   to each tenant's consumption of the rule's stream that day (HOURLY figures summed into their day),
 *   or `even` between the known tenants. No rule, or no consumption under `whenNoConsumption:
 *   "unallocated"`, leaves the pool unallocated with the reason. Consumption by tenants outside the
 *   tenant list still weighs in the split, but their part is reported unallocated, never given away.
 *
 * Money: each group's exact decimal sum is rounded once to minor units, half away from zero (0.005 →
 * 0.01, -0.005 → -0.01), and split by the largest-remainder method ({@link splitByWeights}), so the
 * parts add up exactly to the rounded total and each differs from its exact share by less than one
 * minor unit. Hence allocated + unallocated = `totalMinor` = the sum of the rounded group totals; the
 * result also gives the exact input total and what rounding added to it.
 *
 * Bad input (another currency than the configuration's — lines are never converted —, a malformed
 * amount or consumption value, a misaligned consumption start, a tenant/stream/day reported both
 * hourly and daily) throws one {@link CostAllocationError} listing every problem with its index.
 */

/** How the split groups cost in time; only whole UTC days for now. */
export type AllocationGranularity = 'DAILY';

/** What {@link allocateCosts} works on. */
export interface AllocationInput {
  readonly config: CostAllocationConfig;
  /** The known tenants: even splits go to them, and a silo tag must name one. Duplicates count once. */
  readonly tenants: readonly string[];
  readonly costs: readonly CostLine[];
  readonly consumption: readonly ConsumptionRecord[];
  readonly granularity: AllocationGranularity;
}

/** Why a tenant was given an amount. */
export type AllocationBasis = 'silo' | 'proportional' | 'even';

/** Cost given to one tenant for one day and service, in whole minor units (never 0). */
export interface Allocation {
  readonly tenantId: string;
  /** UTC day, `YYYY-MM-DD`. */
  readonly day: string;
  readonly service: string;
  readonly basis: AllocationBasis;
  /** The consumption stream of a `proportional` allocation. */
  readonly stream?: ConsumptionStream;
  readonly amountMinor: bigint;
}

/** Cost of one day and service that no tenant was given, with the reason (listed even when it rounds to 0). */
export interface UnallocatedCost {
  readonly day: string;
  readonly service: string;
  readonly amountMinor: bigint;
  readonly reason: string;
  /** How many cost lines the amount comes from. */
  readonly lineCount: number;
}

/** One tenant's allocated cost, in total and per service. */
export interface TenantCost {
  readonly tenantId: string;
  readonly costMinor: bigint;
  /** Per service with an allocation, sorted by service. */
  readonly byService: readonly { readonly service: string; readonly costMinor: bigint }[];
}

/** The allocation; every list in a deterministic order that does not depend on the input order. */
export interface AllocationResult {
  readonly currency: string;
  readonly minorUnitDigits: number;
  readonly granularity: AllocationGranularity;
  /** Sum of the rounded group totals = `allocatedMinor` + `unallocatedMinor`. */
  readonly totalMinor: bigint;
  readonly allocatedMinor: bigint;
  readonly unallocatedMinor: bigint;
  /** The exact sum of the input amounts, decimal text (at least `minorUnitDigits` fraction digits). */
  readonly exactTotal: string;
  /** `totalMinor` minus `exactTotal`, exactly: what rounding the groups added (negative when it took away). */
  readonly roundingDifference: string;
  /** Sorted by day, service, tenant, basis. */
  readonly allocations: readonly Allocation[];
  /** Sorted by day, service, reason. */
  readonly unallocated: readonly UnallocatedCost[];
  /** Every known tenant (cost 0 when it got none), sorted by tenant id. */
  readonly byTenant: readonly TenantCost[];
}

/** Input that cannot be allocated; `problems` lists each one with the index of its line or record. */
export class CostAllocationError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    const shown = problems.slice(0, MAX_PROBLEMS_SHOWN).map((p) => `  - ${p}`);
    if (problems.length > MAX_PROBLEMS_SHOWN) shown.push(`  … and ${problems.length - MAX_PROBLEMS_SHOWN} more`);
    super(`Cannot allocate costs:\n${shown.join('\n')}`);
    this.name = 'CostAllocationError';
    this.problems = problems;
  }
}

const MAX_PROBLEMS_SHOWN = 20;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Allocates the cost lines to tenants; see the module comment for the rules. */
export function allocateCosts(input: AllocationInput): AllocationResult {
  const { config } = input;
  const problems: string[] = [];
  if (input.granularity !== 'DAILY') problems.push(`granularity: only DAILY is supported, got ${JSON.stringify(input.granularity)}`);
  const tenants = knownTenants(input.tenants, problems);
  const lines = input.costs.map((line, index) => parseCostLine(line, index, config, problems)).filter((line) => line !== undefined);
  const usage = dailyConsumption(input.consumption, problems);
  if (problems.length > 0) throw new CostAllocationError(problems);

  const allocations: Allocation[] = [];
  const unallocated: UnallocatedCost[] = [];
  let exactUnits = 0n;
  let totalMinor = 0n;
  /** A group's exact sum, rounded once to minor units; both totals keep count. */
  const roundedSum = (amounts: readonly bigint[]) => {
    const units = amounts.reduce((sum, a) => sum + a, 0n);
    const minor = rescale(units, COST_AMOUNT_SCALE, config.minorUnitDigits);
    exactUnits += units;
    totalMinor += minor;
    return minor;
  };

  for (const { day, service, silo, unknownTag, pool } of groupLines(lines, new Set(tenants))) {
    for (const [tenantId, amounts] of silo) {
      const amountMinor = roundedSum(amounts);
      if (amountMinor !== 0n) allocations.push({ tenantId, day, service, basis: 'silo', amountMinor });
    }
    for (const [tag, amounts] of unknownTag) {
      const reason = `tag ${config.tenantTag} names unknown tenant ${JSON.stringify(tag)}`;
      unallocated.push({ day, service, amountMinor: roundedSum(amounts), reason, lineCount: amounts.length });
    }
    if (pool.length === 0) continue;
    const split = splitPool(roundedSum(pool), config.rules.find((r) => r.service === service), service, day, tenants, usage);
    for (const { tenantId, ...part } of split.parts) if (part.amountMinor !== 0n) allocations.push({ tenantId, day, service, ...part });
    for (const rest of split.unallocated) unallocated.push({ day, service, ...rest, lineCount: pool.length });
  }

  allocations.sort((a, b) => compare(a.day, b.day) || compare(a.service, b.service) || compare(a.tenantId, b.tenantId) || compare(a.basis, b.basis));
  unallocated.sort((a, b) => compare(a.day, b.day) || compare(a.service, b.service) || compare(a.reason, b.reason));
  const allocatedMinor = allocations.reduce((sum, a) => sum + a.amountMinor, 0n);
  const digits = config.minorUnitDigits;
  return {
    currency: config.currency,
    minorUnitDigits: digits,
    granularity: 'DAILY',
    totalMinor,
    allocatedMinor,
    unallocatedMinor: totalMinor - allocatedMinor,
    exactTotal: formatDecimal(exactUnits, COST_AMOUNT_SCALE, digits),
    roundingDifference: formatDecimal(rescale(totalMinor, digits, COST_AMOUNT_SCALE) - exactUnits, COST_AMOUNT_SCALE, digits),
    allocations,
    unallocated,
    byTenant: costByTenant(tenants, allocations),
  };
}

/**
 * Splits `totalMinor` in proportion to `weights` by the largest-remainder method: each key gets the
 * floor of its exact share of the magnitude, and the minor units left go one each to the largest
 * remainders, ties to the smaller key (compared by UTF-16 code units). The parts add up to
 * `totalMinor` exactly, carry its sign, and differ from the exact shares by less than one minor unit.
 * Weights must be non-negative with a positive sum; a key of weight 0 gets 0.
 */
export function splitByWeights(totalMinor: bigint, weights: ReadonlyMap<string, bigint>): Map<string, bigint> {
  let weightSum = 0n;
  for (const [key, weight] of weights) {
    if (weight < 0n) throw new RangeError(`the weight of ${JSON.stringify(key)} is negative`);
    weightSum += weight;
  }
  if (weightSum === 0n) throw new RangeError('the weights must have a positive sum');
  const magnitude = totalMinor < 0n ? -totalMinor : totalMinor;
  const shares = [...weights].map(([key, weight]) => ({ key, units: (magnitude * weight) / weightSum, remainder: (magnitude * weight) % weightSum }));
  let left = magnitude - shares.reduce((sum, s) => sum + s.units, 0n);
  const largestFirst = [...shares].sort((a, b) => (a.remainder === b.remainder ? compare(a.key, b.key) : a.remainder > b.remainder ? -1 : 1));
  for (const share of largestFirst) {
    if (left === 0n) break;
    share.units += 1n;
    left -= 1n;
  }
  return new Map(shares.map((s) => [s.key, totalMinor < 0n ? -s.units : s.units]));
}

/** Code-unit order of strings: the same on every machine, unlike `localeCompare`. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function knownTenants(tenants: readonly string[], problems: string[]): string[] {
  tenants.forEach((tenantId, index) => {
    if (typeof tenantId !== 'string' || tenantId === '') problems.push(`tenants[${index}]: must be a non-empty tenant id, got ${JSON.stringify(tenantId)}`);
  });
  return [...new Set(tenants)].sort(compare);
}

/** A cost line reduced to its day, service, silo tag (if any) and amount in units of 10^-COST_AMOUNT_SCALE. */
interface ParsedLine {
  readonly day: string;
  readonly service: string;
  readonly tag?: string;
  readonly units: bigint;
}

function parseCostLine(line: CostLine, index: number, config: CostAllocationConfig, problems: string[]): ParsedLine | undefined {
  const at = `costs[${index}]`;
  const before = problems.length;
  if (line.currency !== config.currency) {
    problems.push(`${at}: currency ${JSON.stringify(line.currency)} is not the configured ${config.currency} (cost lines are never converted)`);
  }
  if (typeof line.service !== 'string' || line.service === '') problems.push(`${at}.service: must be a non-empty service code`);
  const day = dayOf(line.start);
  if (day === undefined) problems.push(`${at}.start: must be a time in epoch milliseconds, got ${JSON.stringify(line.start)}`);
  let units = 0n;
  try {
    units = parseDecimal(line.amount, COST_AMOUNT_SCALE, { allowNegative: true });
  } catch (error) {
    if (!(error instanceof DecimalAmountError)) throw error;
    problems.push(`${at}.amount: ${error.message}`);
  }
  const tags: unknown = line.tags;
  let tag: string | undefined;
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) problems.push(`${at}.tags: must be an object of tag key → value`);
  else if (Object.hasOwn(tags, config.tenantTag)) {
    const value: unknown = (tags as Record<string, unknown>)[config.tenantTag];
    if (typeof value !== 'string') problems.push(`${at}.tags.${config.tenantTag}: must be text, got ${JSON.stringify(value)}`);
    else if (value !== '') tag = value;
  }
  if (problems.length > before || day === undefined) return undefined;
  return { day, service: line.service, tag, units };
}

/** The UTC day (`YYYY-MM-DD`) of an epoch-ms time, or undefined when it is not a representable time. */
function dayOf(epochMs: unknown): string | undefined {
  if (typeof epochMs !== 'number' || !Number.isFinite(epochMs) || Math.abs(epochMs) > 8.64e15) return undefined;
  const iso = new Date(epochMs).toISOString();
  return /^\d{4}-/.test(iso) ? iso.slice(0, 10) : undefined;
}

/** The lines of one day and service, sorted into silo (known tenant), unknown-tag and pooled lines. */
interface CostGroup {
  readonly day: string;
  readonly service: string;
  readonly silo: ReadonlyMap<string, bigint[]>;
  readonly unknownTag: ReadonlyMap<string, bigint[]>;
  readonly pool: bigint[];
}

/** Groups by day and service, every key sorted so that the output never depends on the input order. */
function groupLines(lines: readonly ParsedLine[], known: ReadonlySet<string>): CostGroup[] {
  const groups = new Map<string, { day: string; service: string; silo: Map<string, bigint[]>; unknownTag: Map<string, bigint[]>; pool: bigint[] }>();
  for (const line of lines) {
    const key = `${line.day}\u0000${line.service}`;
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = { day: line.day, service: line.service, silo: new Map(), unknownTag: new Map(), pool: [] }));
    if (line.tag === undefined) group.pool.push(line.units);
    else append(known.has(line.tag) ? group.silo : group.unknownTag, line.tag, line.units);
  }
  return [...groups.values()]
    .sort((a, b) => compare(a.day, b.day) || compare(a.service, b.service))
    .map((g) => ({ ...g, silo: sortedByKey(g.silo), unknownTag: sortedByKey(g.unknownTag) }));
}

function append<V>(map: Map<string, V[]>, key: string, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

function sortedByKey<V>(map: ReadonlyMap<string, V>): Map<string, V> {
  return new Map([...map].sort(([a], [b]) => compare(a, b)));
}

/** Per `day\0stream`, each tenant's consumption in units of 10^-CONSUMPTION_VALUE_SCALE. */
type DailyConsumption = ReadonlyMap<string, ReadonlyMap<string, bigint>>;

const STREAMS: ReadonlySet<string> = new Set(CONSUMPTION_STREAMS);

/**
 * Sums the records per day, stream and tenant (HOURLY records into their day; several records of the
 * same hour or day add up). A tenant, stream and day given both HOURLY and DAILY is a problem: the daily
 * figure most likely already holds the hours, and adding both would count them twice.
 */
function dailyConsumption(records: readonly ConsumptionRecord[], problems: string[]): DailyConsumption {
  const sums = new Map<string, Map<string, bigint>>();
  const granularityOf = new Map<string, { granularity: string; index: number }>();
  records.forEach((record, index) => {
    const at = `consumption[${index}]`;
    const before = problems.length;
    if (typeof record.tenantId !== 'string' || record.tenantId === '') problems.push(`${at}.tenantId: must be a non-empty tenant id`);
    if (!STREAMS.has(record.stream)) problems.push(`${at}.stream: must be one of ${CONSUMPTION_STREAMS.join(', ')}, got ${JSON.stringify(record.stream)}`);
    const step = record.granularity === 'HOURLY' ? HOUR_MS : record.granularity === 'DAILY' ? DAY_MS : undefined;
    const day = dayOf(record.start);
    if (step === undefined) problems.push(`${at}.granularity: must be HOURLY or DAILY, got ${JSON.stringify(record.granularity)}`);
    else if (day === undefined || record.start % step !== 0) {
      const shown = day === undefined ? JSON.stringify(record.start) : `${record.start} (${new Date(record.start).toISOString()})`;
      problems.push(`${at}.start: must be the start of a UTC ${step === HOUR_MS ? 'hour' : 'day'} in epoch milliseconds, got ${shown}`);
    }
    let units = 0n;
    try {
      units = parseDecimal(record.value, CONSUMPTION_VALUE_SCALE);
    } catch (error) {
      if (!(error instanceof DecimalAmountError)) throw error;
      problems.push(`${at}.value: ${error.message}`);
    }
    if (problems.length > before || day === undefined) return;
    const key = `${day}\u0000${record.stream}`;
    const seen = granularityOf.get(`${key}\u0000${record.tenantId}`);
    if (seen !== undefined && seen.granularity !== record.granularity) {
      problems.push(`${at}: tenant ${JSON.stringify(record.tenantId)} has both HOURLY and DAILY ${record.stream} on ${day} (see consumption[${seen.index}]); give one granularity per tenant, stream and day`);
      return;
    }
    granularityOf.set(`${key}\u0000${record.tenantId}`, { granularity: record.granularity, index });
    let byTenant = sums.get(key);
    if (byTenant === undefined) sums.set(key, (byTenant = new Map()));
    byTenant.set(record.tenantId, (byTenant.get(record.tenantId) ?? 0n) + units);
  });
  return sums;
}

type PoolPart = Pick<Allocation, 'tenantId' | 'basis' | 'stream' | 'amountMinor'>;
type PoolRest = Pick<UnallocatedCost, 'amountMinor' | 'reason'>;

/** Splits a pooled (rounded) amount by the service's rule. */
function splitPool(amountMinor: bigint, rule: AllocationRule | undefined, service: string, day: string, tenants: readonly string[], usage: DailyConsumption): { parts: PoolPart[]; unallocated: PoolRest[] } {
  const nowhere = (reason: string) => ({ parts: [], unallocated: [{ amountMinor, reason }] });
  if (rule === undefined) return nowhere(`no rule for service ${service}`);
  if (rule.split === 'even') return tenants.length > 0 ? evenSplit(amountMinor, tenants) : nowhere('no known tenants to split evenly between');

  const weights = new Map([...(usage.get(`${day}\u0000${rule.stream}`) ?? [])].filter(([, units]) => units > 0n).sort(([a], [b]) => compare(a, b)));
  if (weights.size === 0) {
    const none = `no ${rule.stream} consumption on ${day}`;
    if (rule.whenNoConsumption === 'unallocated') return nowhere(none);
    return tenants.length > 0 ? evenSplit(amountMinor, tenants) : nowhere(`${none} and no known tenants to split evenly between`);
  }
  const known = new Set(tenants);
  const parts: PoolPart[] = [];
  const strangers: string[] = [];
  let strangersMinor = 0n;
  for (const [tenantId, share] of splitByWeights(amountMinor, weights)) {
    if (known.has(tenantId)) parts.push({ tenantId, basis: 'proportional', stream: rule.stream, amountMinor: share });
    else {
      strangers.push(tenantId);
      strangersMinor += share;
    }
  }
  const rest = strangers.length === 0 ? [] : [{ amountMinor: strangersMinor, reason: `${rule.stream} consumption by tenants not in the tenant list: ${strangers.map((t) => JSON.stringify(t)).join(', ')}` }];
  return { parts, unallocated: rest };
}

function evenSplit(amountMinor: bigint, tenants: readonly string[]): { parts: PoolPart[]; unallocated: PoolRest[] } {
  const shares = splitByWeights(amountMinor, new Map(tenants.map((t) => [t, 1n])));
  return { parts: [...shares].map(([tenantId, share]) => ({ tenantId, basis: 'even' as const, amountMinor: share })), unallocated: [] };
}

function costByTenant(tenants: readonly string[], allocations: readonly Allocation[]): TenantCost[] {
  const byTenant = new Map(tenants.map((t) => [t, new Map<string, bigint>()]));
  for (const a of allocations) {
    const services = byTenant.get(a.tenantId)!;
    services.set(a.service, (services.get(a.service) ?? 0n) + a.amountMinor);
  }
  return [...byTenant].map(([tenantId, services]) => {
    const byService = [...services].sort(([a], [b]) => compare(a, b)).map(([service, costMinor]) => ({ service, costMinor }));
    return { tenantId, costMinor: byService.reduce((sum, s) => sum + s.costMinor, 0n), byService };
  });
}
