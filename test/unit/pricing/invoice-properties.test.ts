/**
 * Properties of invoice previews built from generated usage hours (the charge-level properties of
 * `rateUsage` are in rating-properties.test.ts): the summing of hours, tenant and period isolation,
 * unpriced usage, the totals, and the CSV and HTML renderings. Every run count is explicit.
 */
import fc from 'fast-check';
import { buildInvoicePreview, type UsageHour } from '../../../core/pricing/invoice';
import { parseBillingMonth } from '../../../core/pricing/invoice-period';
import { invoiceCsv, invoiceHtml } from '../../../core/pricing/invoice-render';
import { escapeHtml } from '../../../core/marketplace/registration-escape';
import { ceilDiv, prorate, roundHalfUp } from '../../../core/pricing/money';
import { coveredFraction } from '../../../core/pricing/periods';
import { parsePlan, type Plan } from '../../../core/pricing/plan-schema';
import { readCsv } from './read-csv';

const HOUR = 3_600_000;
const MONTH = parseBillingMonth('2026-11'); // 720 hours
const GENERATED = Date.UTC(2026, 11, 2);

const priceArb = fc.record({ amountMinor: fc.bigInt(0n, 10n ** 6n), per: fc.bigInt(1n, 10n ** 4n) });
const freeArb = fc.oneof(fc.constant(0n), fc.bigInt(0n, 10n ** 6n));
const tiersArb = fc
  .tuple(fc.array(fc.record({ width: fc.oneof(fc.bigInt(1n, 1000n), fc.bigInt(1n, 10n ** 15n)), price: priceArb }), { maxLength: 4 }), priceArb)
  .map(([bounded, last]) => {
    let upTo = 0n;
    return [...bounded.map(({ width, price }) => ({ upTo: (upTo += width), price })), { upTo: null, price: last }];
  });
const chargeArb = fc.oneof(
  fc.record({ kind: fc.constant('per_unit'), price: priceArb, freeAllowance: freeArb }),
  fc.record({ kind: fc.constant('graduated'), tiers: tiersArb, freeAllowance: freeArb }),
  fc.record({ kind: fc.constant('volume'), tiers: tiersArb, freeAllowance: freeArb }),
  fc.record({ kind: fc.constant('package'), packageSize: fc.bigInt(1n, 10n ** 6n), priceMinor: fc.bigInt(0n, 10n ** 6n), freeAllowance: freeArb }),
);

/** A quantity a measurement can have: small, or up to the largest safe integer. */
const quantityArb = fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));
/** An hour index relative to the month: mostly inside (0-719), some just outside. */
const hourIndexArb = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 719 }) }, { weight: 1, arbitrary: fc.integer({ min: -48, max: 767 }) });

/** Usage hours of one tenant and dimension, each hour at most once. */
function hoursOf(tenantId: string, dimension: string) {
  return fc.uniqueArray(fc.record({ index: hourIndexArb, quantity: quantityArb }), { selector: (h) => h.index, maxLength: 30 }).map((hours) =>
    hours.map(({ index, quantity }): UsageHour => ({ tenantId, dimension, hour: MONTH.start + index * HOUR, quantity })),
  );
}

/** The exact sum of the tenant's quantities of a dimension inside the month. */
function sumInMonth(hours: readonly UsageHour[], tenantId: string, dimension: string): bigint {
  return hours
    .filter((h) => h.tenantId === tenantId && h.dimension === dimension && h.hour >= MONTH.start && h.hour < MONTH.end)
    .reduce((sum, h) => sum + BigInt(h.quantity), 0n);
}

function planOf(charges: Record<string, unknown>[], extra: Record<string, unknown> = {}): Plan {
  return parsePlan({ id: 'p', name: 'P', currency: 'USD', charges: charges.map((c, i) => ({ dimension: `d${i}`, ...c })), ...extra });
}

function previewOf(plan: Plan, measurements: readonly UsageHour[], extra: { tenantId?: string; subscription?: { start?: number; end?: number } } = {}) {
  return buildInvoicePreview({ tenantId: extra.tenantId ?? 'acme', plan, period: MONTH, subscription: extra.subscription, measurements, generatedAt: GENERATED });
}

