import { z } from 'zod';

/**
 * The metering configuration (`config/metering.json`): which requests count toward which billing
 * dimension, and how the hourly aggregation treats time. Validated at synth (the stack refuses to
 * build) and at the aggregator's start-up (it refuses to run) with a message naming each problem.
 */

const DIMENSION_NAME = /^[a-z][a-z0-9_]{0,63}$/;
const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', '*'] as const;

const statusRange = z
  .object({ from: z.number().int().min(100).max(599), to: z.number().int().min(100).max(599) })
  .strict()
  .refine((range) => range.from <= range.to, { message: 'from must not be greater than to' });

const dimension = z
  .object({
    name: z.string().regex(DIMENSION_NAME, 'must be 1-64 lowercase letters, digits or _, starting with a letter'),
    description: z.string().max(256).optional(),
    /** What is summed per hour: the number of distinct requests, or their response bytes. */
    measure: z.enum(['requests', 'response_bytes']),
    match: z
      .object({
        /** Resource path templates as API Gateway logs them (`/random/strings`), or `*` for any. */
        resourcePaths: z.array(z.string().regex(/^(\*|\/[A-Za-z0-9_\-./{}+]*)$/, 'must be "*" or a path starting with /')).min(1),
        methods: z.array(z.enum(HTTP_METHODS)).min(1).default(['*']),
        /** Inclusive status ranges; default: 2xx. */
        statuses: z.array(statusRange).min(1).default([{ from: 200, to: 299 }]),
      })
      .strict(),
  })
  .strict();

const aggregation = z
  .object({
    /** Seconds past the hour's end, on top of Firehose's buffering, before an hour is aggregated. */
    graceSeconds: z.number().int().min(0).max(3600),
    /** Recent hours re-aggregated on every run, so late arrivals are counted (1-168). */
    lookBackHours: z.number().int().min(1).max(168),
    /** Most hours one scheduled run reads; a longer gap is caught up over several runs or a backfill. */
    maxHoursPerRun: z.number().int().min(1).max(744),
  })
  .strict();

export const meteringConfigSchema = z
  .object({
    dimensions: z.array(dimension).min(1),
    aggregation,
  })
  .strict()
  .superRefine((config, context) => {
    const seen = new Set<string>();
    config.dimensions.forEach((d, index) => {
      if (seen.has(d.name)) context.addIssue({ code: 'custom', path: ['dimensions', index, 'name'], message: `duplicate dimension name "${d.name}"` });
      seen.add(d.name);
    });
  });

export type MeteringConfig = z.infer<typeof meteringConfigSchema>;
export type DimensionConfig = MeteringConfig['dimensions'][number];

/** A metering configuration that failed validation; the message lists every problem with its path. */
export class MeteringConfigError extends Error {
  constructor(source: string, problems: readonly string[]) {
    super(`Invalid metering configuration (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'MeteringConfigError';
  }
}

/** Validates a parsed configuration; throws {@link MeteringConfigError} naming every problem. */
export function parseMeteringConfig(value: unknown, source = 'config/metering.json'): MeteringConfig {
  const result = meteringConfigSchema.safeParse(value);
  if (!result.success) {
    throw new MeteringConfigError(source, result.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`));
  }
  return result.data;
}
