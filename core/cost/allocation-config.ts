import { z } from 'zod';
import { minorUnitDigitsOf } from '../pricing/currency';
import { CONSUMPTION_STREAMS } from './consumption';

/**
 * The cost allocation rules: how each AWS service's pooled cost is split between tenants.
 *
 * - `currency`: the currency of the cost lines (they are never converted); its minor-unit digits are
 *   derived from it (USD 2, JPY 0) and allocated amounts are whole minor units.
 * - `tenantTag`: the resource tag key (as CUR 2.0 `resource_tags` writes it, e.g. `user_tenant_id`)
 *   whose value names the tenant owning a siloed resource; such a line goes wholly to that tenant.
 * - `rules`: one per service (CUR `line_item_product_code`), for the lines without a tenant tag:
 *   `proportional` splits by each tenant's consumption of `stream` on the day, `even` splits equally
 *   between the known tenants. A proportional rule's `whenNoConsumption` says what happens on a day
 *   with cost but no consumption: `unallocated` (default: reported, not guessed) or `even`.
 *   A service without a rule is never guessed either: its pooled cost is reported as unallocated.
 */

/** CUR product codes: letters and digits, possibly with `.`, `_`, `-` or spaces (e.g. `AWSLambda`). */
const SERVICE = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,127}$/;

/** Tag keys: 1-128 characters without control characters. */
// eslint-disable-next-line no-control-regex
const TAG_KEY = /^[^\u0000-\u001f\u007f]{1,128}$/;

const ruleBase = {
  service: z.string({ error: 'must be a service code (text)' }).regex(SERVICE, 'must be a CUR product code such as "AWSLambda": 1-128 letters, digits, spaces, ".", "_" or "-"'),
  /** Why the rule splits the way it does; for people, not used in the allocation. */
  description: z.string().max(512).optional(),
};

const STREAM_LIST = CONSUMPTION_STREAMS.join(', ');

const rule = z.discriminatedUnion('split', [
  z
    .object({
      ...ruleBase,
      split: z.literal('proportional'),
      stream: z.enum(CONSUMPTION_STREAMS, { error: (issue) => `must be a consumption stream (${STREAM_LIST}), got ${JSON.stringify(issue.input)}` }),
      whenNoConsumption: z.enum(['even', 'unallocated'], { error: 'must be "even" or "unallocated"' }).default('unallocated'),
    })
    .strict(),
  z.object({ ...ruleBase, split: z.literal('even') }).strict(),
], {
  error: (issue) => (typeof issue.input === 'object' && issue.input !== null ? 'must be "proportional" or "even"' : 'must be a rule object ({ service, split, ... })'),
});

/** Schema of the cost allocation configuration (`{ currency, tenantTag, rules: [...] }`). */
export const costAllocationConfigSchema = z
  .object({
    currency: z.string({ error: 'must be an ISO 4217 code (text)' }).regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code of three capital letters'),
    tenantTag: z.string({ error: 'must be a tag key (text)' }).regex(TAG_KEY, 'must be a tag key of 1-128 characters without control characters'),
    rules: z.array(rule),
  })
  .strict()
  .superRefine((config, context) => {
    const seen = new Map<string, number>();
    config.rules.forEach((r, index) => {
      const first = seen.get(r.service);
      if (first !== undefined) context.addIssue({ code: 'custom', path: ['rules', index, 'service'], message: `duplicate service "${r.service}" (already ruled by rules.${first})` });
      else seen.set(r.service, index);
    });
  })
  .transform((config) => ({ ...config, minorUnitDigits: minorUnitDigitsOf(config.currency) }));

/** A validated cost allocation configuration, with the currency's minor-unit digits. */
export type CostAllocationConfig = z.output<typeof costAllocationConfigSchema>;
/** One validated rule. */
export type AllocationRule = CostAllocationConfig['rules'][number];
/** A cost allocation configuration as written in JSON. */
export type CostAllocationConfigInput = z.input<typeof costAllocationConfigSchema>;

/** A cost allocation configuration that failed validation; the message lists every problem with its path. */
export class CostAllocationConfigError extends Error {
  /** Each problem as `path: message`. */
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super(`Invalid cost allocation configuration (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'CostAllocationConfigError';
    this.problems = problems;
  }
}

/** Validates a parsed cost allocation configuration; throws {@link CostAllocationConfigError} naming every problem. */
export function parseCostAllocationConfig(value: unknown, source = 'cost allocation configuration'): CostAllocationConfig {
  const result = costAllocationConfigSchema.safeParse(value);
  if (!result.success) {
    throw new CostAllocationConfigError(source, result.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`));
  }
  return result.data;
}

/** The rule for `service`, or undefined when the configuration has none. */
export function ruleForService(config: CostAllocationConfig, service: string): AllocationRule | undefined {
  return config.rules.find((r) => r.service === service);
}
