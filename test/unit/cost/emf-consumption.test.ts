import fc from 'fast-check';
import { ConsumptionRangeError } from '../../../core/cost/consumption';
import { consumptionFromEmfLines, ConsumptionTotals, microUnitsText, parseEmfLine, valueMicroUnits } from '../../../core/cost/emf-consumption';
import { HOUR_MS } from '../../../core/usage/hours';
import { CapturedEmfLines, EmfLogConsumptionSource } from '../../../local/cost/emf-log-consumption';

const NS = 'SaasMetering/Tenants';
const D23 = Date.UTC(2026, 10, 23);
const H10 = D23 + 10 * HOUR_MS;
const DAY = { start: D23, end: D23 + 24 * HOUR_MS };

/** An EMF object as Powertools writes it, with overrides. */
function emf(tenant: unknown, values: Record<string, unknown>, options: { at?: unknown; namespace?: string; dimensions?: string[][]; units?: Record<string, string> } = {}) {
  const units: Record<string, string> = { TenantInvocations: 'Count', TenantDurationMs: 'Milliseconds', TenantCapacityUnits: 'Count', Other: 'Count', ...options.units };
  return JSON.stringify({
    _aws: {
      Timestamp: options.at ?? H10 + 1,
      CloudWatchMetrics: [{ Namespace: options.namespace ?? NS, Dimensions: options.dimensions ?? [['service', 'tenant_id']], Metrics: Object.keys(values).map((Name) => ({ Name, Unit: units[Name] })) }],
    },
    service: 'random-strings',
    ...(tenant === undefined ? {} : { tenant_id: tenant }),
    ...values,
  });
}

