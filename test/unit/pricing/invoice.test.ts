import { buildInvoicePreview, type InvoicePreview, type InvoicePreviewInput, type UsageHour } from '../../../core/pricing/invoice';
import { InvalidPeriodError, monthNameOf, parseBillingMonth } from '../../../core/pricing/invoice-period';
import { csvField, groupDigits, invoiceCsv, invoiceHtml, invoiceJson, invoiceJsonValue, renderInvoice } from '../../../core/pricing/invoice-render';
import { parsePlan } from '../../../core/pricing/plan-schema';
import { RatingError } from '../../../core/pricing/rating';
import { readCsv } from './read-csv';

const HOUR = 3_600_000;
const NOVEMBER = parseBillingMonth('2026-11');
const at = (day: number, hour: number) => Date.UTC(2026, 10, day, hour);
const AFTER_NOVEMBER = Date.UTC(2026, 11, 2, 9);

/** 10.00 USD a month, at least 50.00; api_requests graduated (2 at 1.00, then 0.10); response_bytes 1¢ per 10. */
const PRO = parsePlan({
  id: 'pro',
  name: 'Pro',
  currency: 'USD',
  flatFeeMinor: 1000,
  minimumCommitmentMinor: 5000,
  charges: [
    { dimension: 'api_requests', kind: 'graduated', tiers: [{ upTo: 2, price: 100 }, { upTo: null, price: 10 }] },
    { dimension: 'response_bytes', kind: 'per_unit', price: { amountMinor: 1, per: 10 } },
  ],
});

const m = (tenantId: string, dimension: string, hour: number, quantity: number | bigint): UsageHour => ({ tenantId, dimension, hour, quantity });

/** acme's November: 7 requests in 4 hours (first and last hour included), 1239 bytes, 5000 tokens the plan does not price. */
const ACME_NOVEMBER: UsageHour[] = [
  m('acme', 'api_requests', at(1, 0), 1), // the period's first hour
  m('acme', 'api_requests', at(1, 10), 2),
  m('acme', 'api_requests', at(1, 11), 3),
  m('acme', 'api_requests', at(30, 23), 1), // the period's last hour
  m('acme', 'response_bytes', at(1, 10), 1234),
  m('acme', 'response_bytes', at(1, 11), 5),
  m('acme', 'tokens', at(5, 3), 5000),
];

/** What must never count for acme in November. */
const NOISE: UsageHour[] = [
  m('acme', 'api_requests', NOVEMBER.start - HOUR, 100), // October's last hour
  m('acme', 'api_requests', NOVEMBER.end, 100), // December's first hour: the end is excluded
  m('globex', 'api_requests', at(1, 10), 1_000_000),
  m('globex', 'storage_gb', at(1, 10), 7),
  m('ACME', 'api_requests', at(1, 10), 1_000),
  m('acme ', 'api_requests', at(1, 10), 1_000),
];

function preview(overrides: Partial<InvoicePreviewInput> = {}): InvoicePreview {
  return buildInvoicePreview({ tenantId: 'acme', plan: PRO, period: NOVEMBER, measurements: [...NOISE, ...ACME_NOVEMBER], generatedAt: AFTER_NOVEMBER, ...overrides });
}

describe('parseBillingMonth', () => {
  it('gives the UTC calendar month', () => {
    expect(parseBillingMonth('2026-11')).toEqual({ month: '2026-11', start: Date.parse('2026-11-01T00:00:00Z'), end: Date.parse('2026-12-01T00:00:00Z') });
    expect(parseBillingMonth('2026-12')).toMatchObject({ start: Date.parse('2026-12-01T00:00:00Z'), end: Date.parse('2027-01-01T00:00:00Z') });
    expect(parseBillingMonth(' 2028-02 ')).toEqual({ month: '2028-02', start: Date.parse('2028-02-01T00:00:00Z'), end: Date.parse('2028-03-01T00:00:00Z') });
    expect(parseBillingMonth('1970-01').start).toBe(0);
    expect(monthNameOf(Date.parse('2026-11-30T23:59:59.999Z'))).toBe('2026-11');
  });

  it.each([
    ['2026-13', '"2026-13" is not a month: the month must be 01 to 12'],
    ['2026-00', '"2026-00" is not a month: the month must be 01 to 12'],
    ['1969-12', '"1969-12" is out of range: the year must be 1970 to 9999'],
    ['2026-1', '"2026-1" is not a month: write YYYY-MM, a calendar month in UTC such as 2026-11'],
    ['2026/11', 'write YYYY-MM'],
    ['2026-11-05', 'write YYYY-MM'],
    ['26-11', 'write YYYY-MM'],
    ['november', 'write YYYY-MM'],
    ['', 'write YYYY-MM'],
    ['+2026-11', 'write YYYY-MM'],
  ])('rejects %j', (text, message) => {
    expect(() => parseBillingMonth(text)).toThrow(InvalidPeriodError);
    expect(() => parseBillingMonth(text)).toThrow(message);
  });
});