describe('invoice preview properties', () => {
  it('graduated: the total never decreases as an hour is added or grows (numRuns 300)', () => {
    fc.assert(
      fc.property(tiersArb, freeArb, hoursOf('acme', 'd0'), fc.integer({ min: 0, max: 719 }), quantityArb, (tiers, freeAllowance, hours, index, extra) => {
        const plan = planOf([{ kind: 'graduated', tiers, freeAllowance }]);
        const before = previewOf(plan, hours).totalMinor;
        const hour = MONTH.start + index * HOUR;
        const existing = hours.find((h) => h.hour === hour);
        const grown = existing === undefined
          ? [...hours, { tenantId: 'acme', dimension: 'd0', hour, quantity: extra }]
          : hours.map((h) => (h === existing ? { ...h, quantity: BigInt(h.quantity) + BigInt(extra) } : h));
        expect(previewOf(plan, grown).totalMinor >= before).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('volume: the total is the month\'s quantity × the price of the tier it reaches (numRuns 300)', () => {
    fc.assert(
      fc.property(tiersArb, hoursOf('acme', 'd0'), (tiers, hours) => {
        const quantity = sumInMonth(hours, 'acme', 'd0');
        const tier = tiers.find((t) => t.upTo === null || quantity <= t.upTo)!;
        const invoice = previewOf(planOf([{ kind: 'volume', tiers }]), hours);
        expect(invoice.totalMinor).toBe(roundHalfUp(quantity * tier.price.amountMinor, tier.price.per));
      }),
      { numRuns: 300 },
    );
  });

  it('package: the total is ⌈month\'s quantity ÷ size⌉ × price (numRuns 300)', () => {
    fc.assert(
      fc.property(fc.bigInt(1n, 10n ** 9n), fc.bigInt(0n, 10n ** 6n), hoursOf('acme', 'd0'), (packageSize, priceMinor, hours) => {
        const invoice = previewOf(planOf([{ kind: 'package', packageSize, priceMinor }]), hours);
        expect(invoice.totalMinor).toBe(ceilDiv(sumInMonth(hours, 'acme', 'd0'), packageSize) * priceMinor);
      }),
      { numRuns: 300 },
    );
  });

  const spanArb = fc.record(
    {
      start: fc.integer({ min: MONTH.start - 5 * 86_400_000, max: MONTH.end + 86_400_000 }),
      end: fc.integer({ min: MONTH.start - 86_400_000, max: MONTH.end + 5 * 86_400_000 }),
    },
    { requiredKeys: [] },
  );

  it('the total is at least the prorated minimum and equals the sum of the lines plus the top-up; unpriced usage and other tenants change nothing (numRuns 300)', () => {
    const usageArb = fc.tuple(...['d0', 'd1', 'd2', 'x_unpriced'].map((d) => hoursOf('acme', d)), hoursOf('globex', 'd0')).map((lists) => lists.flat());
    fc.assert(
      fc.property(fc.array(chargeArb, { minLength: 1, maxLength: 3 }), fc.bigInt(0n, 10n ** 9n), fc.bigInt(0n, 10n ** 12n), spanArb, usageArb, (charges, flatFeeMinor, minimumCommitmentMinor, span, usage) => {
        const plan = planOf(charges, { flatFeeMinor, minimumCommitmentMinor });
        const invoice = previewOf(plan, usage, { subscription: span });
        const minimum = prorate(minimumCommitmentMinor, coveredFraction(MONTH, span));
        const sumOfLines = invoice.lines.reduce((sum, l) => sum + l.amountMinor, 0n);
        expect(invoice.minimumMinor).toBe(minimum);
        expect(invoice.totalMinor >= minimum).toBe(true);
        expect(invoice.subtotalMinor).toBe(sumOfLines);
        expect(invoice.totalMinor).toBe(sumOfLines + invoice.minimumTopUpMinor);
        expect(invoice.totalMinor).toBe(sumOfLines > minimum ? sumOfLines : minimum);
        for (const u of invoice.usage) expect(u.quantity).toBe(sumInMonth(usage, 'acme', u.dimension));
        // d<charges.length>… and x_unpriced have no charge: listed when acme used them in the month.
        const priced = new Set(plan.charges.map((c) => c.dimension));
        const inMonth = usage.filter((h) => h.tenantId === 'acme' && h.hour >= MONTH.start && h.hour < MONTH.end);
        const unpricedNames = [...new Set(inMonth.map((h) => h.dimension).filter((d) => !priced.has(d)))].sort();
        expect(invoice.unpriced).toEqual(unpricedNames.map((dimension) => ({ dimension, quantity: sumInMonth(usage, 'acme', dimension), amountMinor: 0n })));
        expect(invoice.warnings).toHaveLength(unpricedNames.length + (invoice.proration.numerator === 0n ? 1 : 0));
        const alone = previewOf(plan, usage.filter((h) => h.tenantId === 'acme' && priced.has(h.dimension)), { subscription: span });
        expect([alone.lines, alone.totalMinor]).toEqual([invoice.lines, invoice.totalMinor]);
      }),
      { numRuns: 300 },
    );
  });

  it('the order of the measurements does not matter (numRuns 200)', () => {
    fc.assert(
      fc.property(chargeArb, hoursOf('acme', 'd0'), hoursOf('acme', 'zz'), fc.integer(), (charge, d0, zz, seed) => {
        const plan = planOf([charge]);
        const all = [...d0, ...zz];
        const shuffled = all.map((h, i) => ({ h, key: (i * 2654435761 + seed) % 1_000_003 })).sort((a, b) => a.key - b.key).map(({ h }) => h);
        expect(previewOf(plan, shuffled)).toEqual(previewOf(plan, all));
      }),
      { numRuns: 200 },
    );
  });
});

/** Any non-empty text, including quotes, commas, CR, LF and non-ASCII. */
const textArb = fc.string({ unit: fc.oneof(fc.constantFrom('"', ',', '\r', '\n', '<', '>', '&', "'", ' ', '='), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), minLength: 1, maxLength: 40 });

describe('rendering properties', () => {
  const plan = planOf([{ kind: 'graduated', tiers: [{ upTo: 10, price: 3 }, { upTo: null, price: 1 }] }], { flatFeeMinor: 100 });

  it('CSV reads back to 11 fields a row with the tenant id unchanged, whatever it holds (numRuns 300)', () => {
    fc.assert(
      fc.property(textArb, hoursOf('T', 'd0'), hoursOf('T', 'other'), (tenantId, d0, other) => {
        const usage = [...d0, ...other].map((h) => ({ ...h, tenantId }));
        const invoice = previewOf(plan, usage, { tenantId });
        const rows = readCsv(invoiceCsv(invoice));
        expect(rows.length).toBe(1 + invoice.lines.length + invoice.unpriced.length + 3 + invoice.warnings.length);
        for (const row of rows) expect(row).toHaveLength(11);
        for (const row of rows.slice(1)) expect(row[0]).toBe(tenantId);
        expect(rows.find((row) => row[5] === 'total')![9]).toBe(invoice.totalMinor.toString());
      }),
      { numRuns: 300 },
    );
  });

  it('HTML shows any tenant id escaped, never as markup (numRuns 300)', () => {
    fc.assert(
      fc.property(textArb, (tenantId) => {
        const html = invoiceHtml(previewOf(plan, [], { tenantId }));
        const shown = /<dt>Tenant<\/dt><dd>([^]*?)<\/dd>/.exec(html)![1];
        expect(shown).toBe(escapeHtml(tenantId));
        expect(shown).not.toMatch(/[<>"']/);
        expect(html.match(/<[a-z!/]/gi)!.length).toBe(invoiceHtml(previewOf(plan, [], { tenantId: 'x' })).match(/<[a-z!/]/gi)!.length);
      }),
      { numRuns: 300 },
    );
  });
});
