/**
 * The report of a local end-to-end run (`npm start`): what was sent, what the aggregation measured,
 * what the Marketplace simulator billed, the invoices and, when cost allocation ran, cost and margin
 * per tenant. One plain value feeds every rendering (`report-html.ts`, `terminal-summary.ts`,
 * `report-json.ts`), so the page, the terminal and `report.json` can never disagree.
 *
 * The model is JSON as it stands: every quantity and amount is a decimal integer string (exact,
 * beyond 2^53), every time an ISO 8601 UTC string, every count of requests or records a safe integer.
 * The helpers here are pure and small; they turn core values (invoice previews) into report entries
 * and derive what the run itself must not get wrong (the reconciliation's problems, the margin).
 */
import type { InvoicePreview } from '../../core/pricing/invoice';

/** The version of the report's shape, written in `report.json` and checked on read. */
export const RUN_REPORT_VERSION = 1;

/** A step of the run and how long it took. */
export interface RunStep {
  readonly name: string;
  readonly millis: number;
  /** What the step did, in a few words (`"1,200 requests, 3 tenants"`). */
  readonly detail?: string;
}

/** A tenant of the run. */
export interface RunTenant {
  readonly tenantId: string;
  /** As registered; free text, rendered escaped. */
  readonly companyName: string;
  readonly planId: string;
  /** Whether the tenant subscribed through AWS Marketplace (its usage is billed there). */
  readonly marketplace: boolean;
  /** Requests the load generator sent for the tenant (each counted once, duplicates not included). */
  readonly requests: number;
}

/** What the load generator did. */
export interface RunTraffic {
  /** Distinct requests sent. */
  readonly requests: number;
  /** Requests per HTTP status code (`"200"`, `"401"`, …). */
  readonly byStatus: Readonly<Record<string, number>>;
  /** Access-log records delivered twice on purpose (at-least-once delivery). */
  readonly duplicatesDelivered: number;
  /** Records delivered after their hour was first aggregated. */
  readonly lateRecords: number;
  /** Custom usage events accepted. */
  readonly usageEvents: number;
  /** Records or events refused by validation (never counted). */
  readonly rejectedRecords: number;
}

/** One usage hour as the aggregation stored it. */
export interface UsageHourEntry {
  readonly tenantId: string;
  readonly dimension: string;
  /** Start of the hour, ISO 8601 UTC. */
  readonly hour: string;
  /** Non-negative decimal integer. */
  readonly quantity: string;
}

/** One tenant × dimension over the whole run: what was sent, measured and billed. */
export interface ReconciliationEntry {
  readonly tenantId: string;
  readonly dimension: string;
  /** What the load generator knows it produced (the ground truth). */
  readonly trueQuantity: string;
  /** The sum of the stored usage hours. */
  readonly aggregated: string;
  /**
   * What AWS Marketplace billed, in units of the dimension; `null` when the dimension (or the tenant)
   * is not billed through Marketplace.
   */
  readonly billed: string | null;
  /**
   * For a dimension billed through Marketplace, what its ledger charges (every record's quantity ×
   * its listing dimension's price) against what the rating engine charges for the true usage; absent
   * or `null` otherwise.
   */
  readonly billedAmount?: MarketplaceAmount | null;
  /**
   * Whether the figures agree: at least the totals ({@link isReconciled}); the run may hold a stricter
   * view (hour by hour), so a row can be inexact although its totals agree, never the reverse.
   */
  readonly exact: boolean;
}

/** Money billed through Marketplace for one tenant × dimension, in the listing's currency. */
export interface MarketplaceAmount {
  readonly currency: string;
  readonly minorUnitDigits: number;
  /** Σ ledger quantity × listing unit price, minor units. */
  readonly ledgerMinor: string;
  /** The rating engine's charge for the true usage under the listing's plan, minor units. */
  readonly ratedMinor: string;
}

/** A line of a tenant's invoice. */
export interface InvoiceLineEntry {
  /** The rating line's kind (`flat_fee`, `per_unit`, `tier`, `unpriced`, …). */
  readonly kind: string;
  /** The dimension it charges; `null` for a flat fee. */
  readonly dimension: string | null;
  readonly description: string;
  /** Non-negative decimal integer. */
  readonly quantity: string;
  /** Minor units, decimal integer. */
  readonly amountMinor: string;
}

/** A tenant's invoice preview for the month of the run. */
export interface InvoiceEntry {
  readonly tenantId: string;
  readonly planId: string;
  readonly currency: string;
  readonly minorUnitDigits: number;
  /** The billing period, ISO 8601 UTC, `end` excluded. */
  readonly period: { readonly start: string; readonly end: string };
  /** Charged lines, then unpriced usage (amount 0). */
  readonly lines: readonly InvoiceLineEntry[];
  /** Sum of the lines. */
  readonly subtotalMinor: string;
  /** Added so the total reaches the minimum commitment. */
  readonly minimumTopUpMinor: string;
  /** `subtotalMinor + minimumTopUpMinor`. */
  readonly totalMinor: string;
  readonly warnings: readonly string[];
}

