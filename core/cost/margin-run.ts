/**
 * What `npm run costs` (and the local run) computes once everything is read: the tenants of the period, each tenant's
 * invoice preview (its revenue), the allocation of the cost lines and the margin report — and the
 * warnings a reader of the report must see. Pure: the cost lines, the consumption and the usage hours
 * are passed in, nothing is read from an engine, a file or a clock.
 *
 * Tenants: every tenant with usage (a billing dimension's usage hour) or consumption (any stream) in
 * the period. Each of them is rated, so revenue never belongs to a tenant outside the list; a silo tag
 * naming a tenant outside it is left unallocated by the allocation, with the reason.
 */
import { allocateCosts, type AllocationResult, type UnallocatedCost } from './allocate-costs';
import type { CostAllocationConfig } from './allocation-config';
import type { ConsumptionRecord } from './consumption';
import type { CostLine } from './cost-line';
import { tenantMargins, type TenantMarginReport } from './tenant-margin';
import { buildInvoicePreview, type InvoicePreview, type UsageHour } from '../pricing/invoice';
import { formatMinor } from '../pricing/money';
import type { Period } from '../pricing/periods';
import { planOfTenant, type PricingConfig } from '../pricing/plan-schema';

/** What {@link buildMarginRun} works on. */
export interface MarginRunInput {
  readonly allocation: CostAllocationConfig;
  readonly pricing: PricingConfig;
  /** Whole UTC days, `[start, end)` epoch ms; the invoice previews rate it as one billing period. */
  readonly period: Period;
  readonly costs: readonly CostLine[];
  /** DAILY consumption of the period. */
  readonly consumption: readonly ConsumptionRecord[];
  /** Usage hours of the period (`measureUsage`). */
  readonly usage: readonly UsageHour[];
  /** When the report is made, epoch ms (the previews say whether the period has ended). */
  readonly generatedAt: number;
}

/** The margin report and everything it was made of. */
export interface MarginRun {
  /** Sorted by tenant id. */
  readonly tenants: readonly string[];
  /** One per tenant, in the order of {@link tenants}. */
  readonly invoices: readonly InvoicePreview[];
  readonly allocation: AllocationResult;
  readonly report: TenantMarginReport;
}

/** A plan a tenant can be rated under does not bill in the cost's currency. */
export class RevenueCurrencyError extends Error {
  override readonly name = 'RevenueCurrencyError';
}

/**
 * Checks that every plan a tenant can be on (`defaultPlan` and those of `tenantPlans`) bills in the
 * allocation's currency with its minor-unit digits: a margin subtracts one from the other, and amounts
 * are never converted.
 * @throws RevenueCurrencyError naming the first plan that does not
 */
export function checkRevenueCurrency(pricing: PricingConfig, allocation: CostAllocationConfig): void {
  const used = new Set([pricing.defaultPlan, ...Object.values(pricing.tenantPlans)]);
  for (const plan of pricing.plans) {
    if (!used.has(plan.id)) continue;
    if (plan.currency !== allocation.currency) {
      throw new RevenueCurrencyError(`plan ${plan.id} bills in ${plan.currency}, the cost is in ${allocation.currency}: revenue and cost must be in one currency (amounts are never converted)`);
    }
    if (plan.minorUnitDigits !== allocation.minorUnitDigits) {
      throw new RevenueCurrencyError(`plan ${plan.id} counts ${plan.currency} in ${plan.minorUnitDigits} minor-unit digits, the cost in ${allocation.minorUnitDigits}`);
    }
  }
}

