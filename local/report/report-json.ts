/**
 * `report.json`: the run report as JSON, written whole or not at all and validated when read back, so
 * a test (or a later tool) can load a run's figures and trust them. The model is JSON already
 * (figures are decimal strings), so writing is `JSON.stringify`; reading checks the shape with zod and
 * then what the figures must satisfy among themselves:
 *
 * - every quantity a non-negative decimal integer, every amount a decimal integer, times ISO 8601 UTC
 *   (usage hours on the hour), one entry per tenant, tenant × dimension and tenant × dimension × hour;
 * - every tenant a figure names is one of the report's tenants;
 * - an invoice's subtotal is the sum of its lines and its total the subtotal plus the top-up; a cost
 *   row's margin is revenue − cost, its percentage present exactly when there is revenue; the total
 *   cost is the rows' cost plus the unallocated cost;
 * - a reconciliation row marked exact has agreeing totals; the verdict is exact exactly when it lists
 *   no problem, and only when every row is exact.
 *
 * Anything else is a {@link RunReportError} naming every problem with its path.
 */
import * as fs from 'node:fs';
import { writeFileWhole } from '../files/write-file-whole';
import { z } from 'zod';
import { isReconciled, RUN_REPORT_VERSION, RunReportError, type RunReport } from './run-report';

const UNSIGNED = /^(0|[1-9][0-9]*)$/;
const SIGNED = /^(0|-?[1-9][0-9]*)$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const ISO_HOUR = /^\d{4}-\d{2}-\d{2}T\d{2}:00:00\.000Z$/;

const count = z.number().int().nonnegative();
const millis = z.number().finite().nonnegative();
const name = z.string().min(1, 'must not be empty');
const quantity = z.string().regex(UNSIGNED, 'must be a non-negative decimal integer');
const amount = z.string().regex(SIGNED, 'must be a decimal integer');
const isoTime = z.string().regex(ISO_UTC, 'must be an ISO 8601 UTC time').refine((v) => Number.isFinite(Date.parse(v)), 'must be a real time');
const isoHour = z.string().regex(ISO_HOUR, 'must be the start of an hour, ISO 8601 UTC (2026-11-03T10:00:00.000Z)').refine((v) => {
  const t = Date.parse(v);
  return Number.isFinite(t) && new Date(t).toISOString() === v;
}, 'must be a real hour');
const currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code of three capital letters');
const minorUnitDigits = z.number().int().min(0).max(12);
const percent = z.string().regex(/^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/, 'must be a decimal percentage');

const invoiceLineSchema = z.object({ kind: name, dimension: name.nullable(), description: z.string(), quantity, amountMinor: amount }).strict();

const runReportSchema = z
  .object({
    version: z.literal(RUN_REPORT_VERSION, `must be ${RUN_REPORT_VERSION} (the report format this version reads)`),
    generatedAt: isoTime,
    options: z.object({ tenants: count, hours: count, requests: count, seed: z.number().int() }).strict(),
    period: z.object({ start: isoTime, end: isoTime }).strict(),
    durationMs: millis,
    steps: z.array(z.object({ name, millis, detail: z.string().optional() }).strict()),
    tenants: z.array(z.object({ tenantId: name, companyName: z.string(), planId: name, marketplace: z.boolean(), requests: count }).strict()),
    traffic: z
      .object({
        requests: count,
        byStatus: z.record(z.string().regex(/^[1-5][0-9]{2}$/, 'must be an HTTP status code'), count),
        duplicatesDelivered: count,
        lateRecords: count,
        usageEvents: count,
        rejectedRecords: count,
      })
      .strict(),
    usageByHour: z.array(z.object({ tenantId: name, dimension: name, hour: isoHour, quantity }).strict()),
    reconciliation: z.array(
      z
        .object({
          tenantId: name,
          dimension: name,
          trueQuantity: quantity,
          aggregated: quantity,
          billed: quantity.nullable(),
          billedAmount: z.object({ currency, minorUnitDigits, ledgerMinor: amount, ratedMinor: amount }).strict().nullable().optional(),
          exact: z.boolean(),
        })
        .strict(),
    ),
    invoices: z.array(
      z
        .object({
          tenantId: name,
          planId: name,
          currency,
          minorUnitDigits,
          period: z.object({ start: isoTime, end: isoTime }).strict(),
          lines: z.array(invoiceLineSchema),
          subtotalMinor: amount,
          minimumTopUpMinor: amount,
          totalMinor: amount,
          warnings: z.array(z.string()),
        })
        .strict(),
    ),
    costs: z
      .object({
        currency,
        minorUnitDigits,
        rows: z.array(z.object({ tenantId: name, revenueMinor: amount, costMinor: amount, marginMinor: amount, marginPercent: percent.nullable() }).strict()),
        unallocatedMinor: amount,
        totalCostMinor: amount,
      })
      .strict()
      .optional(),
    verdict: z.object({ exact: z.boolean(), problems: z.array(z.string().min(1, 'must not be empty')) }).strict(),
  })
  .strict();