/** Revenue, allocated cost and margin of one tenant, in the cost currency. */
export interface CostRow {
  readonly tenantId: string;
  readonly revenueMinor: string;
  readonly costMinor: string;
  /** `revenueMinor − costMinor` (may be negative). */
  readonly marginMinor: string;
  /** The margin as a percentage of revenue, one decimal (`"42.5"`); `null` when revenue is 0. */
  readonly marginPercent: string | null;
}

/** Cost allocation's outcome. */
export interface CostSection {
  readonly currency: string;
  readonly minorUnitDigits: number;
  readonly rows: readonly CostRow[];
  /** Shared cost no tenant's consumption explains (the platform's own). */
  readonly unallocatedMinor: string;
  /** Every row's cost plus the unallocated cost. */
  readonly totalCostMinor: string;
}

/** Whether every figure reconciled, and what did not. */
export interface RunVerdict {
  readonly exact: boolean;
  /** One sentence per problem; empty exactly when {@link exact}. */
  readonly problems: readonly string[];
}

/** The report of one local run. */
export interface RunReport {
  readonly version: typeof RUN_REPORT_VERSION;
  /** ISO 8601 UTC. */
  readonly generatedAt: string;
  readonly options: { readonly tenants: number; readonly hours: number; readonly requests: number; readonly seed: number };
  /** The hours the run simulated, ISO 8601 UTC, `end` excluded. */
  readonly period: { readonly start: string; readonly end: string };
  readonly durationMs: number;
  readonly steps: readonly RunStep[];
  readonly tenants: readonly RunTenant[];
  readonly traffic: RunTraffic;
  readonly usageByHour: readonly UsageHourEntry[];
  readonly reconciliation: readonly ReconciliationEntry[];
  readonly invoices: readonly InvoiceEntry[];
  /** Absent when cost allocation did not run. */
  readonly costs?: CostSection;
  readonly verdict: RunVerdict;
}