/** The tenants of the period: every tenant with a usage hour or a consumption record in it, sorted. */
export function tenantsOfPeriod(period: Period, usage: readonly UsageHour[], consumption: readonly ConsumptionRecord[]): string[] {
  const inPeriod = (time: number) => time >= period.start && time < period.end;
  const tenants = new Set<string>();
  for (const hour of usage) if (inPeriod(hour.hour)) tenants.add(hour.tenantId);
  for (const record of consumption) if (inPeriod(record.start)) tenants.add(record.tenantId);
  return [...tenants].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Rates each tenant of the period, allocates the cost between them and sets one against the other.
 * @throws CostAllocationError, TenantMarginError, RatingError for input those refuse
 */
export function buildMarginRun(input: MarginRunInput): MarginRun {
  const tenants = tenantsOfPeriod(input.period, input.usage, input.consumption);
  const invoices = tenants.map((tenantId) =>
    buildInvoicePreview({ tenantId, plan: planOfTenant(input.pricing, tenantId), period: input.period, measurements: input.usage, generatedAt: input.generatedAt }),
  );
  return { tenants, invoices, ...allocateAgainstInvoices({ config: input.allocation, tenants, costs: input.costs, consumption: input.consumption, invoices }) };
}

/**
 * Allocates the cost lines to `tenants` by their consumption (DAILY) and sets each tenant's invoice
 * total (its revenue) against its share.
 */
export function allocateAgainstInvoices(input: {
  readonly config: CostAllocationConfig;
  readonly tenants: readonly string[];
  readonly costs: readonly CostLine[];
  readonly consumption: readonly ConsumptionRecord[];
  readonly invoices: readonly InvoicePreview[];
}): { readonly allocation: AllocationResult; readonly report: TenantMarginReport } {
  const allocation = allocateCosts({ config: input.config, tenants: input.tenants, costs: input.costs, consumption: input.consumption, granularity: 'DAILY' });
  const report = tenantMargins({
    allocation,
    revenue: input.invoices.map((invoice) => ({ tenantId: invoice.tenantId, revenueMinor: invoice.totalMinor, currency: invoice.currency, minorUnitDigits: invoice.minorUnitDigits })),
  });
  return { allocation, report };
}

/**
 * What the reader must know besides the figures, one line each: cost left unallocated (per service
 * and reason, with its days and line count), what rounding to minor units changed, and the previews'
 * warnings (usage a plan does not price, a period not yet over), each once with its tenants.
 */
export function marginWarnings(run: MarginRun): string[] {
  const { allocation } = run;
  const money = (minor: bigint) => formatMinor(minor, allocation.minorUnitDigits, allocation.currency);
  const warnings = unallocatedGroups(allocation.unallocated).map((group) => {
    const days = group.days.length === 1 ? group.days[0] : `${group.days.length} days (${group.days[0]}..${group.days[group.days.length - 1]})`;
    return `unallocated ${money(group.amountMinor)} of ${group.service} on ${days}: ${group.reason} (${group.lineCount} cost line${group.lineCount === 1 ? '' : 's'})`;
  });
  if (/[1-9]/.test(allocation.roundingDifference)) {
    warnings.push(
      `rounding each day and service's cost to whole minor units changed the total by ${allocation.roundingDifference} ${allocation.currency} ` +
        `(exact ${allocation.exactTotal} ${allocation.currency}, reported ${money(allocation.totalMinor)})`,
    );
  }
  const tenantsOf = new Map<string, string[]>();
  for (const invoice of run.invoices) {
    for (const warning of invoice.warnings) tenantsOf.set(warning, [...(tenantsOf.get(warning) ?? []), invoice.tenantId]);
  }
  for (const [warning, tenants] of tenantsOf) {
    warnings.push(`${warning} (${tenants.length === 1 ? 'tenant' : 'tenants'} ${tenants.map((t) => JSON.stringify(t)).join(', ')})`);
  }
  return warnings;
}

interface UnallocatedGroup {
  readonly service: string;
  readonly reason: string;
  readonly days: string[];
  amountMinor: bigint;
  lineCount: number;
}

/** The unallocated entries by service and reason (a reason that names its day stays per day), in first-seen order. */
function unallocatedGroups(entries: readonly UnallocatedCost[]): UnallocatedGroup[] {
  const groups = new Map<string, UnallocatedGroup>();
  for (const entry of entries) {
    const key = JSON.stringify([entry.service, entry.reason]);
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = { service: entry.service, reason: entry.reason, days: [], amountMinor: 0n, lineCount: 0 }));
    if (!group.days.includes(entry.day)) group.days.push(entry.day);
    group.amountMinor += entry.amountMinor;
    group.lineCount += entry.lineCount;
  }
  return [...groups.values()];
}
