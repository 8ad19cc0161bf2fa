/**
 * The report model's helpers: the reconciliation's rule and problem sentences, the exact margin
 * percentage (property, numRuns 1000), cost rows and sections, invoice previews as report entries,
 * the hours of a period and times for people.
 */
import fc from 'fast-check';
import pricingJson from '../../../config/pricing.json';
import { buildInvoicePreview } from '../../../core/pricing/invoice';
import { parseBillingMonth } from '../../../core/pricing/invoice-period';
import { parsePricingConfig, planById } from '../../../core/pricing/plan-schema';
import {
  costRowOf,
  costSectionOf,
  dimensionsOf,
  hoursOf,
  invoiceEntryOf,
  isReconciled,
  pairKey,
  percentText,
  reconciliationProblems,
  shortTime,
  verdictOf,
  type ReconciliationEntry,
} from '../../../local/report/run-report';

const row = (over: Partial<ReconciliationEntry> = {}): ReconciliationEntry => ({
  tenantId: 'acme',
  dimension: 'api_requests',
  trueQuantity: '100',
  aggregated: '100',
  billed: '100',
  billedAmount: { currency: 'USD', minorUnitDigits: 2, ledgerMinor: '250', ratedMinor: '250' },
  exact: true,
  ...over,
});

describe('reconciliation', () => {
  it('agrees when aggregated = sent and, when billed, billed = aggregated and ledger = rated', () => {
    expect(isReconciled(row())).toBe(true);
    expect(isReconciled(row({ billed: null, billedAmount: null }))).toBe(true);
    expect(isReconciled(row({ billedAmount: undefined }))).toBe(true);
    expect(isReconciled(row({ aggregated: '99', billed: '99' }))).toBe(false);
    expect(isReconciled(row({ billed: '101' }))).toBe(false);
    expect(isReconciled(row({ billedAmount: { currency: 'USD', minorUnitDigits: 2, ledgerMinor: '249', ratedMinor: '250' } }))).toBe(false);
  });

  it('says what differs and by how much', () => {
    expect(reconciliationProblems([
      row(),
      row({ tenantId: 'globex', aggregated: '98', billed: '98', billedAmount: null }),
      row({ tenantId: 'initech', billed: '103', billedAmount: { currency: 'USD', minorUnitDigits: 2, ledgerMinor: '260', ratedMinor: '250' } }),
    ])).toEqual([
      'globex api_requests: aggregated 98, but 100 was sent (-2)',
      'initech api_requests: Marketplace billed 103, but 100 was aggregated (+3)',
      'initech api_requests: the Marketplace ledger charges 260, the rating engine 250 (minor units of USD)',
    ]);
  });

  it('is exact only without any problem, its own or the run\'s', () => {
    expect(verdictOf([row()])).toEqual({ exact: true, problems: [] });
    expect(verdictOf([row()], ['ledger entry of unknown customer x'])).toEqual({ exact: false, problems: ['ledger entry of unknown customer x'] });
    expect(verdictOf([row({ billed: '1' })]).exact).toBe(false);
  });

  it('never calls a row the run marked inexact exact, even when its totals agree', () => {
    expect(verdictOf([row({ exact: false })])).toEqual({ exact: false, problems: ['acme api_requests: not exact, although its totals agree'] });
    // When the run's own problems explain it (an hour that differs), they are enough.
    expect(verdictOf([row({ exact: false })], ['acme api_requests 2026-11-03T10: true 5, aggregated 4'])).toEqual({ exact: false, problems: ['acme api_requests 2026-11-03T10: true 5, aggregated 4'] });
  });
});

