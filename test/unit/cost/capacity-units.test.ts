import fc from 'fast-check';
import { CapacityCounter, CapacityCountError, capacityHalfUnits, capacityUnits, readOperation, type CapacityOperation, type TenantCapacity } from '../../../core/cost/capacity-units';

describe('the capacity rule (write 1, eventually consistent read 0.5, strongly consistent read 1)', () => {
  it.each<[CapacityOperation, number, number]>([
    ['write', 1, 1],
    ['eventually-consistent-read', 1, 0.5],
    ['strongly-consistent-read', 1, 1],
    ['write', 25, 25],
    ['eventually-consistent-read', 3, 1.5],
    ['eventually-consistent-read', 100, 50],
    ['strongly-consistent-read', 7, 7],
    ['write', 0, 0],
  ])('%s of %d item(s) is %d unit(s)', (operation, items, units) => {
    expect(capacityUnits(operation, items)).toBe(units);
    expect(capacityHalfUnits(operation, items)).toBe(units * 2);
  });

  it('counts one item by default', () => {
    expect(capacityUnits('eventually-consistent-read')).toBe(0.5);
  });

  it('takes DynamoDB’s ConsistentRead flag: absent or false is an eventually consistent read', () => {
    expect(readOperation(true)).toBe('strongly-consistent-read');
    expect(readOperation(false)).toBe('eventually-consistent-read');
    expect(readOperation(undefined)).toBe('eventually-consistent-read');
  });

  it('refuses counts it cannot take', () => {
    expect(() => capacityUnits('write', -1)).toThrow(CapacityCountError);
    expect(() => capacityUnits('write', 1.5)).toThrow(/whole number/);
    expect(() => capacityUnits('transact-write' as CapacityOperation)).toThrow(/unknown DynamoDB operation/);
    expect(() => capacityUnits('write', Number.MAX_SAFE_INTEGER)).toThrow(/beyond exact counting/);
  });
});

describe('CapacityCounter', () => {
  it('accumulates per tenant and flushes each tenant once, in the order first counted', () => {
    const flushed: TenantCapacity[] = [];
    const counter = new CapacityCounter((c) => flushed.push(c));
    counter.count('globex', 'eventually-consistent-read');
    counter.count('acme', 'write', 2);
    counter.count('globex', 'strongly-consistent-read');
    counter.count('acme', 'eventually-consistent-read', 0);
    expect(counter.pending('globex')).toBe(1.5);
    counter.flush();
    expect(flushed).toEqual([
      { tenantId: 'globex', units: 1.5 },
      { tenantId: 'acme', units: 2 },
    ]);
    counter.flush();
    expect(flushed).toHaveLength(2);
    expect(counter.pending('acme')).toBe(0);
  });

  it('keeps what it could not hand over for the next flush', () => {
    const flushed: TenantCapacity[] = [];
    let failFor: string | undefined = 'globex';
    const counter = new CapacityCounter((c) => {
      if (c.tenantId === failFor) throw new Error('metrics down');
      flushed.push(c);
    });
    counter.count('acme', 'write');
    counter.count('globex', 'write');
    counter.count('initech', 'write');
    expect(() => counter.flush()).toThrow('metrics down');
    expect(flushed).toEqual([{ tenantId: 'acme', units: 1 }]);
    failFor = undefined;
    counter.count('globex', 'eventually-consistent-read');
    counter.flush();
    expect(flushed).toEqual([
      { tenantId: 'acme', units: 1 },
      { tenantId: 'globex', units: 1.5 },
      { tenantId: 'initech', units: 1 },
    ]);
  });

  it('refuses an operation without a tenant', () => {
    const counter = new CapacityCounter(() => undefined);
    expect(() => counter.count('', 'write')).toThrow(/needs a tenant/);
  });

  it('flushes exactly the units of the operations counted, per tenant (numRuns 300)', () => {
    const operation = fc.record({
      tenant: fc.constantFrom('acme', 'globex', 'initech', 'umbrella'),
      kind: fc.constantFrom<CapacityOperation>('write', 'eventually-consistent-read', 'strongly-consistent-read'),
      items: fc.integer({ min: 0, max: 1000 }),
    });
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 100 }), fc.integer({ min: 1, max: 20 }), (operations, flushEvery) => {
        const totals = new Map<string, number>();
        const counter = new CapacityCounter(({ tenantId, units }) => {
          expect(units).toBeGreaterThan(0);
          totals.set(tenantId, (totals.get(tenantId) ?? 0) + units);
        });
        const expected = new Map<string, number>();
        operations.forEach((op, i) => {
          counter.count(op.tenant, op.kind, op.items);
          // Independent oracle: half units as integers, writes and strong reads 2, eventual reads 1.
          const half = op.items * (op.kind === 'eventually-consistent-read' ? 1 : 2);
          if (half > 0) expected.set(op.tenant, (expected.get(op.tenant) ?? 0) + half / 2);
          if ((i + 1) % flushEvery === 0) counter.flush();
        });
        counter.flush();
        expect(totals).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});
