/**
 * Cost allocation in the local run: the run's tenants' consumption (requests and bytes from the DuckDB
 * lake with the same SQL as Athena; Lambda invocations, duration and DynamoDB capacity from the tenant
 * metrics the hosted functions wrote as EMF lines) splits a day of sample AWS cost
 * (`local/cost/sample-costs.json`, the shape of a CUR 2.0 export's lines), dated to each UTC day the
 * run covers, with its siloed resource tagged for one of the run's tenants. Revenue is each tenant's
 * invoice preview for the month (the rating engine), so the margin is month to date — the run is the
 * only activity of the month.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCostAllocationConfigFile } from '../../config/cost-allocation-config-file';
import type { AllocationResult } from '../../core/cost/allocate-costs';
import { CombinedConsumptionSource } from '../../core/cost/combined-consumption';
import type { ConsumptionRecord, ConsumptionSource } from '../../core/cost/consumption';
import { parseCostFileText } from '../../core/cost/cost-file';
import type { CostLine } from '../../core/cost/cost-line';
import { allocateAgainstInvoices } from '../../core/cost/margin-run';
import type { TenantMarginReport } from '../../core/cost/tenant-margin';
import type { InvoicePreview } from '../../core/pricing/invoice';

/** The sample cost file (a few days of this system's services, one siloed resource, one service without a rule). */
export const SAMPLE_COSTS_FILE = path.join(__dirname, '..', 'cost', 'sample-costs.json');
/** The tenant the sample file's siloed resource is tagged for; the run tags it for one of its own tenants. */
const SAMPLE_SILO_TENANT = 'initech';
const DAY_MS = 86_400_000;

export interface RunCosts {
  readonly costLines: readonly CostLine[];
  readonly consumption: readonly ConsumptionRecord[];
  readonly allocation: AllocationResult;
  readonly margins: TenantMarginReport;
}

/**
 * The sample's first day, repeated on every UTC day of `[start, end)`, its silo tag renamed to
 * `siloTenant`.
 */
export function sampleCostLines(text: string, period: { start: number; end: number }, siloTenant: string, tenantTag: string): CostLine[] {
  const lines = parseCostFileText(text, SAMPLE_COSTS_FILE);
  const firstDay = Math.min(...lines.map((l) => Math.floor(l.start / DAY_MS) * DAY_MS));
  const template = lines.filter((l) => l.start - firstDay < DAY_MS);
  const days: number[] = [];
  for (let day = Math.floor(period.start / DAY_MS) * DAY_MS; day < period.end; day += DAY_MS) days.push(day);
  return days.flatMap((day) => template.map((line) => ({
    ...line,
    start: day + (line.start - firstDay),
    tags: line.tags[tenantTag] === SAMPLE_SILO_TENANT ? { ...line.tags, [tenantTag]: siloTenant } : line.tags,
  })));
}

export async function allocateRunCosts(input: {
  readonly tenants: readonly string[];
  readonly sources: readonly ConsumptionSource[];
  readonly period: { readonly start: number; readonly end: number };
  readonly invoices: readonly InvoicePreview[];
}): Promise<RunCosts> {
  const config = readCostAllocationConfigFile();
  // The last tenant runs a dedicated (siloed) resource.
  const costLines = sampleCostLines(fs.readFileSync(SAMPLE_COSTS_FILE, 'utf8'), input.period, input.tenants[input.tenants.length - 1], config.tenantTag);
  const days = { start: Math.floor(input.period.start / DAY_MS) * DAY_MS, end: Math.ceil(input.period.end / DAY_MS) * DAY_MS };
  const consumption = await new CombinedConsumptionSource(input.sources).read(days, 'DAILY');
  const { allocation, report } = allocateAgainstInvoices({ config, tenants: input.tenants, costs: costLines, consumption, invoices: input.invoices });
  return { costLines, consumption, allocation, margins: report };
}