/** What the figures must satisfy among themselves (see the module comment); one sentence per problem. */
export function runReportProblems(report: RunReport): string[] {
  const problems: string[] = [];
  const repeated = <T>(items: readonly T[], key: (item: T) => string, what: (item: T) => string, at: string) => {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      const k = key(item);
      if (seen.has(k)) problems.push(`${at}.${i}: ${what(item)} is listed twice`);
      seen.add(k);
    });
  };
  if (Date.parse(report.period.start) > Date.parse(report.period.end)) problems.push(`period: starts (${report.period.start}) after it ends (${report.period.end})`);

  repeated(report.tenants, (t) => t.tenantId, (t) => `tenant ${t.tenantId}`, 'tenants');
  const tenants = new Set(report.tenants.map((t) => t.tenantId));
  const known = (tenantId: string, at: string) => {
    if (!tenants.has(tenantId)) problems.push(`${at}.tenantId: ${tenantId} is not one of the report's tenants`);
  };

  report.usageByHour.forEach((u, i) => known(u.tenantId, `usageByHour.${i}`));
  repeated(report.usageByHour, (u) => JSON.stringify([u.tenantId, u.dimension, u.hour]), (u) => `${u.tenantId} ${u.dimension} ${u.hour}`, 'usageByHour');

  report.reconciliation.forEach((r, i) => {
    known(r.tenantId, `reconciliation.${i}`);
    if (r.exact && !isReconciled(r)) problems.push(`reconciliation.${i}: ${r.tenantId} ${r.dimension} is marked exact, but its figures differ`);
    if (r.billed === null && (r.billedAmount ?? null) !== null) problems.push(`reconciliation.${i}: ${r.tenantId} ${r.dimension} has a Marketplace amount but nothing billed`);
  });
  repeated(report.reconciliation, (r) => JSON.stringify([r.tenantId, r.dimension]), (r) => `${r.tenantId} ${r.dimension}`, 'reconciliation');

  report.invoices.forEach((invoice, i) => {
    known(invoice.tenantId, `invoices.${i}`);
    const lines = invoice.lines.reduce((sum, line) => sum + BigInt(line.amountMinor), 0n);
    if (lines !== BigInt(invoice.subtotalMinor)) problems.push(`invoices.${i}.subtotalMinor: ${invoice.subtotalMinor}, but the lines add up to ${lines}`);
    const total = BigInt(invoice.subtotalMinor) + BigInt(invoice.minimumTopUpMinor);
    if (total !== BigInt(invoice.totalMinor)) problems.push(`invoices.${i}.totalMinor: ${invoice.totalMinor}, but subtotal + top-up is ${total}`);
  });
  repeated(report.invoices, (invoice) => invoice.tenantId, (invoice) => `the invoice of ${invoice.tenantId}`, 'invoices');

  if (report.costs !== undefined) {
    const { costs } = report;
    costs.rows.forEach((row, i) => {
      known(row.tenantId, `costs.rows.${i}`);
      const margin = BigInt(row.revenueMinor) - BigInt(row.costMinor);
      if (margin !== BigInt(row.marginMinor)) problems.push(`costs.rows.${i}.marginMinor: ${row.marginMinor}, but revenue − cost is ${margin}`);
      if ((row.marginPercent === null) !== (BigInt(row.revenueMinor) === 0n)) problems.push(`costs.rows.${i}.marginPercent: must be null exactly when there is no revenue`);
    });
    repeated(costs.rows, (row) => row.tenantId, (row) => `the cost of ${row.tenantId}`, 'costs.rows');
    const total = costs.rows.reduce((sum, row) => sum + BigInt(row.costMinor), BigInt(costs.unallocatedMinor));
    if (total !== BigInt(costs.totalCostMinor)) problems.push(`costs.totalCostMinor: ${costs.totalCostMinor}, but the rows and the unallocated cost add up to ${total}`);
  }

  const { verdict } = report;
  if (verdict.exact && verdict.problems.length > 0) problems.push('verdict: exact, yet it lists problems');
  if (!verdict.exact && verdict.problems.length === 0) problems.push('verdict: not exact, yet it lists no problem');
  if (verdict.exact && report.reconciliation.some((r) => !r.exact)) problems.push('verdict: exact, yet a reconciliation row is not');
  return problems;
}

/**
 * Validates a parsed JSON value as a run report: its shape, then {@link runReportProblems}. Throws a
 * {@link RunReportError} naming every problem (`source` says where the value came from).
 */
export function parseRunReport(value: unknown, source = 'run report'): RunReport {
  const result = runReportSchema.safeParse(value);
  if (!result.success) {
    throw new RunReportError(source, result.error.issues.map((issue) => {
      // A record key's own messages ("must be an HTTP status code") say more than "Invalid key in record".
      const message = issue.code === 'invalid_key' ? issue.issues.map((inner) => inner.message).join('; ') : issue.message;
      return `${issue.path.join('.') || '(root)'}: ${message}`;
    }));
  }
  const report = result.data as RunReport;
  const problems = runReportProblems(report);
  if (problems.length > 0) throw new RunReportError(source, problems);
  return report;
}

/** The report as a JSON document (two-space indented, newline-terminated). */
export function reportJson(report: RunReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/**
 * Writes the report to `file` (`report.json`) after validating it, through a temporary file in the
 * same folder renamed into place: the file is whole or absent, never half written.
 */
export function writeRunReport(file: string, report: RunReport): void {
  const text = reportJson(parseRunReport(report, 'the report to write'));
  try {
    writeFileWhole(file, text);
  } catch (error) {
    throw new Error(`cannot write the run report ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
}

/** Reads and validates a report written by {@link writeRunReport}; a missing file, bad JSON or an invalid report is a {@link RunReportError}. */
export function readRunReport(file: string): RunReport {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new RunReportError(file, [`cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RunReportError(file, [`is not valid JSON: ${(error as Error).message}`]);
  }
  return parseRunReport(value, file);
}