describe('buildInvoicePreview', () => {
  it('sums the tenant\'s hours of the period per dimension and rates them', () => {
    const invoice = preview();
    expect(invoice.usage).toEqual([
      { dimension: 'api_requests', quantity: 7n, hours: 4, priced: true },
      { dimension: 'response_bytes', quantity: 1239n, hours: 2, priced: true },
      { dimension: 'tokens', quantity: 5000n, hours: 1, priced: false },
    ]);
    expect(invoice.lines.map((l) => [l.kind, l.quantity, l.amountMinor])).toEqual([
      ['flat_fee', 1n, 1000n],
      ['graduated_tier', 2n, 200n], // 2 × 1.00
      ['graduated_tier', 5n, 50n], // 5 × 0.10
      ['per_unit', 1239n, 124n], // 123.9 → 124
    ]);
    // 1000 + 200 + 50 + 124 = 1374, topped up to the 5000 minimum.
    expect(invoice).toMatchObject({ subtotalMinor: 1374n, minimumMinor: 5000n, minimumTopUpMinor: 3626n, totalMinor: 5000n });
    expect(invoice).toMatchObject({
      tenantId: 'acme',
      plan: { id: 'pro', name: 'Pro' },
      currency: 'USD',
      minorUnitDigits: 2,
      period: { start: '2026-11-01T00:00:00.000Z', end: '2026-12-01T00:00:00.000Z', month: '2026-11' },
      subscription: {},
      proration: { numerator: 1n, denominator: 1n },
      generatedAt: '2026-12-02T09:00:00.000Z',
    });
  });

  it('isolates tenants: other tenants\' hours (even ones whose ids differ only by case or a space) never count', () => {
    expect(preview()).toEqual(preview({ measurements: ACME_NOVEMBER }));
    expect(preview({ measurements: [...ACME_NOVEMBER].reverse() })).toEqual(preview({ measurements: ACME_NOVEMBER }));
    const globex = preview({ tenantId: 'globex' });
    expect(globex.usage).toEqual([
      { dimension: 'api_requests', quantity: 1_000_000n, hours: 1, priced: true },
      { dimension: 'response_bytes', quantity: 0n, hours: 0, priced: true },
      { dimension: 'storage_gb', quantity: 7n, hours: 1, priced: false },
    ]);
    expect(JSON.stringify(invoiceJsonValue(globex))).not.toContain('tokens');
    const nobody = preview({ tenantId: 'initech' });
    expect(nobody.usage.map((u) => u.quantity)).toEqual([0n, 0n]);
    expect(nobody).toMatchObject({ subtotalMinor: 1000n, totalMinor: 5000n, unpriced: [] });
  });

  it('ignores hours outside the period: the start is included, the end excluded', () => {
    const only = (hour: number) => preview({ measurements: [m('acme', 'api_requests', hour, 1)] }).usage[0].quantity;
    expect(only(NOVEMBER.start)).toBe(1n);
    expect(only(NOVEMBER.end - HOUR)).toBe(1n);
    expect(only(NOVEMBER.start - HOUR)).toBe(0n);
    expect(only(NOVEMBER.end)).toBe(0n);
  });

  it('lists usage the plan does not price as unpriced, with a warning, outside the totals', () => {
    const invoice = preview();
    expect(invoice.unpriced).toEqual([{ dimension: 'tokens', quantity: 5000n, amountMinor: 0n }]);
    expect(invoice.warnings).toEqual(['Usage of tokens (5000 units) is not priced by plan pro: listed as unpriced and not charged.']);
    const withoutTokens = preview({ measurements: ACME_NOVEMBER.filter((x) => x.dimension !== 'tokens') });
    expect(withoutTokens.unpriced).toEqual([]);
    expect(withoutTokens.warnings).toEqual([]);
    expect([withoutTokens.lines, withoutTokens.totalMinor]).toEqual([invoice.lines, invoice.totalMinor]);
  });

  it('sums exactly beyond 2^53', () => {
    const max = Number.MAX_SAFE_INTEGER;
    const invoice = preview({ measurements: [0, 1, 2, 3].map((h) => m('acme', 'response_bytes', at(2, h), max)) });
    expect(invoice.usage[1].quantity).toBe(4n * BigInt(max)); // 36028797018963964
    // 36028797018963964 / 10 = 3602879701896396.4 → 3602879701896396.
    expect(invoice.lines.at(-1)!.amountMinor).toBe(3602879701896396n);
  });

  it('prorates for a subscription that starts or ends in the period and shows its bounds', () => {
    const started = preview({ subscription: { start: at(16, 0) } });
    expect(started.proration).toEqual({ numerator: 1n, denominator: 2n });
    expect(started.subscription).toEqual({ start: '2026-11-16T00:00:00.000Z' });
    // Fee 500; usage 374; minimum 2500.
    expect(started).toMatchObject({ subtotalMinor: 874n, minimumMinor: 2500n, minimumTopUpMinor: 1626n, totalMinor: 2500n });
    const ended = preview({ subscription: { start: Date.UTC(2025, 0, 1), end: at(11, 0) } });
    expect(ended.proration).toEqual({ numerator: 1n, denominator: 3n });
    expect(ended.subscription).toEqual({ start: '2025-01-01T00:00:00.000Z', end: '2026-11-11T00:00:00.000Z' });
  });

  it('warns when the period has not ended and when the subscription does not cover it', () => {
    expect(preview({ generatedAt: at(15, 12) }).warnings).toContain('The period has not ended (preview generated 2026-11-15T12:00:00.000Z): usage so far only.');
    expect(preview({ generatedAt: NOVEMBER.end }).warnings.some((w) => w.startsWith('The period has not ended'))).toBe(false);
    const outside = preview({ subscription: { end: NOVEMBER.start } });
    expect(outside.warnings).toContain('The subscription did not cover any of the period: no flat fee or minimum commitment.');
    expect(outside).toMatchObject({ subtotalMinor: 374n, minimumMinor: 0n, totalMinor: 374n });
  });

  it('names no month for a period that is not one calendar month', () => {
    expect(preview({ period: { start: at(1, 0), end: at(8, 0) } }).period).toEqual({ start: '2026-11-01T00:00:00.000Z', end: '2026-11-08T00:00:00.000Z' });
  });

  it('refuses a tenant × dimension × hour given twice, an invalid quantity, an empty tenant or period', () => {
    expect(() => preview({ measurements: [...ACME_NOVEMBER, m('acme', 'tokens', at(5, 3), 1)] })).toThrow(RatingError);
    expect(() => preview({ measurements: [...ACME_NOVEMBER, m('acme', 'tokens', at(5, 3), 1)] })).toThrow('usage of tokens at 2026-11-05T03:00:00.000Z is given twice for tenant acme');
    expect(() => preview({ measurements: [m('acme', 'tokens', at(5, 3), -1)] })).toThrow('is not a non-negative integer: -1');
    expect(() => preview({ measurements: [m('acme', 'tokens', at(5, 3), 1.5)] })).toThrow(RatingError);
    expect(() => preview({ measurements: [m('acme', 'tokens', Number.NaN, 1)] })).toThrow('has no valid hour');
    expect(() => preview({ tenantId: '' })).toThrow('the tenant id is empty');
    expect(() => preview({ period: { start: at(2, 0), end: at(2, 0) } })).toThrow(RangeError);
    expect(() => preview({ generatedAt: Number.NaN })).toThrow(RangeError);
    expect(() => preview({ subscription: { start: Number.POSITIVE_INFINITY } })).toThrow('subscription start is not a time');
  });

  it('accepts bigint quantities and ignores a bad measurement of another tenant', () => {
    const invoice = preview({ measurements: [m('acme', 'response_bytes', at(2, 0), 2n ** 60n), m('globex', 'tokens', at(2, 0), -5)] });
    expect(invoice.usage[1].quantity).toBe(2n ** 60n);
  });
});