/** A report that is not well formed; `problems` names each one. */
export class RunReportError extends Error {
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super(`Invalid run report (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'RunReportError';
    this.problems = problems;
  }
}

/**
 * Whether a reconciliation entry's totals agree: aggregated = sent and, when billed through
 * Marketplace, billed = aggregated and the ledger's amount = the rated amount.
 */
export function isReconciled(entry: Pick<ReconciliationEntry, 'trueQuantity' | 'aggregated' | 'billed' | 'billedAmount'>): boolean {
  const amount = entry.billedAmount ?? null;
  return BigInt(entry.aggregated) === BigInt(entry.trueQuantity) &&
    (entry.billed === null || BigInt(entry.billed) === BigInt(entry.aggregated)) &&
    (amount === null || BigInt(amount.ledgerMinor) === BigInt(amount.ratedMinor));
}

/** One sentence for every figure of the reconciliation that does not agree, in the entries' order. */
export function reconciliationProblems(entries: readonly ReconciliationEntry[]): string[] {
  const problems: string[] = [];
  for (const entry of entries) {
    const at = `${entry.tenantId} ${entry.dimension}`;
    const sent = BigInt(entry.trueQuantity);
    const aggregated = BigInt(entry.aggregated);
    if (aggregated !== sent) problems.push(`${at}: aggregated ${entry.aggregated}, but ${entry.trueQuantity} was sent (${signed(aggregated - sent)})`);
    if (entry.billed !== null && BigInt(entry.billed) !== aggregated) {
      problems.push(`${at}: Marketplace billed ${entry.billed}, but ${entry.aggregated} was aggregated (${signed(BigInt(entry.billed) - aggregated)})`);
    }
    const amount = entry.billedAmount ?? null;
    if (amount !== null && BigInt(amount.ledgerMinor) !== BigInt(amount.ratedMinor)) {
      problems.push(`${at}: the Marketplace ledger charges ${amount.ledgerMinor}, the rating engine ${amount.ratedMinor} (minor units of ${amount.currency})`);
    }
  }
  return problems;
}

/**
 * The verdict: the reconciliation's problems, then any further problems the run found. A row the run
 * marked inexact is never reported exact: when nothing else explains it, it gets a sentence of its own.
 */
export function verdictOf(entries: readonly ReconciliationEntry[], otherProblems: readonly string[] = []): RunVerdict {
  const problems = [...reconciliationProblems(entries), ...otherProblems];
  if (problems.length === 0) {
    for (const entry of entries) if (!entry.exact) problems.push(`${entry.tenantId} ${entry.dimension}: not exact, although its totals agree`);
  }
  return { exact: problems.length === 0, problems };
}

const signed = (value: bigint) => (value > 0n ? `+${value}` : `${value}`);

/**
 * `numerator / denominator` as a percentage with `digits` decimals, rounded half away from zero,
 * exactly (`percentText(1n, 3n)` → `"33.3"`); `null` when the denominator is 0.
 */
export function percentText(numerator: bigint, denominator: bigint, digits = 1): string | null {
  if (denominator === 0n) return null;
  if (!Number.isInteger(digits) || digits < 0 || digits > 6) throw new RangeError(`digits must be an integer from 0 to 6: ${digits}`);
  const negative = (numerator < 0n) !== (denominator < 0n) && numerator !== 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const scale = 10n ** BigInt(digits);
  const scaled = (2n * n * 100n * scale + d) / (2n * d);
  const text = scaled.toString().padStart(digits + 1, '0');
  const body = digits === 0 ? text : `${text.slice(0, -digits)}.${text.slice(-digits)}`;
  return negative && scaled !== 0n ? `-${body}` : body;
}

/** A cost row from revenue and cost: the margin and its percentage of revenue. */
export function costRowOf(tenantId: string, revenueMinor: bigint, costMinor: bigint): CostRow {
  const margin = revenueMinor - costMinor;
  return {
    tenantId,
    revenueMinor: revenueMinor.toString(),
    costMinor: costMinor.toString(),
    marginMinor: margin.toString(),
    marginPercent: percentText(margin, revenueMinor),
  };
}

/** The cost section from its rows and the unallocated cost (the total is derived). */
export function costSectionOf(currency: string, minorUnitDigits: number, rows: readonly CostRow[], unallocatedMinor: bigint): CostSection {
  const total = rows.reduce((sum, row) => sum + BigInt(row.costMinor), unallocatedMinor);
  return { currency, minorUnitDigits, rows, unallocatedMinor: unallocatedMinor.toString(), totalCostMinor: total.toString() };
}

/** An invoice preview (`core/pricing/invoice.ts`) as a report entry: charged lines, then unpriced usage at 0. */
export function invoiceEntryOf(preview: InvoicePreview): InvoiceEntry {
  return {
    tenantId: preview.tenantId,
    planId: preview.plan.id,
    currency: preview.currency,
    minorUnitDigits: preview.minorUnitDigits,
    period: { start: preview.period.start, end: preview.period.end },
    lines: [
      ...preview.lines.map((line) => ({
        kind: line.kind,
        dimension: line.dimension ?? null,
        description: line.description,
        quantity: line.quantity.toString(),
        amountMinor: line.amountMinor.toString(),
      })),
      ...preview.unpriced.map((u) => ({
        kind: 'unpriced',
        dimension: u.dimension,
        description: `${u.dimension}: not priced by plan ${preview.plan.id}`,
        quantity: u.quantity.toString(),
        amountMinor: u.amountMinor.toString(),
      })),
    ],
    subtotalMinor: preview.subtotalMinor.toString(),
    minimumTopUpMinor: preview.minimumTopUpMinor.toString(),
    totalMinor: preview.totalMinor.toString(),
    warnings: [...preview.warnings],
  };
}

/** The key of a tenant × dimension pair in maps built from a report (`acme|api_requests`). */
export function pairKey(tenantId: string, dimension: string): `${string}|${string}` {
  return `${tenantId}|${dimension}`;
}

/** The dimensions of the report in first-seen order: usage hours, then the reconciliation. */
export function dimensionsOf(report: Pick<RunReport, 'usageByHour' | 'reconciliation'>): string[] {
  return [...new Set([...report.usageByHour.map((u) => u.dimension), ...report.reconciliation.map((r) => r.dimension)])];
}

/** Every hour of the run's period, ISO 8601 UTC, in order (the period's bounds are whole hours). */
export function hoursOf(report: Pick<RunReport, 'period' | 'usageByHour'>): string[] {
  const HOUR = 3_600_000;
  const start = Date.parse(report.period.start);
  const end = Date.parse(report.period.end);
  const hours = new Set<string>();
  if (Number.isFinite(start) && Number.isFinite(end) && (end - start) / HOUR <= 24 * 366) {
    for (let t = Math.floor(start / HOUR) * HOUR; t < end; t += HOUR) hours.add(new Date(t).toISOString());
  }
  // Hours outside the period (should there be any) are shown too, never dropped.
  for (const u of report.usageByHour) hours.add(u.hour);
  return [...hours].sort();
}

/**
 * An ISO 8601 UTC time for people: `2026-11-03T10:00:00.000Z` → `2026-11-03 10:00 UTC` (seconds kept
 * when not zero); any other text is returned as it is.
 */
export function shortTime(iso: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2}(?:\.\d+)?)?Z$/.exec(iso);
  if (match === null) return iso;
  const seconds = match[3] === undefined || /^:00(\.0+)?$/.test(match[3]) ? '' : match[3];
  return `${match[1]} ${match[2]}${seconds} UTC`;
}
