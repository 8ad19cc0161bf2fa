/**
 * Tenant metrics: what each tenant-facing invocation consumed — one invocation, its duration, the
 * DynamoDB capacity spent on the tenant's items — written with Powertools Metrics as CloudWatch
 * embedded metric format (EMF) lines with a `tenant_id` dimension. CloudWatch Logs keeps the lines;
 * the consumption export sums them per tenant with Logs Insights (and locally from captured lines,
 * core/cost/emf-consumption.ts), to split pooled Lambda and DynamoDB cost between tenants.
 *
 * One EMF object per tenant, always: an EMF object has a single set of dimension values. Powertools'
 * `addDimension()` sets a value on the instance until the next publish, so a shared instance that
 * buffered metrics of two tenants would publish all of them under the last `tenant_id` (with only an
 * "overwritten" warning). `singleMetric()` publishes at each `addMetric()` but clears the dimensions
 * after each publish (a second metric would lose its tenant) and writes to stdout of its own. So each
 * record here adds the dimension and its metrics to a Metrics instance nothing else uses, and
 * serialises and clears it in the same synchronous call: no other tenant's metric, and none of the
 * handler's own, can get in between — even with concurrent invocations in one process.
 *
 * Capturing the lines: Powertools always writes EMF to stdout (its `logger` option only receives its
 * warnings), so local runs and tests pass `write`, which receives each EMF line instead.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { MetricsOptions } from '@aws-lambda-powertools/metrics/types';
import type { TenantCapacity } from '../../core/cost/capacity-units';
import { TENANT_DIMENSION, TENANT_METRICS, type TenantMetricName } from '../../core/cost/emf-consumption';

/** The environment variable that names the metrics namespace (Powertools' own). */
export const METRICS_NAMESPACE_ENV = 'POWERTOOLS_METRICS_NAMESPACE';

/** Most characters of a CloudWatch dimension value. */
const MAX_DIMENSION_VALUE_LENGTH = 1024;

/** CloudWatch's namespace rule: 1–255 of these characters, not starting with `AWS/`. */
const NAMESPACE = /^[0-9A-Za-z.\-_/#: ]{1,255}$/;

/** A tenant metric that cannot be written (no tenant, a negative duration, …) or a bad configuration. */
export class TenantMetricError extends RangeError {
  override readonly name = 'TenantMetricError';
}

/** Settings of {@link TenantMetrics}. */
export interface TenantMetricsOptions {
  /** The `service` dimension: the function's name, e.g. `random-strings`. */
  readonly serviceName: string;
  /** CloudWatch namespace. @default the `POWERTOOLS_METRICS_NAMESPACE` environment variable (required then) */
  readonly namespace?: string;
  /**
   * Receives each EMF line (one JSON object, no newline) instead of stdout: what local runs and tests
   * use to capture the metrics. @default Powertools' own output to stdout, which honours
   * `POWERTOOLS_METRICS_DISABLED` and `POWERTOOLS_DEV`
   */
  readonly write?: (line: string) => void;
  /** Receives Powertools' warnings (e.g. a timestamp CloudWatch would not accept). @default Powertools' (console) */
  readonly logger?: MetricsOptions['logger'];
  /** Current time, epoch ms: the EMF timestamp, whose hour the metric counts in. @default `Date.now` */
  readonly now?: () => number;
}

/**
 * Writes tenant metrics, one EMF object per record. Create one per function at cold start; every
 * method is synchronous and leaves nothing buffered.
 */
export class TenantMetrics {
  /** The CloudWatch namespace the metrics go to. */
  readonly namespace: string;
  private readonly metrics: Metrics;
  private readonly write: ((line: string) => void) | undefined;
  private readonly now: () => number;

  /**
   * @throws TenantMetricError when no valid namespace is given or set in the environment, or the service name is empty
   */
  constructor(options: TenantMetricsOptions, env: Readonly<Record<string, string | undefined>> = process.env) {
    const namespace = options.namespace ?? env[METRICS_NAMESPACE_ENV];
    if (namespace === undefined || namespace === '') throw new TenantMetricError(`tenant metrics need a namespace: set ${METRICS_NAMESPACE_ENV}`);
    if (!NAMESPACE.test(namespace) || namespace.startsWith('AWS/')) {
      throw new TenantMetricError(`invalid CloudWatch namespace ${JSON.stringify(namespace)} (1-255 of 0-9A-Za-z.-_/#: and space, not starting with AWS/)`);
    }
    if (typeof options.serviceName !== 'string' || options.serviceName.trim() === '') throw new TenantMetricError('tenant metrics need a service name');
    this.namespace = namespace;
    this.metrics = new Metrics({ namespace, serviceName: options.serviceName, ...(options.logger ? { logger: options.logger } : {}) });
    this.write = options.write;
    this.now = options.now ?? Date.now;
  }

  /**
   * Writes one EMF object with the tenant's values (metrics left out are not written).
   * @throws TenantMetricError for a missing tenant or a value that is not a finite number ≥ 0
   */
  record(tenantId: string, values: Readonly<Partial<Record<TenantMetricName, number>>>): void {
    checkTenant(tenantId);
    const entries = (Object.keys(TENANT_METRICS) as TenantMetricName[]).flatMap((name) => (values[name] === undefined ? [] : [[name, values[name]] as const]));
    for (const [name, value] of entries) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new TenantMetricError(`${name} of tenant ${JSON.stringify(tenantId)} must be a finite number ≥ 0, got ${String(value)}`);
    }
    if (entries.length === 0) return;
    const metrics = this.metrics;
    try {
      metrics.addDimension(TENANT_DIMENSION, tenantId);
      for (const [name, value] of entries) metrics.addMetric(name, TENANT_METRICS[name].unit, value);
      metrics.setTimestamp(this.now());
      if (this.write) this.write(JSON.stringify(metrics.serializeMetrics()));
      else metrics.publishStoredMetrics();
    } finally {
      metrics.clearMetrics();
      metrics.clearDimensions();
      metrics.clearMetadata();
    }
  }
}