describe('invoiceJson', () => {
  it('writes bigints as decimal strings next to formatted amounts', () => {
    const text = invoiceJson(preview());
    expect(text.endsWith('}\n')).toBe(true);
    expect(JSON.parse(text)).toEqual({
      tenantId: 'acme',
      plan: { id: 'pro', name: 'Pro' },
      currency: 'USD',
      minorUnitDigits: 2,
      period: { start: '2026-11-01T00:00:00.000Z', end: '2026-12-01T00:00:00.000Z', month: '2026-11' },
      subscription: {},
      proration: { numerator: '1', denominator: '1' },
      usage: [
        { dimension: 'api_requests', quantity: '7', hours: 4, priced: true },
        { dimension: 'response_bytes', quantity: '1239', hours: 2, priced: true },
        { dimension: 'tokens', quantity: '5000', hours: 1, priced: false },
      ],
      lines: [
        { kind: 'flat_fee', dimension: null, description: 'Flat fee 10.00 USD', quantity: '1', amountMinor: '1000', amount: '10.00 USD' },
        { kind: 'graduated_tier', dimension: 'api_requests', description: 'api_requests: tier 1 (1-2), 2 units at 1.00 USD per unit', quantity: '2', amountMinor: '200', amount: '2.00 USD' },
        { kind: 'graduated_tier', dimension: 'api_requests', description: 'api_requests: tier 2 (3+), 5 units at 0.10 USD per unit', quantity: '5', amountMinor: '50', amount: '0.50 USD' },
        { kind: 'per_unit', dimension: 'response_bytes', description: 'response_bytes: 1239 units at 0.01 USD per 10 units', quantity: '1239', amountMinor: '124', amount: '1.24 USD' },
      ],
      unpriced: [{ dimension: 'tokens', quantity: '5000', amountMinor: '0', amount: '0.00 USD', warning: 'tokens is not priced by plan pro: not charged' }],
      subtotalMinor: '1374',
      subtotal: '13.74 USD',
      minimumMinor: '5000',
      minimum: '50.00 USD',
      minimumTopUpMinor: '3626',
      minimumTopUp: '36.26 USD',
      totalMinor: '5000',
      total: '50.00 USD',
      warnings: ['Usage of tokens (5000 units) is not priced by plan pro: listed as unpriced and not charged.'],
      generatedAt: '2026-12-02T09:00:00.000Z',
    });
  });

  it('keeps amounts beyond 2^53 exact', () => {
    const big = preview({ measurements: [m('acme', 'response_bytes', at(2, 0), 2n ** 70n)] });
    const json = JSON.parse(invoiceJson(big));
    expect(json.usage[1].quantity).toBe((2n ** 70n).toString());
    // 2^70 / 10 = 118059162071741130342.4 → 118059162071741130342; + 1000 flat fee.
    expect(json.totalMinor).toBe('118059162071741131342');
    expect(json.total).toBe('1180591620717411313.42 USD');
  });
});

