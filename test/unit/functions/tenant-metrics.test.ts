import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import fc from 'fast-check';
import { CapacityCounter } from '../../../core/cost/capacity-units';
import type { ConsumptionStream } from '../../../core/cost/consumption';
import { consumptionFromEmfLines } from '../../../core/cost/emf-consumption';
import { HOUR_MS, hourStart } from '../../../core/usage/hours';
import {
  recordTenantCapacity,
  recordTenantInvocation,
  tenantCapacityRecorder,
  TenantMetricError,
  TenantMetrics,
  type TenantMetricsOptions,
} from '../../../functions/commons/tenant-metrics';

const NAMESPACE = 'SaasMetering/Tenants';
const AT = Date.UTC(2026, 10, 23, 10, 15);

/** Powertools' warnings, kept so that a test can assert there were none. */
function warningLogger() {
  const warnings: unknown[][] = [];
  const keep = (...args: unknown[]) => void warnings.push(args);
  return { warnings, logger: { debug: () => undefined, info: () => undefined, warn: keep, error: keep } };
}

function capture(options: Partial<TenantMetricsOptions> = {}) {
  const lines: string[] = [];
  const { warnings, logger } = warningLogger();
  const metrics = new TenantMetrics({ serviceName: 'random-strings', namespace: NAMESPACE, write: (line) => lines.push(line), logger, now: () => AT, ...options });
  return { metrics, lines, warnings, objects: () => lines.map((line) => JSON.parse(line) as Record<string, any>) };
}

