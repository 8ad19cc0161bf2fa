import { z } from 'zod';
import { ownField, reservedKeyProblems } from '../reserved-keys';
import type { CostLine } from './cost-line';
import { COST_AMOUNT_SCALE, DecimalAmountError, parseDecimal } from './decimal-amount';

/**
 * A local cost file: AWS cost lines written by hand or exported, standing in for the Cost and Usage
 * Report when the system runs without an AWS account.
 *
 * ```json
 * { "currency": "USD",
 *   "lines": [ { "start": "2026-11-01T00:00:00Z", "service": "AWSLambda", "resourceId": "arn:…",
 *                "tags": { "user_tenant_id": "initech" }, "amount": "1.2345678901" } ] }
 * ```
 *
 * `start` is an ISO 8601 time with a `Z` or `±hh:mm` offset; `amount` is exact decimal text (a JSON
 * number could already have lost digits on its way through a double), negative for credits, with at
 * most {@link COST_AMOUNT_SCALE} fraction digits; `resourceId` and `tags` are optional. Unknown keys are
 * refused (a misspelt `"tag"` would otherwise silently turn a siloed line into a pooled one). Every
 * problem is reported at once, each with its line index (`lines.3.amount: …`).
 */

/** A cost file that cannot be read; the message lists every problem with its path. */
export class CostFileError extends Error {
  /** Each problem as `path: message`. */
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    const shown = problems.slice(0, MAX_PROBLEMS_SHOWN).map((p) => `  - ${p}`);
    if (problems.length > MAX_PROBLEMS_SHOWN) shown.push(`  … and ${problems.length - MAX_PROBLEMS_SHOWN} more`);
    super(`Invalid cost file (${source}):\n${shown.join('\n')}`);
    this.name = 'CostFileError';
    this.problems = problems;
  }
}

const MAX_PROBLEMS_SHOWN = 20;

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/;

const start = z.string({ error: 'must be an ISO 8601 time such as "2026-11-01T00:00:00Z" (text)' }).transform((text, context) => {
  const ms = ISO_TIME.test(text) ? Date.parse(text) : Number.NaN;
  // Date.parse rolls 2026-02-30 over to March 2: the date part must survive the round trip.
  if (Number.isNaN(ms) || !sameCalendarDate(text, ms)) {
    context.addIssue({ code: 'custom', message: `must be an ISO 8601 time with an offset, such as "2026-11-01T00:00:00Z", got ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return ms;
});

const amount = z.unknown().transform((value, context) => {
  try {
    parseDecimal(value, COST_AMOUNT_SCALE, { allowNegative: true });
  } catch (error) {
    if (!(error instanceof DecimalAmountError)) throw error;
    context.addIssue({ code: 'custom', message: error.message });
    return z.NEVER;
  }
  return value as string;
});

const line = z
  .object({
    start,
    service: z.string({ error: 'must be a service code such as "AWSLambda" (text)' }).min(1, 'must not be empty'),
    resourceId: z.string({ error: 'must be text' }).min(1, 'must not be empty (leave it out instead)').optional(),
    tags: z.record(z.string(), z.string({ error: 'a tag value must be text' })).default({}),
    amount,
  }, { error: (issue) => (issue.code === 'invalid_type' ? 'must be a cost line object ({ start, service, amount, ... })' : undefined) })
  .strict();

const costFile = z
  .object({
    currency: z.string({ error: 'must be an ISO 4217 code (text)' }).regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code of three capital letters'),
    lines: z.array(line, { error: 'must be an array of cost lines' }),
  }, { error: (issue) => (issue.code === 'invalid_type' ? 'must be an object { "currency", "lines" }' : undefined) })
  .strict();

/** Validates a parsed cost file and returns its lines; throws {@link CostFileError} naming every problem. */
export function parseCostFile(value: unknown, source = 'cost file'): CostLine[] {
  const lines = ownField(value, 'lines');
  const reserved = Array.isArray(lines) ? lines.flatMap((line, index) => reservedKeyProblems(ownField(line, 'tags'), `lines.${index}.tags`)) : [];
  const result = costFile.safeParse(value);
  if (!result.success || reserved.length > 0) {
    throw new CostFileError(source, [...reserved, ...(result.success ? [] : result.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`))]);
  }
  const { currency } = result.data;
  return result.data.lines.map((l) => ({ start: l.start, service: l.service, ...(l.resourceId === undefined ? {} : { resourceId: l.resourceId }), tags: l.tags, amount: l.amount, currency }));
}

/** Parses the JSON text of a cost file; invalid JSON is a {@link CostFileError} too. */
export function parseCostFileText(text: string, source = 'cost file'): CostLine[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CostFileError(source, [`is not valid JSON: ${(error as Error).message}`]);
  }
  return parseCostFile(value, source);
}

/** Whether the written date (in its own offset) is a real calendar date, as `ms` confirms. */
function sameCalendarDate(text: string, ms: number): boolean {
  const offset = text.endsWith('Z') ? 0 : (text.at(-6) === '-' ? -1 : 1) * (Number(text.slice(-5, -3)) * 60 + Number(text.slice(-2)));
  return new Date(ms + offset * 60_000).toISOString().slice(0, 10) === text.slice(0, 10);
}