describe('invoiceCsv', () => {
  const fixed = 'acme,2026-11-01T00:00:00.000Z,2026-12-01T00:00:00.000Z,pro,USD';

  it('writes a header, one row per line, the unpriced usage, the totals and the warnings (CRLF, RFC 4180 quoting)', () => {
    expect(invoiceCsv(preview())).toBe([
      'tenant_id,period_start,period_end,plan_id,currency,kind,dimension,description,quantity,amount_minor,amount',
      `${fixed},flat_fee,,Flat fee 10.00 USD,1,1000,10.00 USD`,
      `${fixed},graduated_tier,api_requests,"api_requests: tier 1 (1-2), 2 units at 1.00 USD per unit",2,200,2.00 USD`,
      `${fixed},graduated_tier,api_requests,"api_requests: tier 2 (3+), 5 units at 0.10 USD per unit",5,50,0.50 USD`,
      `${fixed},per_unit,response_bytes,response_bytes: 1239 units at 0.01 USD per 10 units,1239,124,1.24 USD`,
      `${fixed},unpriced,tokens,WARNING: tokens is not priced by plan pro: not charged,5000,0,0.00 USD`,
      `${fixed},subtotal,,Subtotal,,1374,13.74 USD`,
      `${fixed},minimum_top_up,,Top-up to the minimum commitment of 50.00 USD,,3626,36.26 USD`,
      `${fixed},total,,Total,,5000,50.00 USD`,
      `${fixed},warning,,Usage of tokens (5000 units) is not priced by plan pro: listed as unpriced and not charged.,,,`,
      '',
    ].join('\r\n'));
  });

  it('quotes fields with quotes, commas and line breaks, and reads back to the same values', () => {
    const tenant = 'evil "corp", inc\r\nline 2\n=cmd';
    const csv = invoiceCsv(preview({ tenantId: tenant, measurements: ACME_NOVEMBER.map((x) => ({ ...x, tenantId: tenant })), subscription: { start: at(16, 0) } }));
    expect(csv.slice(csv.indexOf('\r\n') + 2).startsWith('"evil ""corp"", inc\r\nline 2\n=cmd",')).toBe(true);
    const rows = readCsv(csv);
    expect(rows).toHaveLength(10);
    for (const row of rows) expect(row).toHaveLength(11);
    expect(rows.slice(1).every((row) => row[0] === tenant)).toBe(true);
    expect(rows.find((row) => row[5] === 'minimum_top_up')![7]).toBe('Top-up to the minimum commitment of 25.00 USD, prorated 1/2');
    expect(rows.find((row) => row[5] === 'total')!.slice(9)).toEqual(['2500', '25.00 USD']);
  });

  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\r', '"cr\r"'],
    ['', ''],
    [' spaced ', ' spaced '],
  ])('csvField(%j) is %j', (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });
});

