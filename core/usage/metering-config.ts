import { z } from 'zod';
import { DIMENSION_NAME, PROPERTY_NAME } from '../identifiers';

/**
 * The metering configuration (`config/metering.json`): which requests count toward which billing
 * dimension, and how the hourly aggregation treats time. Validated at synth (the stack refuses to
 * build) and at the aggregator's start-up (it refuses to run) with a message naming each problem.
 */

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

/** How a meter turns one hour's events of a tenant into one quantity. */
export const METER_AGGREGATIONS = ['COUNT', 'SUM', 'MAX', 'UNIQUE_COUNT', 'LATEST'] as const;
export type MeterAggregation = (typeof METER_AGGREGATIONS)[number];

const meter = z
  .object({
    /** The billing dimension the meter's hourly quantity is recorded as (shares the dimension namespace). */
    name: z.string().regex(DIMENSION_NAME, 'must be 1-64 lowercase letters, digits or _, starting with a letter'),
    description: z.string().max(256).optional(),
    /**
     * Per tenant and hour, over the hour's distinct events (by event id): COUNT of events, SUM or MAX
     * of their quantities, UNIQUE_COUNT of the distinct values of `property`, or the LATEST quantity
     * (by event time, then event id).
     */
    aggregation: z.enum(METER_AGGREGATIONS),
    /** UNIQUE_COUNT only: the event property whose distinct values are counted (required there). */
    property: z.string().regex(PROPERTY_NAME, 'must be 1-64 letters, digits or _, not starting with a digit').optional(),
    /**
     * Fraction digits a quantity may have (0-6). The dimension is billed in units of 10^-decimals of
     * the quantity, so every hourly quantity stays an exact integer: with 3, a quantity of 1.5 is 1,500
     * units. Events with more fraction digits are rejected.
     */
    decimals: z.number().int().min(0).max(6).default(0),
  })
  .strict()
  .superRefine((m, context) => {
    if (m.aggregation === 'UNIQUE_COUNT' && m.property === undefined) context.addIssue({ code: 'custom', path: ['property'], message: 'a UNIQUE_COUNT meter needs the property whose distinct values it counts' });
    if (m.aggregation !== 'UNIQUE_COUNT' && m.property !== undefined) context.addIssue({ code: 'custom', path: ['property'], message: `only UNIQUE_COUNT meters take a property (this one is ${m.aggregation})` });
    if ((m.aggregation === 'COUNT' || m.aggregation === 'UNIQUE_COUNT') && m.decimals !== 0) context.addIssue({ code: 'custom', path: ['decimals'], message: `${m.aggregation} counts events or values, so its decimals must be 0` });
  });

/** Limits on the events POST /usage accepts. */
const usageEvents = z
  .object({
    /** Oldest accepted event time, in hours before receipt; must leave the aggregation's look-back time to count it. */
    maxAgeHours: z.number().int().min(1).max(167).default(3),
    /** How far an event time may lie ahead of the receiving clock (clock skew), in seconds. */
    maxFutureSeconds: z.number().int().min(0).max(3600).default(300),
    /** Events in one request (each becomes one Firehose record). */
    maxEventsPerRequest: z.number().int().min(1).max(1000).default(500),
    /** Bytes of one event's `properties` as JSON. */
    maxPropertiesBytes: z.number().int().min(2).max(65_536).default(4096),
  })
  .strict();

export const meteringConfigSchema = z
  .object({
    dimensions: z.array(dimension).min(1),
    /** Custom usage meters fed by POST /usage; none by default. */
    meters: z.array(meter).default([]),
    usageEvents: usageEvents.default({ maxAgeHours: 3, maxFutureSeconds: 300, maxEventsPerRequest: 500, maxPropertiesBytes: 4096 }),
    aggregation,
  })
  .strict()
  .superRefine((config, context) => {
    const seen = new Set<string>();
    config.dimensions.forEach((d, index) => {
      if (seen.has(d.name)) context.addIssue({ code: 'custom', path: ['dimensions', index, 'name'], message: `duplicate dimension name "${d.name}"` });
      seen.add(d.name);
    });
    config.meters.forEach((m, index) => {
      if (seen.has(m.name)) context.addIssue({ code: 'custom', path: ['meters', index, 'name'], message: `duplicate dimension name "${m.name}" (meters and request dimensions share one namespace)` });
      seen.add(m.name);
    });
    // A late event is counted only if its hour is still re-aggregated when it reaches the lake.
    if (config.meters.length > 0 && config.usageEvents.maxAgeHours >= config.aggregation.lookBackHours) {
      context.addIssue({
        code: 'custom',
        path: ['usageEvents', 'maxAgeHours'],
        message: `must be less than aggregation.lookBackHours (${config.aggregation.lookBackHours}), so an event accepted late is still counted by a later run`,
      });
    }
  });

export type MeteringConfig = z.output<typeof meteringConfigSchema>;
export type DimensionConfig = MeteringConfig['dimensions'][number];
export type MeterConfig = MeteringConfig['meters'][number];

/** Every billing dimension of the configuration: request dimensions, then meters. */
export function dimensionNamesOf(config: MeteringConfig): string[] {
  return [...config.dimensions.map((d) => d.name), ...config.meters.map((m) => m.name)];
}

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
