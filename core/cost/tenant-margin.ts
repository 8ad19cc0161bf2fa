import type { AllocationResult } from './allocate-costs';
import { formatDecimal, roundDiv } from './decimal-amount';

/**
 * Margin per tenant: what the tenant paid (the rating engine's invoice totals, computed by the caller)
 * against the cost allocated to it. Every tenant on either side gets a row, so a tenant that costs
 * without paying — or pays without costing — is visible. The cost nobody was given (unallocated) is a
 * line of its own, and the totals cover all of it: total margin = revenue − every cost.
 */

/** One tenant's revenue for the period, in minor units of `currency`. */
export interface TenantRevenue {
  readonly tenantId: string;
  readonly revenueMinor: bigint;
  readonly currency: string;
  /** Minor-unit digits of `revenueMinor` (an invoice's `minorUnitDigits`); checked against the cost's when given. */
  readonly minorUnitDigits?: number;
}

/** What {@link tenantMargins} works on. Several revenue entries of one tenant add up. */
export interface TenantMarginInput {
  readonly allocation: AllocationResult;
  readonly revenue: readonly TenantRevenue[];
}

/** Revenue, cost and margin of one tenant (or of the totals). */
export interface MarginFigures {
  readonly revenueMinor: bigint;
  readonly costMinor: bigint;
  /** `revenueMinor − costMinor`. */
  readonly marginMinor: bigint;
  /** Margin as a percentage of revenue, exact decimal text with one fraction digit (`"66.7"`); null when revenue is 0. */
  readonly marginPercent: string | null;
}

/** One tenant's row. */
export interface TenantMarginRow extends MarginFigures {
  readonly tenantId: string;
}

/** The margin report: rows sorted by tenant id, the unallocated cost, and totals over both. */
export interface TenantMarginReport {
  readonly currency: string;
  readonly minorUnitDigits: number;
  readonly rows: readonly TenantMarginRow[];
  /** Cost no tenant was given (see `AllocationResult.unallocated`). */
  readonly unallocatedCostMinor: bigint;
  /** Revenue of all tenants against all cost, allocated and unallocated. */
  readonly totals: MarginFigures;
}

/** Revenue that cannot be set against the allocation; `problems` names each entry by index. */
export class TenantMarginError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Cannot compute tenant margins:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'TenantMarginError';
    this.problems = problems;
  }
}

/** The margin report; throws {@link TenantMarginError} for revenue in another currency or malformed entries. */
export function tenantMargins(input: TenantMarginInput): TenantMarginReport {
  const { allocation } = input;
  const problems: string[] = [];
  const revenue = new Map<string, bigint>();
  input.revenue.forEach((r, index) => {
    const at = `revenue[${index}]`;
    const before = problems.length;
    if (typeof r.tenantId !== 'string' || r.tenantId === '') problems.push(`${at}.tenantId: must be a non-empty tenant id`);
    if (typeof r.revenueMinor !== 'bigint') problems.push(`${at}.revenueMinor: must be a bigint of minor units, got ${typeof r.revenueMinor}`);
    if (r.currency !== allocation.currency) {
      problems.push(`${at}: currency ${JSON.stringify(r.currency)} of tenant ${JSON.stringify(r.tenantId)} is not the cost currency ${allocation.currency} (amounts are never converted)`);
    }
    if (r.minorUnitDigits !== undefined && r.minorUnitDigits !== allocation.minorUnitDigits) {
      problems.push(`${at}: amounts in ${r.minorUnitDigits} minor-unit digits, the cost has ${allocation.minorUnitDigits}`);
    }
    if (problems.length === before) revenue.set(r.tenantId, (revenue.get(r.tenantId) ?? 0n) + r.revenueMinor);
  });
  if (problems.length > 0) throw new TenantMarginError(problems);

  const cost = new Map(allocation.byTenant.map((t) => [t.tenantId, t.costMinor]));
  const tenantIds = [...new Set([...cost.keys(), ...revenue.keys()])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const rows = tenantIds.map((tenantId) => ({ tenantId, ...figures(revenue.get(tenantId) ?? 0n, cost.get(tenantId) ?? 0n) }));
  const revenueMinor = rows.reduce((sum, r) => sum + r.revenueMinor, 0n);
  return {
    currency: allocation.currency,
    minorUnitDigits: allocation.minorUnitDigits,
    rows,
    unallocatedCostMinor: allocation.unallocatedMinor,
    totals: figures(revenueMinor, allocation.totalMinor),
  };
}

/**
 * `margin / revenue × 100` as decimal text with one fraction digit, rounded half away from zero
 * (2/3 → `"66.7"`, −1/8 → `"-12.5"`); null when revenue is 0 (no percentage of nothing).
 */
export function marginPercent(marginMinor: bigint, revenueMinor: bigint): string | null {
  if (revenueMinor === 0n) return null;
  const tenths = revenueMinor > 0n ? roundDiv(marginMinor * 1000n, revenueMinor) : roundDiv(-marginMinor * 1000n, -revenueMinor);
  return formatDecimal(tenths, 1);
}

function figures(revenueMinor: bigint, costMinor: bigint): MarginFigures {
  const marginMinor = revenueMinor - costMinor;
  return { revenueMinor, costMinor, marginMinor, marginPercent: marginPercent(marginMinor, revenueMinor) };
}