describe('invoiceHtml', () => {
  const hostile = '<script>alert("x")</script>\'&';
  const hostilePlan = parsePlan({ ...{ id: 'pro', name: 'Pro "<b>bold</b>" & co', currency: 'USD' }, charges: PRO.charges.map((c) => ({ ...c })) });

  it('is a self-contained page: no script, no external asset, a policy that loads nothing', () => {
    const html = invoiceHtml(preview());
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\ssrc=|\shref=|url\(|https?:\/\//i);
  });

  it('shows the facts, every line, the totals, the usage and the unpriced usage with its warning', () => {
    const html = invoiceHtml(preview({ measurements: [...ACME_NOVEMBER, m('acme', 'response_bytes', at(3, 0), 1_000_000)] }));
    expect(html).toContain('<title>Invoice preview: acme, 2026-11</title>');
    expect(html).toContain('<dt>Plan</dt><dd>Pro (pro)</dd>');
    expect(html).toContain('<dt>Share of the period</dt><dd>1/1</dd>');
    expect(html).toContain('<td>api_requests: tier 2 (3+), 5 units at 0.10 USD per unit</td><td>graduated_tier</td><td class="num">5</td><td class="num">0.50 USD</td>');
    expect(html).toContain('<td class="num">1,001,239</td>'); // grouped digits
    // 1000 + 200 + 50 + 100124 (1001239 / 10, rounded): over the minimum.
    expect(html).toContain('<tr class="total"><th colspan="3">Total</th><td class="num">1013.74 USD</td></tr>');
    expect(html).toContain('<tr class="unpriced"><td>tokens <span class="tag">unpriced</span></td><td>unpriced</td><td class="num">5,000</td><td class="num">0.00 USD</td></tr>');
    expect(html).toContain('<section class="warnings" role="alert"><h2>Warnings</h2><ul><li>Usage of tokens (5000 units) is not priced by plan pro: listed as unpriced and not charged.</li></ul></section>');
  });

  it('escapes every text value: tenant id, plan name, descriptions, warnings', () => {
    const built = preview({ tenantId: hostile, plan: hostilePlan, measurements: ACME_NOVEMBER.map((x) => ({ ...x, tenantId: hostile })) });
    const crafted: InvoicePreview = {
      ...built,
      lines: [{ ...built.lines[0], description: `Fee for ${hostile}` }],
      warnings: [`${hostile} warned`],
      generatedAt: '<i>now</i>',
    };
    const html = invoiceHtml(crafted);
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<b>');
    expect(html).not.toContain('<i>');
    expect(html).not.toContain('alert("x")');
    const escaped = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;';
    expect(html).toContain(`<title>Invoice preview: ${escaped}, 2026-11</title>`);
    expect(html).toContain(`<dt>Tenant</dt><dd>${escaped}</dd>`);
    expect(html).toContain('<dd>Pro &quot;&lt;b&gt;bold&lt;/b&gt;&quot; &amp; co (pro)</dd>');
    expect(html).toContain(`<td>Fee for ${escaped}</td>`);
    expect(html).toContain(`<li>${escaped} warned</li>`);
    expect(html).toContain('<dd>&lt;i&gt;now&lt;/i&gt;</dd>');
  });

  it('states the subscription bounds and the proration', () => {
    const html = invoiceHtml(preview({ subscription: { start: at(16, 0) } }));
    expect(html).toContain('<dt>Subscription</dt><dd>from 2026-11-16T00:00:00.000Z</dd>');
    expect(html).toContain('<dt>Share of the period</dt><dd>1/2 (flat fee and minimum prorated)</dd>');
    expect(html).toContain('<th colspan="3">Top-up to the minimum commitment of 25.00 USD, prorated 1/2</th>');
  });
});

describe('renderInvoice', () => {
  it('dispatches on the format', () => {
    const invoice = preview();
    expect(renderInvoice(invoice, 'json')).toBe(invoiceJson(invoice));
    expect(renderInvoice(invoice, 'csv')).toBe(invoiceCsv(invoice));
    expect(renderInvoice(invoice, 'html')).toBe(invoiceHtml(invoice));
  });

  it('groups digits without locale data', () => {
    expect([0n, 999n, 1000n, 1234567n, 2n ** 64n].map(groupDigits)).toEqual(['0', '999', '1,000', '1,234,567', '18,446,744,073,709,551,616']);
  });
});