describe('tenant metrics', () => {
  it('writes an invocation as one EMF object: count 1 and duration in ms, dimensions service and tenant_id', () => {
    const { metrics, objects, warnings } = capture();
    recordTenantInvocation(metrics, 'acme', 12.5);
    expect(objects()).toEqual([
      {
        _aws: {
          Timestamp: AT,
          CloudWatchMetrics: [
            {
              Namespace: NAMESPACE,
              Dimensions: [['service', 'tenant_id']],
              Metrics: [
                { Name: 'TenantInvocations', Unit: 'Count' },
                { Name: 'TenantDurationMs', Unit: 'Milliseconds' },
              ],
            },
          ],
        },
        service: 'random-strings',
        tenant_id: 'acme',
        TenantInvocations: 1,
        TenantDurationMs: 12.5,
      },
    ]);
    expect(warnings).toEqual([]);
  });

  it('writes capacity units in steps of 0.5 and nothing for zero', () => {
    const { metrics, objects } = capture();
    recordTenantCapacity(metrics, 'acme', 2.5);
    recordTenantCapacity(metrics, 'acme', 0);
    expect(objects()).toHaveLength(1);
    expect(objects()[0]).toMatchObject({ tenant_id: 'acme', TenantCapacityUnits: 2.5, _aws: { CloudWatchMetrics: [{ Metrics: [{ Name: 'TenantCapacityUnits', Unit: 'Count' }] }] } });
  });

  it('keeps every tenant in its own object when records of several tenants interleave', () => {
    const { metrics, objects } = capture();
    recordTenantInvocation(metrics, 'acme', 1);
    recordTenantCapacity(metrics, 'globex', 1.5);
    recordTenantInvocation(metrics, 'globex', 2);
    recordTenantInvocation(metrics, 'acme', 3);
    expect(objects().map((o) => [o.tenant_id, o.TenantInvocations, o.TenantDurationMs, o.TenantCapacityUnits])).toEqual([
      ['acme', 1, 1, undefined],
      ['globex', undefined, undefined, 1.5],
      ['globex', 1, 2, undefined],
      ['acme', 1, 3, undefined],
    ]);
  });

  it('is needed: one shared Powertools instance puts two tenants’ buffered metrics under the last tenant', () => {
    // What the module avoids, shown on Powertools itself: one EMF object has one set of dimension values.
    const { logger, warnings } = warningLogger();
    const shared = new Metrics({ namespace: NAMESPACE, serviceName: 'shared', logger });
    shared.addDimension('tenant_id', 'acme').addMetric('TenantInvocations', MetricUnit.Count, 1);
    shared.addDimension('tenant_id', 'globex').addMetric('TenantInvocations', MetricUnit.Count, 1);
    const emf = shared.serializeMetrics() as Record<string, unknown>;
    expect(emf).toMatchObject({ tenant_id: 'globex', TenantInvocations: [1, 1] });
    expect(warnings.flat().join(' ')).toMatch(/already been added/);
  });

  it('leaves nothing buffered: a record after a failed one carries only its own values', () => {
    let fail = true;
    const lines: string[] = [];
    const metrics = new TenantMetrics({
      serviceName: 'svc',
      namespace: NAMESPACE,
      now: () => AT,
      write: (line) => {
        if (fail) throw new Error('sink down');
        lines.push(line);
      },
    });
    expect(() => recordTenantInvocation(metrics, 'acme', 5)).toThrow('sink down');
    fail = false;
    recordTenantCapacity(metrics, 'globex', 1);
    expect(lines.map((l) => JSON.parse(l))).toEqual([expect.objectContaining({ tenant_id: 'globex', TenantCapacityUnits: 1 })]);
    expect(JSON.parse(lines[0]!)).not.toHaveProperty('TenantInvocations');
  });

  it('writes to stdout through Powertools when no writer is given', () => {
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const metrics = new TenantMetrics({ serviceName: 'usage-events', now: () => AT }, { POWERTOOLS_METRICS_NAMESPACE: NAMESPACE });
      recordTenantInvocation(metrics, 'acme', 7);
    } finally {
      spy.mockRestore();
    }
    const lines = written.join('').split('\n').filter((l) => l.includes('"_aws"'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ tenant_id: 'acme', service: 'usage-events', TenantInvocations: 1, TenantDurationMs: 7, _aws: { Timestamp: AT, CloudWatchMetrics: [{ Namespace: NAMESPACE }] } });
  });

  it('takes the namespace from POWERTOOLS_METRICS_NAMESPACE and refuses to start without a valid one', () => {
    expect(new TenantMetrics({ serviceName: 'svc' }, { POWERTOOLS_METRICS_NAMESPACE: 'From/Env' }).namespace).toBe('From/Env');
    expect(() => new TenantMetrics({ serviceName: 'svc' }, {})).toThrow(/set POWERTOOLS_METRICS_NAMESPACE/);
    expect(() => new TenantMetrics({ serviceName: 'svc', namespace: 'AWS/Lambda' }, {})).toThrow(TenantMetricError);
    expect(() => new TenantMetrics({ serviceName: 'svc', namespace: 'bad"quote' }, {})).toThrow(/invalid CloudWatch namespace/);
    expect(() => new TenantMetrics({ serviceName: ' ', namespace: NAMESPACE }, {})).toThrow(/service name/);
  });

  it('refuses records it cannot attribute or that are not amounts, writing nothing', () => {
    const { metrics, lines } = capture();
    expect(() => recordTenantInvocation(metrics, '', 1)).toThrow(TenantMetricError);
    expect(() => recordTenantInvocation(metrics, '  ', 1)).toThrow(/needs a tenant/);
    expect(() => recordTenantInvocation(metrics, 'x'.repeat(1025), 1)).toThrow(/1024/);
    expect(() => recordTenantInvocation(metrics, 'acme', -1)).toThrow(/TenantDurationMs .* finite number ≥ 0/);
    expect(() => recordTenantInvocation(metrics, 'acme', Number.NaN)).toThrow(TenantMetricError);
    expect(() => recordTenantCapacity(metrics, 'acme', 0.25)).toThrow(/multiple of 0.5/);
    expect(() => recordTenantCapacity(metrics, '', 0)).toThrow(/needs a tenant/);
    expect(lines).toEqual([]);
  });

  it('flushes a capacity counter as one object per tenant', () => {
    const { metrics, objects } = capture();
    const counter = new CapacityCounter(tenantCapacityRecorder(metrics));
    counter.count('acme', 'write');
    counter.count('globex', 'eventually-consistent-read', 3);
    counter.count('acme', 'strongly-consistent-read');
    counter.flush();
    expect(objects().map((o) => [o.tenant_id, o.TenantCapacityUnits])).toEqual([
      ['acme', 2],
      ['globex', 1.5],
    ]);
  });
});