function checkTenant(tenantId: string): void {
  if (typeof tenantId !== 'string' || tenantId.trim() === '') throw new TenantMetricError(`a tenant metric needs a tenant, got ${JSON.stringify(tenantId)}`);
  if (tenantId.length > MAX_DIMENSION_VALUE_LENGTH) throw new TenantMetricError(`tenant id longer than ${MAX_DIMENSION_VALUE_LENGTH} characters cannot be a CloudWatch dimension`);
}

/**
 * Records one tenant-facing invocation: `TenantInvocations` 1 and `TenantDurationMs` (milliseconds,
 * fractions kept) in one EMF object with the tenant's `tenant_id`.
 */
export function recordTenantInvocation(metrics: TenantMetrics, tenantId: string, durationMs: number): void {
  metrics.record(tenantId, { TenantInvocations: 1, TenantDurationMs: durationMs });
}

/**
 * Records DynamoDB capacity units spent on a tenant's items (`TenantCapacityUnits`, a multiple of
 * 0.5: write 1, strongly consistent read 1, eventually consistent read 0.5). Zero writes nothing.
 */
export function recordTenantCapacity(metrics: TenantMetrics, tenantId: string, capacityUnits: number): void {
  if (!Number.isFinite(capacityUnits) || capacityUnits < 0 || !Number.isInteger(capacityUnits * 2)) {
    throw new TenantMetricError(`capacity units of tenant ${JSON.stringify(tenantId)} must be a multiple of 0.5 ≥ 0, got ${String(capacityUnits)}`);
  }
  if (capacityUnits === 0) {
    checkTenant(tenantId);
    return;
  }
  metrics.record(tenantId, { TenantCapacityUnits: capacityUnits });
}

/** The flush target of a {@link import('../../core/cost/capacity-units').CapacityCounter}: each tenant's capacity as a tenant metric. */
export function tenantCapacityRecorder(metrics: TenantMetrics): (capacity: TenantCapacity) => void {
  return (capacity) => recordTenantCapacity(metrics, capacity.tenantId, capacity.units);
}