describe('values', () => {
  it('rounds each value once, half up, to 6 fraction digits of its decimal text', () => {
    expect(valueMicroUnits(12.5)).toBe(12_500_000n);
    expect(valueMicroUnits(0.0000005)).toBe(1n);
    expect(valueMicroUnits(0.00000049)).toBe(0n);
    expect(valueMicroUnits(1.2345675)).toBe(1_234_568n);
    expect(valueMicroUnits(1e-7)).toBe(0n);
    expect(valueMicroUnits(1e21)).toBe(10n ** 27n);
    expect(() => valueMicroUnits(-1)).toThrow(RangeError);
  });

  it('prints micro-units as plain decimal text without trailing zeros', () => {
    expect(microUnitsText(0n)).toBe('0');
    expect(microUnitsText(500_000n)).toBe('0.5');
    expect(microUnitsText(12_000_000n)).toBe('12');
    expect(microUnitsText(1n)).toBe('0.000001');
    expect(microUnitsText(123_456_789_012_345_678_901n)).toBe('123456789012345.678901');
    expect(() => microUnitsText(-1n)).toThrow(/negative/);
  });

  it('round-trips every micro-unit amount through its text (numRuns 500)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), (units) => {
        const text = microUnitsText(units);
        expect(text).toMatch(/^(0|[1-9]\d*)(\.\d{0,5}[1-9])?$/);
        const [whole, fraction = ''] = text.split('.');
        expect(BigInt(whole!) * 1_000_000n + BigInt(fraction.padEnd(6, '0'))).toBe(units);
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseEmfLine', () => {
  it('reads the tenant metrics of a Powertools EMF object', () => {
    expect(parseEmfLine(emf('acme', { TenantInvocations: 1, TenantDurationMs: 12.25 }), NS)).toEqual({
      kind: 'tenant-metrics',
      tenantId: 'acme',
      timestamp: H10 + 1,
      values: [
        { metric: 'TenantInvocations', stream: 'lambda_invocations', microUnits: 1_000_000n },
        { metric: 'TenantDurationMs', stream: 'lambda_duration_ms', microUnits: 12_250_000n },
      ],
    });
  });

  it('sums a list of values, which EMF allows for one metric', () => {
    expect(parseEmfLine(emf('acme', { TenantCapacityUnits: [0.5, 1, 2.5] }))).toMatchObject({ values: [{ stream: 'dynamodb_capacity_units', microUnits: 4_000_000n }] });
  });

  it('ignores other metrics of a line that has tenant metrics', () => {
    expect(parseEmfLine(emf('acme', { Other: 5, TenantInvocations: 2 }))).toMatchObject({ values: [{ metric: 'TenantInvocations', microUnits: 2_000_000n }] });
  });

  it.each([
    ['plain text', 'START RequestId: 1 Version: $LATEST'],
    ['a JSON array', '[1,2]'],
    ['a JSON string', '"text"'],
    ['a Powertools Logger line', JSON.stringify({ level: 'INFO', message: 'usage events accepted', tenantId: 'acme', TenantInvocations: 1 })],
    ['EMF without tenant metrics', emf('acme', { Other: 1 })],
    ['tenant metrics of another namespace', emf('acme', { TenantInvocations: 1 }, { namespace: 'Someone/Else' })],
  ])('counts %s as foreign', (_, line) => {
    expect(parseEmfLine(line, NS)).toMatchObject({ kind: 'foreign' });
  });

  it.each([
    ['no tenant_id value', emf(undefined, { TenantInvocations: 1 }), /tenant_id is not a non-empty string/],
    ['an empty tenant_id', emf('  ', { TenantInvocations: 1 }), /tenant_id/],
    ['a numeric tenant_id', emf(42, { TenantInvocations: 1 }), /tenant_id/],
    ['no tenant_id dimension', emf('acme', { TenantInvocations: 1 }, { dimensions: [['service']] }), /not declared with the tenant_id dimension/],
    ['a duration in seconds', emf('acme', { TenantDurationMs: 1 }, { units: { TenantDurationMs: 'Seconds' } }), /unit "Seconds", expected Milliseconds/],
    ['a negative value', emf('acme', { TenantCapacityUnits: -0.5 }), /finite number ≥ 0/],
    ['a text value', emf('acme', { TenantInvocations: '1' }), /finite number ≥ 0/],
    ['a missing value', emf('acme', { TenantInvocations: undefined }), /finite number ≥ 0/],
    ['an empty list', emf('acme', { TenantCapacityUnits: [] }), /empty list/],
    ['a list with a bad value', emf('acme', { TenantCapacityUnits: [1, null] }), /finite number ≥ 0/],
    ['a timestamp in seconds as text', emf('acme', { TenantInvocations: 1 }, { at: '1700000000' }), /_aws.Timestamp/],
    ['a fractional timestamp', emf('acme', { TenantInvocations: 1 }, { at: 1.5 }), /_aws.Timestamp/],
    ['_aws without directives', JSON.stringify({ _aws: { Timestamp: 1 }, tenant_id: 'acme' }), /CloudWatchMetrics is not a list/],
    ['a directive without Metrics', JSON.stringify({ _aws: { Timestamp: 1, CloudWatchMetrics: [{ Namespace: NS }] } }), /lacks Metrics or Dimensions/],
  ])('reports a tenant metric line with %s as malformed', (_, line, reason) => {
    const parsed = parseEmfLine(line, NS);
    expect(parsed.kind).toBe('malformed');
    expect(parsed.kind === 'malformed' && parsed.reason).toMatch(reason);
  });

  it('never throws, whatever the line (numRuns 1000)', () => {
    const emfLike = fc.record({
      _aws: fc.oneof(
        fc.anything(),
        fc.record({ Timestamp: fc.anything(), CloudWatchMetrics: fc.array(fc.record({ Namespace: fc.constantFrom(NS, 'x'), Dimensions: fc.anything(), Metrics: fc.array(fc.record({ Name: fc.constantFrom('TenantInvocations', 'TenantDurationMs', 'Other'), Unit: fc.anything() })) })) }),
      ),
      tenant_id: fc.anything(),
      TenantInvocations: fc.anything(),
      TenantDurationMs: fc.oneof(fc.double(), fc.array(fc.double())),
    });
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), emfLike.map((o) => JSON.stringify(o) ?? 'undefined')), (line) => {
        expect(['tenant-metrics', 'foreign', 'malformed']).toContain(parseEmfLine(line, NS).kind);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('consumptionFromEmfLines', () => {
  const lines = [
    emf('acme', { TenantInvocations: 1, TenantDurationMs: 10.1 }, { at: H10 + 5 }),
    emf('acme', { TenantInvocations: 1, TenantDurationMs: 0.000001 }, { at: H10 + 6 }),
    emf('globex', { TenantCapacityUnits: 0.5 }, { at: H10 + 7 }),
    emf('acme', { TenantInvocations: 1, TenantDurationMs: 3 }, { at: H10 + HOUR_MS }),
    emf('acme', { TenantCapacityUnits: 0 }, { at: H10 + HOUR_MS }), // a zero: no record
    emf('acme', { TenantInvocations: 1 }, { at: D23 - 1 }), // the day before
    emf('acme', { TenantInvocations: 1 }, { at: DAY.end }), // the next day
    'REPORT RequestId: 1 Duration: 12.00 ms',
    emf('', { TenantInvocations: 1 }),
  ];

  it('sums per tenant, stream and hour, and reports what it skipped', () => {
    expect(consumptionFromEmfLines(lines, { range: DAY, granularity: 'HOURLY', namespace: NS })).toEqual({
      records: [
        { tenantId: 'acme', stream: 'lambda_duration_ms', granularity: 'HOURLY', start: H10, value: '10.100001' },
        { tenantId: 'acme', stream: 'lambda_invocations', granularity: 'HOURLY', start: H10, value: '2' },
        { tenantId: 'globex', stream: 'dynamodb_capacity_units', granularity: 'HOURLY', start: H10, value: '0.5' },
        { tenantId: 'acme', stream: 'lambda_duration_ms', granularity: 'HOURLY', start: H10 + HOUR_MS, value: '3' },
        { tenantId: 'acme', stream: 'lambda_invocations', granularity: 'HOURLY', start: H10 + HOUR_MS, value: '1' },
      ],
      lines: 9,
      counted: 5,
      outsideRange: 2,
      foreign: 1,
      malformed: [{ index: 8, reason: 'tenant_id is not a non-empty string: ""' }],
    });
  });

  it('sums per UTC day', () => {
    const { records } = consumptionFromEmfLines(lines, { range: { start: D23 - 24 * HOUR_MS, end: DAY.end + 24 * HOUR_MS }, granularity: 'DAILY', namespace: NS });
    expect(records.map((r) => [new Date(r.start).toISOString().slice(0, 10), r.tenantId, r.stream, r.value])).toEqual([
      ['2026-11-22', 'acme', 'lambda_invocations', '1'],
      ['2026-11-23', 'acme', 'lambda_duration_ms', '13.100001'],
      ['2026-11-23', 'acme', 'lambda_invocations', '3'],
      ['2026-11-23', 'globex', 'dynamodb_capacity_units', '0.5'],
      ['2026-11-24', 'acme', 'lambda_invocations', '1'],
    ]);
  });

  it('adds up in micro-units exactly where doubles would drift (0.1 ms ten thousand times)', () => {
    const many = Array.from({ length: 10_000 }, () => emf('acme', { TenantDurationMs: 0.1 }));
    expect(consumptionFromEmfLines(many, { range: DAY, granularity: 'DAILY' }).records).toEqual([{ tenantId: 'acme', stream: 'lambda_duration_ms', granularity: 'DAILY', start: D23, value: '1000' }]);
  });

  it('totals refuse negative amounts', () => {
    expect(() => new ConsumptionTotals('HOURLY').add('acme', 'lambda_invocations', H10, -1n)).toThrow(/negative/);
  });
});

describe('EmfLogConsumptionSource', () => {
  it('reads the lines captured so far, in the namespace asked for, and tells what it skipped', async () => {
    const captured = new CapturedEmfLines();
    const summaries: unknown[] = [];
    const source = captured.source({ namespace: NS, onRead: (summary) => summaries.push(summary) });
    captured.write(emf('acme', { TenantInvocations: 1, TenantDurationMs: 2 }));
    await expect(source.read(DAY, 'DAILY')).resolves.toEqual([
      { tenantId: 'acme', stream: 'lambda_duration_ms', granularity: 'DAILY', start: D23, value: '2' },
      { tenantId: 'acme', stream: 'lambda_invocations', granularity: 'DAILY', start: D23, value: '1' },
    ]);
    captured.write(emf('acme', { TenantInvocations: 1 }, { namespace: 'Other/Ns' }));
    captured.write('not json');
    captured.write(emf('globex', { TenantCapacityUnits: 1.5 }));
    await expect(source.read(DAY, 'DAILY')).resolves.toHaveLength(3);
    expect(summaries[1]).toEqual({ lines: 4, counted: 2, outsideRange: 0, foreign: 2, malformed: [] });
  });

  it('refuses a range that is not whole periods', async () => {
    await expect(new EmfLogConsumptionSource([]).read({ start: H10, end: H10 + HOUR_MS }, 'DAILY')).rejects.toThrow(ConsumptionRangeError);
  });
});