describe('tenant metrics read back from their EMF lines', () => {
  const TENANTS = ['acme', 'globex', 'initech', 'umbrella', 'tenant with spaces', 'ünïcode', 'quote"d', 'a'.repeat(64), 't9', 't10', 't11', 't12'];
  const event = fc.oneof(
    fc.record({
      kind: fc.constant('invocation' as const),
      tenant: fc.constantFrom(...TENANTS),
      // Duration in micro-milliseconds (6 fraction digits of a millisecond), up to 15 minutes.
      micros: fc.integer({ min: 0, max: 900_000 * 1_000_000 }),
      at: fc.integer({ min: 0, max: 48 * HOUR_MS - 1 }),
    }),
    fc.record({
      kind: fc.constant('capacity' as const),
      tenant: fc.constantFrom(...TENANTS),
      halfUnits: fc.integer({ min: 0, max: 100_000 }),
      at: fc.integer({ min: 0, max: 48 * HOUR_MS - 1 }),
    }),
    fc.record({ kind: fc.constant('log' as const), text: fc.oneof(fc.string(), fc.json()), at: fc.constant(0) }),
  );

  it('gives exactly the recorded figures per tenant, stream and hour, and per day (numRuns 300)', () => {
    // Timestamps within the last two days, which CloudWatch (and Powertools' check) accept.
    const base = hourStart(Date.now()) - 47 * HOUR_MS;
    fc.assert(
      fc.property(fc.array(event, { maxLength: 80 }), (events) => {
        const lines: string[] = [];
        const { logger, warnings } = warningLogger();
        let clock = base;
        const metrics = new TenantMetrics({ serviceName: 'random-strings', namespace: NAMESPACE, write: (line) => lines.push(line), logger, now: () => clock });
        const expected = new Map<string, bigint>();
        const add = (tenant: string, stream: ConsumptionStream, at: number, micro: bigint) => {
          const key = `${hourStart(at)}|${tenant}|${stream}`;
          expected.set(key, (expected.get(key) ?? 0n) + micro);
        };
        let foreign = 0;
        let tenantLines = 0;
        for (const e of events) {
          clock = base + e.at;
          if (e.kind === 'log') {
            lines.push(typeof e.text === 'string' ? e.text : JSON.stringify(e.text));
            foreign += 1;
          } else if (e.kind === 'invocation') {
            recordTenantInvocation(metrics, e.tenant, e.micros / 1_000_000);
            add(e.tenant, 'lambda_invocations', clock, 1_000_000n);
            add(e.tenant, 'lambda_duration_ms', clock, BigInt(e.micros));
            tenantLines += 1;
          } else {
            recordTenantCapacity(metrics, e.tenant, e.halfUnits / 2);
            if (e.halfUnits > 0) {
              add(e.tenant, 'dynamodb_capacity_units', clock, BigInt(e.halfUnits) * 500_000n);
              tenantLines += 1;
            }
          }
        }
        expect(warnings).toEqual([]);

        const hourly = consumptionFromEmfLines(lines, { range: { start: base, end: base + 48 * HOUR_MS }, granularity: 'HOURLY', namespace: NAMESPACE });
        expect(hourly).toMatchObject({ lines: lines.length, counted: tenantLines, foreign, outsideRange: 0, malformed: [] });
        const actual = new Map(hourly.records.map((r) => [`${r.start}|${r.tenantId}|${r.stream}`, toMicro(r.value)]));
        expect(actual).toEqual(new Map([...expected].filter(([, micro]) => micro > 0n)));

        // Per day: the same figures summed over each UTC day the hours fall in.
        const dayStart = Math.floor(base / (24 * HOUR_MS)) * 24 * HOUR_MS;
        const daily = consumptionFromEmfLines(lines, { range: { start: dayStart, end: dayStart + 3 * 24 * HOUR_MS }, granularity: 'DAILY', namespace: NAMESPACE });
        const byDay = new Map<string, bigint>();
        for (const [key, micro] of expected) {
          const [hour, tenant, stream] = key.split('|') as [string, string, string];
          const day = `${Math.floor(Number(hour) / (24 * HOUR_MS)) * 24 * HOUR_MS}|${tenant}|${stream}`;
          byDay.set(day, (byDay.get(day) ?? 0n) + micro);
        }
        expect(new Map(daily.records.map((r) => [`${r.start}|${r.tenantId}|${r.stream}`, toMicro(r.value)]))).toEqual(new Map([...byDay].filter(([, micro]) => micro > 0n)));
      }),
      { numRuns: 300 },
    );
  });
});

/** A consumption value back to micro-units, independently of the code under test. */
function toMicro(value: string): bigint {
  const match = /^(\d+)(?:\.(\d{1,6}))?$/.exec(value);
  if (!match) throw new Error(`not a consumption value: ${value}`);
  return BigInt(match[1]!) * 1_000_000n + BigInt((match[2] ?? '').padEnd(6, '0'));
}
