import { allocateCosts, type AllocationResult } from '../../../core/cost/allocate-costs';
import { parseCostAllocationConfig } from '../../../core/cost/allocation-config';
import type { CostLine } from '../../../core/cost/cost-line';
import { marginPercent, TenantMarginError, tenantMargins } from '../../../core/cost/tenant-margin';

const DAY1 = Date.UTC(2026, 10, 1);
const config = parseCostAllocationConfig({ currency: 'USD', tenantTag: 'user_tenant_id', rules: [{ service: 'AWSGlue', split: 'even' }] });
const cost = (service: string, amount: string, tags: Record<string, string> = {}): CostLine => ({ start: DAY1, service, amount, tags, currency: 'USD' });

/** acme, globex and initech 1.00 each of Glue; initech 2.00 of its own bucket; 0.50 of Secrets Manager nobody is given. */
const allocation: AllocationResult = allocateCosts({
  config,
  tenants: ['acme', 'globex', 'initech'],
  costs: [cost('AWSGlue', '3.00'), cost('AmazonS3', '2.00', { user_tenant_id: 'initech' }), cost('AWSSecretsManager', '0.50')],
  consumption: [],
  granularity: 'DAILY',
});

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TenantMarginError);
    return [...(error as TenantMarginError).problems];
  }
  throw new Error('expected a TenantMarginError');
}

describe('tenantMargins', () => {
  it('sets revenue against cost for every tenant on either side, with the unallocated cost in the totals', () => {
    const report = tenantMargins({
      allocation,
      revenue: [
        { tenantId: 'acme', revenueMinor: 300n, currency: 'USD' },
        { tenantId: 'globex', revenueMinor: 0n, currency: 'USD' },
        { tenantId: 'hooli', revenueMinor: 500n, currency: 'USD', minorUnitDigits: 2 }, // revenue, no cost
        { tenantId: 'initech', revenueMinor: 100n, currency: 'USD' },
        { tenantId: 'initech', revenueMinor: 50n, currency: 'USD' }, // two invoices add up
      ],
    });
    expect(report).toEqual({
      currency: 'USD',
      minorUnitDigits: 2,
      rows: [
        { tenantId: 'acme', revenueMinor: 300n, costMinor: 100n, marginMinor: 200n, marginPercent: '66.7' },
        { tenantId: 'globex', revenueMinor: 0n, costMinor: 100n, marginMinor: -100n, marginPercent: null },
        { tenantId: 'hooli', revenueMinor: 500n, costMinor: 0n, marginMinor: 500n, marginPercent: '100.0' },
        { tenantId: 'initech', revenueMinor: 150n, costMinor: 300n, marginMinor: -150n, marginPercent: '-100.0' },
      ],
      unallocatedCostMinor: 50n,
      // 950 − (100 + 100 + 300 + 50 unallocated) = 400; 400 / 950 = 42.105… %
      totals: { revenueMinor: 950n, costMinor: 550n, marginMinor: 400n, marginPercent: '42.1' },
    });
  });

  it('lists a tenant with cost but no revenue entry', () => {
    const report = tenantMargins({ allocation, revenue: [] });
    expect(report.rows.map((r) => [r.tenantId, r.revenueMinor, r.costMinor, r.marginPercent])).toEqual([
      ['acme', 0n, 100n, null],
      ['globex', 0n, 100n, null],
      ['initech', 0n, 300n, null],
    ]);
    expect(report.totals).toEqual({ revenueMinor: 0n, costMinor: 550n, marginMinor: -550n, marginPercent: null });
  });

  it('refuses revenue in another currency or minor unit, naming each entry', () => {
    expect(problemsOf(() => tenantMargins({
      allocation,
      revenue: [
        { tenantId: 'acme', revenueMinor: 300n, currency: 'USD' },
        { tenantId: 'globex', revenueMinor: 300n, currency: 'EUR' },
        { tenantId: 'initech', revenueMinor: 3000n, currency: 'USD', minorUnitDigits: 3 },
        { tenantId: '', revenueMinor: 3 as any, currency: 'USD' },
      ],
    }))).toEqual([
      'revenue[1]: currency "EUR" of tenant "globex" is not the cost currency USD (amounts are never converted)',
      'revenue[2]: amounts in 3 minor-unit digits, the cost has 2',
      'revenue[3].tenantId: must be a non-empty tenant id',
      'revenue[3].revenueMinor: must be a bigint of minor units, got number',
    ]);
  });
});

describe('marginPercent', () => {
  it('is margin / revenue × 100 with one fraction digit, halves away from zero', () => {
    expect(marginPercent(1n, 8n)).toBe('12.5');
    expect(marginPercent(-1n, 8n)).toBe('-12.5');
    expect(marginPercent(1n, 3n)).toBe('33.3');
    expect(marginPercent(2n, 3n)).toBe('66.7');
    expect(marginPercent(1n, 2000n)).toBe('0.1'); // 0.05 %
    expect(marginPercent(-1n, 2000n)).toBe('-0.1');
    expect(marginPercent(0n, 5n)).toBe('0.0');
    expect(marginPercent(-5n, -10n)).toBe('50.0');
    expect(marginPercent(10n ** 30n, 1n)).toBe(`${10n ** 32n}.0`);
    expect(marginPercent(5n, 0n)).toBeNull();
  });
});
