/**
 * Turns what the local run found (`LocalRunResult`) into the report model (`local/report/run-report.ts`)
 * that the HTML page, the terminal summary and report.json render.
 */
import { costRowOf, costSectionOf, invoiceEntryOf, RUN_REPORT_VERSION, verdictOf, type ReconciliationEntry, type RunReport } from '../report/run-report';
import type { LocalRunResult } from './run-local';

const iso = (ms: number) => new Date(ms).toISOString();

export function buildRunReport(result: LocalRunResult, meta: { generatedAt: number; durationMs: number; seed: number }): RunReport {
  const requestsOf = new Map<string, number>();
  for (const h of result.trueUsage.hours()) if (h.dimension === 'api_requests') requestsOf.set(h.tenantId, (requestsOf.get(h.tenantId) ?? 0) + Number(h.quantity));
  const reconciliation: ReconciliationEntry[] = result.reconciliation.rows.map((row) => {
    const currency = result.billedCurrency.get(row.dimension);
    return {
      tenantId: row.tenantId,
      dimension: row.dimension,
      trueQuantity: row.trueQuantity.toString(),
      aggregated: row.aggregated.toString(),
      billed: row.sent === null ? null : row.sent.toString(),
      billedAmount: row.billedAmountMinor === null || row.expectedAmountMinor === null || currency === undefined
        ? null
        : { currency: currency.currency, minorUnitDigits: currency.minorUnitDigits, ledgerMinor: row.billedAmountMinor.toString(), ratedMinor: row.expectedAmountMinor.toString() },
      exact: row.exact,
    };
  });
  const costs = result.costs === undefined
    ? undefined
    : costSectionOf(result.costs.currency, result.costs.minorUnitDigits, result.costs.rows.map((r) => costRowOf(r.tenantId, r.revenueMinor, r.costMinor)), result.costs.unallocatedMinor);
  // The run's stricter, hour-by-hour reconciliation adds its own problems to what the totals show.
  const totalsProblems = new Set(verdictOf(reconciliation).problems);
  const extra = result.reconciliation.problems.filter((p) => !totalsProblems.has(p));
  return {
    version: RUN_REPORT_VERSION,
    generatedAt: iso(meta.generatedAt),
    options: { tenants: result.options.tenants, hours: result.options.hours, requests: result.options.requests, seed: meta.seed },
    period: { start: iso(result.period.start), end: iso(result.period.end) },
    durationMs: meta.durationMs,
    steps: result.steps.map((s) => ({ name: s.name, millis: s.millis, ...(s.detail === undefined ? {} : { detail: s.detail }) })),
    tenants: result.tenants.map((t) => ({
      tenantId: t.tenantId,
      companyName: t.companyName,
      planId: planOf(result, t.tenantId),
      marketplace: true,
      requests: requestsOf.get(t.tenantId) ?? 0,
    })),
    traffic: {
      requests: result.traffic.requests,
      byStatus: { ...result.traffic.byStatus },
      duplicatesDelivered: result.delivery.duplicatesDelivered,
      lateRecords: result.delivery.releasedLate + result.traffic.lateEvents,
      usageEvents: result.traffic.eventsAccepted,
      rejectedRecords: result.delivery.rejectedRecords + result.traffic.eventsRejected,
    },
    usageByHour: result.storedHours
      .filter((h) => h.measured > 0)
      .map((h) => ({ tenantId: h.tenantId, dimension: h.dimension, hour: iso(h.hour), quantity: String(h.measured) }))
      .sort((a, b) => (a.hour < b.hour ? -1 : a.hour > b.hour ? 1 : 0) || (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0) || (a.dimension < b.dimension ? -1 : 1)),
    reconciliation,
    invoices: result.invoices.map(invoiceEntryOf),
    ...(costs === undefined ? {} : { costs }),
    verdict: verdictOf(reconciliation, extra),
  };
}

function planOf(result: LocalRunResult, tenantId: string): string {
  const plan = result.planOf.get(tenantId);
  if (plan === undefined) throw new Error(`tenant ${tenantId} has no pricing plan`);
  return plan;
}