describe('percentText', () => {
  it.each<[bigint, bigint, number, string | null]>([
    [1n, 3n, 1, '33.3'], [2n, 3n, 1, '66.7'], [1n, 8n, 1, '12.5'], [1n, 16n, 1, '6.3'], [-1n, 16n, 1, '-6.3'],
    [0n, 5n, 1, '0.0'], [-1n, 10_000n, 1, '0.0'], [5n, 1n, 0, '500'], [1n, 0n, 1, null], [-3204n, 1000n, 1, '-320.4'],
  ])('%s / %s with %s decimals is %s', (n, d, digits, text) => {
    expect(percentText(n, d, digits)).toBe(text);
  });

  it('is the exact percentage rounded half away from zero (numRuns 1000)', () => {
    fc.assert(
      fc.property(fc.bigInt(-(10n ** 30n), 10n ** 30n), fc.bigInt(1n, 10n ** 30n), fc.integer({ min: 0, max: 4 }), (n, d, digits) => {
        const text = percentText(n, d, digits);
        expect(text).toMatch(digits === 0 ? /^-?\d+$/ : new RegExp(`^-?\\d+\\.\\d{${digits}}$`));
        const shown = BigInt((text ?? '').replace('.', '')); // in 10^-digits percent
        const exact = 100n * 10n ** BigInt(digits) * n; // shown ≈ exact / d
        const error = shown * d - exact;
        // Within half a unit of the last digit, and a tie rounds away from zero.
        expect(2n * (error < 0n ? -error : error) <= d).toBe(true);
        if (2n * (error < 0n ? -error : error) === d) expect(shown < 0n ? error < 0n : error > 0n).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('cost rows and section', () => {
  it('derives the margin and its percentage, and the total cost', () => {
    const rows = [costRowOf('acme', 4147n, 2484n), costRowOf('initech', 0n, 500n)];
    expect(rows).toEqual([
      { tenantId: 'acme', revenueMinor: '4147', costMinor: '2484', marginMinor: '1663', marginPercent: '40.1' },
      { tenantId: 'initech', revenueMinor: '0', costMinor: '500', marginMinor: '-500', marginPercent: null },
    ]);
    expect(costSectionOf('USD', 2, rows, 4321n)).toEqual({ currency: 'USD', minorUnitDigits: 2, rows, unallocatedMinor: '4321', totalCostMinor: '7305' });
  });
});

describe('invoiceEntryOf', () => {
  it('turns a real invoice preview into an entry whose lines add up to its totals', () => {
    const pricing = parsePricingConfig(pricingJson);
    const month = parseBillingMonth('2026-11');
    const preview = buildInvoicePreview({
      tenantId: 'globex',
      plan: planById(pricing, 'growth'),
      period: month,
      measurements: [
        { tenantId: 'globex', dimension: 'api_requests', hour: month.start, quantity: 250_000 },
        { tenantId: 'globex', dimension: 'unmetered_thing', hour: month.start, quantity: 7 },
      ],
      generatedAt: month.end,
    });
    const entry = invoiceEntryOf(preview);
    expect(entry).toMatchObject({ tenantId: 'globex', planId: 'growth', currency: 'USD', minorUnitDigits: 2, period: { start: '2026-11-01T00:00:00.000Z', end: '2026-12-01T00:00:00.000Z' } });
    expect(entry.lines[0]).toEqual({ kind: 'flat_fee', dimension: null, description: expect.any(String), quantity: '1', amountMinor: '24900' });
    expect(entry.lines.at(-1)).toEqual({ kind: 'unpriced', dimension: 'unmetered_thing', description: 'unmetered_thing: not priced by plan growth', quantity: '7', amountMinor: '0' });
    expect(entry.lines.reduce((s, l) => s + BigInt(l.amountMinor), 0n).toString()).toBe(entry.subtotalMinor);
    expect((BigInt(entry.subtotalMinor) + BigInt(entry.minimumTopUpMinor)).toString()).toBe(entry.totalMinor);
    expect(entry.totalMinor).toBe(preview.totalMinor.toString());
    expect(entry.warnings).toEqual([...preview.warnings]);
  });
});

describe('hours, dimensions and times', () => {
  const period = { start: '2026-11-03T22:00:00.000Z', end: '2026-11-04T01:00:00.000Z' };
  it('lists every hour of the period, and hours outside it that have usage', () => {
    expect(hoursOf({ period, usageByHour: [] })).toEqual(['2026-11-03T22:00:00.000Z', '2026-11-03T23:00:00.000Z', '2026-11-04T00:00:00.000Z']);
    const late = { tenantId: 'a', dimension: 'd', hour: '2026-11-04T05:00:00.000Z', quantity: '1' };
    expect(hoursOf({ period, usageByHour: [late] }).at(-1)).toBe('2026-11-04T05:00:00.000Z');
  });

  it('lists dimensions in first-seen order', () => {
    const usage = (dimension: string) => ({ tenantId: 'a', dimension, hour: period.start, quantity: '1' });
    expect(dimensionsOf({ usageByHour: [usage('b'), usage('a'), usage('b')], reconciliation: [row({ dimension: 'c' })] })).toEqual(['b', 'a', 'c']);
  });

  it('shortens times for people, leaving anything else alone', () => {
    expect(shortTime('2026-11-03T10:00:00.000Z')).toBe('2026-11-03 10:00 UTC');
    expect(shortTime('2026-11-03T10:00:07.250Z')).toBe('2026-11-03 10:00:07.250 UTC');
    expect(shortTime('not a time')).toBe('not a time');
    expect(pairKey('acme', 'api_requests')).toBe('acme|api_requests');
  });
});
