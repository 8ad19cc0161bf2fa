/**
 * The report's SVG charts: accessible structure, marks that carry their exact figures, geometry to
 * scale (grouped, stacked with negatives, lines), zero and huge values, many series, escaping of any
 * text, and clear errors for inputs that cannot be drawn.
 */
import fc from 'fast-check';
import { barChart, ChartError, compactNumber, lineChart, niceScale, seriesColor, type ChartInput } from '../../../local/report/svg-charts';
import { tokenizeMarkup, type MarkupToken } from '../../support/report-page';

type StartToken = Extract<MarkupToken, { kind: 'start' }>;

const starts = (html: string) => tokenizeMarkup(html).filter((t): t is StartToken => t.kind === 'start');
const marks = (html: string) => starts(html).filter((t) => (t.name === 'rect' || t.name === 'circle') && t.attributes['data-value'] !== undefined);
const num = (value: string | undefined) => {
  const n = Number(value);
  if (value === undefined || !Number.isFinite(n)) throw new Error(`not a number: ${value}`);
  return n;
};

/** Every element and attribute the charts may write: anything else (a script, an event handler) fails. */
const ELEMENTS = new Set(['figure', 'div', 'svg', 'title', 'desc', 'line', 'text', 'g', 'rect', 'circle', 'polyline', 'figcaption', 'span', 'ul', 'li']);
const ATTRIBUTES = /^(class|id|role|aria-label|aria-describedby|aria-hidden|focusable|viewBox|width|height|preserveAspectRatio|xmlns|style|x|y|x1|x2|y1|y2|cx|cy|r|rx|points|fill|stroke|text-anchor|dominant-baseline|transform|data-[a-z][a-z0-9-]*)$/;

function assertOnlyKnownMarkup(html: string): void {
  for (const token of starts(html)) {
    expect(ELEMENTS.has(token.name)).toBe(true);
    for (const name of Object.keys(token.attributes)) expect(name).toMatch(ATTRIBUTES);
  }
}

const BASE: Omit<ChartInput, 'categories' | 'series' | 'values'> = {
  id: 'chart-a',
  title: 'api_requests per tenant',
  description: 'What each tenant used.',
  xLabel: 'Tenant',
  yLabel: 'Requests',
};
const SERIES = [
  { key: 'sent', label: 'Sent', color: '#57606a' },
  { key: 'billed', label: 'Billed', color: '#e69f00' },
];
const TENANTS = [{ key: 'acme', label: 'acme' }, { key: 'globex', label: 'globex' }];

describe('accessible structure', () => {
  const html = barChart({
    ...BASE,
    layout: 'grouped',
    categories: TENANTS,
    series: SERIES,
    values: [{ category: 'acme', series: 'sent', value: 10n, data: { tenant: 'acme' } }],
  });

  it('is a figure with an SVG image that has a label, a title, a description and an HTML legend', () => {
    const tokens = starts(html);
    const svg = tokens.find((t) => t.name === 'svg' && t.attributes.class === 'chart-svg');
    expect(svg?.attributes).toMatchObject({ role: 'img', 'aria-label': BASE.title, 'aria-describedby': 'chart-a-desc' });
    expect(tokens.find((t) => t.name === 'title')?.attributes.id).toBe('chart-a-title');
    expect(tokens.find((t) => t.name === 'desc')?.attributes.id).toBe('chart-a-desc');
    expect(html).toContain(`<desc id="chart-a-desc">${BASE.description}</desc>`);
    expect(html).toMatch(/<figcaption>.*<ul class="chart-legend" aria-label="Legend"><li>.*Sent<\/li><li>.*Billed<\/li><\/ul><\/figcaption>/s);
    // Axis labels are in the picture.
    expect(html).toContain('>Requests</text>');
    expect(html).toContain('>Tenant</text>');
    assertOnlyKnownMarkup(html);
  });

  it('gives every mark its exact value, its keys and a tooltip', () => {
    const [mark] = marks(html);
    expect(mark.attributes).toMatchObject({ 'data-series': 'sent', 'data-category': 'acme', 'data-value': '10', 'data-tenant': 'acme' });
    expect(html).toMatch(/<rect class="bar"[^>]*><title>Sent · acme: 10<\/title><\/rect>/);
  });
});

describe('grouped bars', () => {
  it('draws every value to scale from the zero line, side by side', () => {
    const values = [
      { category: 'acme', series: 'sent', value: 100n },
      { category: 'acme', series: 'billed', value: 50n },
      { category: 'globex', series: 'sent', value: 0n },
      { category: 'globex', series: 'billed', value: 25n },
    ];
    const html = barChart({ ...BASE, layout: 'grouped', categories: TENANTS, series: SERIES, values });
    const bars = marks(html);
    expect(bars.map((b) => b.attributes['data-value'])).toEqual(['100', '50', '0', '25']);
    const bottom = bars.map((b) => num(b.attributes.y) + num(b.attributes.height));
    // All stand on the same baseline.
    for (const b of bottom) expect(b).toBeCloseTo(bottom[0], 1);
    const height = (i: number) => num(bars[i].attributes.height);
    expect(height(2)).toBe(0);
    expect(height(1) / height(0)).toBeCloseTo(0.5, 3);
    expect(height(3) / height(0)).toBeCloseTo(0.25, 3);
    // Side by side within a category.
    expect(num(bars[1].attributes.x)).toBeGreaterThan(num(bars[0].attributes.x));
    expect(num(bars[2].attributes.x)).toBeGreaterThan(num(bars[1].attributes.x));
  });

  it('draws negative values below the zero line', () => {
    const html = barChart({
      ...BASE,
      layout: 'grouped',
      categories: TENANTS,
      series: [{ key: 'margin', label: 'Margin', color: '#009e73' }],
      values: [{ category: 'acme', series: 'margin', value: 300n }, { category: 'globex', series: 'margin', value: -100n }],
    });
    const [positive, negative] = marks(html);
    const zero = starts(html).find((t) => t.name === 'line' && t.attributes.class === 'zero');
    const zeroY = num(zero?.attributes.y1);
    expect(num(positive.attributes.y) + num(positive.attributes.height)).toBeCloseTo(zeroY, 1);
    expect(num(negative.attributes.y)).toBeCloseTo(zeroY, 1);
    expect(num(negative.attributes.height) / num(positive.attributes.height)).toBeCloseTo(1 / 3, 3);
  });
});

describe('stacked bars', () => {
  it('piles the values of a category so the pile is as tall as their sum', () => {
    const values = [
      { category: 'acme', series: 'sent', value: 30n },
      { category: 'acme', series: 'billed', value: 70n },
      { category: 'globex', series: 'sent', value: 50n },
    ];
    const html = barChart({ ...BASE, layout: 'stacked', categories: TENANTS, series: SERIES, values });
    const [a1, a2, g1] = marks(html);
    // The second segment sits right on top of the first.
    expect(num(a2.attributes.y) + num(a2.attributes.height)).toBeCloseTo(num(a1.attributes.y), 1);
    const pile = num(a1.attributes.height) + num(a2.attributes.height);
    expect(num(g1.attributes.height) / pile).toBeCloseTo(0.5, 3);
    expect(a1.attributes.x).toBe(a2.attributes.x);
  });
});

describe('line chart', () => {
  it('puts a point per value and joins each series in category order, skipping missing values', () => {
    const hours = ['10', '11', '12'].map((h) => ({ key: `2026-11-03T${h}:00:00.000Z`, label: `${h}:00` }));
    const html = lineChart({
      ...BASE,
      categories: hours,
      series: [{ key: 'acme', label: 'acme', color: seriesColor(0) }, { key: 'globex', label: 'globex', color: seriesColor(1) }],
      values: [
        { category: hours[0].key, series: 'acme', value: 10n, data: { hour: hours[0].key } },
        { category: hours[2].key, series: 'acme', value: 30n, data: { hour: hours[2].key } },
        { category: hours[1].key, series: 'globex', value: 20n },
      ],
    });
    const points = marks(html);
    expect(points.map((p) => p.attributes['data-value'])).toEqual(['10', '30', '20']);
    expect(points[0].attributes['data-hour']).toBe(hours[0].key);
    const lines = starts(html).filter((t) => t.name === 'polyline');
    // globex has one point: no line; acme's line joins its two points.
    expect(lines.map((l) => l.attributes['data-series'])).toEqual(['acme']);
    expect(lines[0].attributes.points).toBe(`${points[0].attributes.cx},${points[0].attributes.cy} ${points[1].attributes.cx},${points[1].attributes.cy}`);
    // y grows downwards: 30 is higher than 10, 20 in between.
    const y = points.map((p) => num(p.attributes.cy));
    expect(y[1]).toBeLessThan(y[2]);
    expect(y[2]).toBeLessThan(y[0]);
  });
});

describe('edge cases', () => {
  it('draws all-zero values on a 0 to 1 axis', () => {
    const html = barChart({ ...BASE, layout: 'grouped', categories: TENANTS, series: SERIES, values: [{ category: 'acme', series: 'sent', value: 0n }] });
    expect(marks(html)[0].attributes.height).toBe('0');
    const ticks = [...html.matchAll(/<text class="tick"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(ticks).toEqual(['0', '1']);
  });

  it('says "No data" when there is nothing to draw', () => {
    const html = lineChart({ ...BASE, categories: [], series: [], values: [] });
    expect(html).toContain('>No data</text>');
    assertOnlyKnownMarkup(html);
  });

  it('keeps numbers beyond 2^53 exact in data-value and tooltips, and draws them to scale', () => {
    const big = 2n ** 64n + 1n; // 18446744073709551617
    const half = big / 2n;
    const html = barChart({
      ...BASE,
      layout: 'grouped',
      categories: TENANTS,
      series: [SERIES[0]],
      values: [{ category: 'acme', series: 'sent', value: big }, { category: 'globex', series: 'sent', value: half }],
    });
    const [a, g] = marks(html);
    expect(a.attributes['data-value']).toBe('18446744073709551617');
    expect(html).toContain('<title>Sent · acme: 18,446,744,073,709,551,617</title>');
    expect(num(g.attributes.height) / num(a.attributes.height)).toBeCloseTo(0.5, 3);
    // Ticks are round and short.
    const ticks = [...html.matchAll(/<text class="tick"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(ticks).toEqual(['0', '5E', '10E', '15E', '20E']);
  });

  it('handles one series and many (25): distinct colours, a legend entry each, wider chart that scrolls', () => {
    const many = Array.from({ length: 25 }, (_, i) => ({ key: `tenant-${i}`, label: `tenant-${i}` }));
    const colours = many.map((_, i) => seriesColor(i));
    expect(new Set(colours).size).toBe(25);
    const html = barChart({
      ...BASE,
      layout: 'grouped',
      categories: many,
      series: [{ key: 'cost', label: 'Cost', color: colours[0] }, { key: 'revenue', label: 'Revenue', color: colours[1] }, { key: 'margin', label: 'Margin', color: colours[2] }],
      values: many.flatMap((c, i) => [{ category: c.key, series: 'cost', value: BigInt(i) }, { category: c.key, series: 'revenue', value: BigInt(i * 2) }, { category: c.key, series: 'margin', value: BigInt(i) }]),
    });
    expect(marks(html)).toHaveLength(75);
    const svg = starts(html).find((t) => t.name === 'svg' && t.attributes.class === 'chart-svg');
    expect(num(svg?.attributes.width)).toBeGreaterThan(480);
    expect(svg?.attributes.style).toMatch(/^min-width:\d+px$/);
    const single = lineChart({ ...BASE, categories: TENANTS, series: [SERIES[0]], values: [{ category: 'acme', series: 'sent', value: 5n }] });
    expect(marks(single)).toHaveLength(1);
    expect(single.match(/<li>/g)).toHaveLength(1);
  });

  it('gives the same markup for the same input', () => {
    const input = { ...BASE, layout: 'stacked' as const, categories: TENANTS, series: SERIES, values: [{ category: 'acme', series: 'sent', value: 7n }] };
    expect(barChart(input)).toBe(barChart(input));
  });
});

describe('inputs that cannot be drawn', () => {
  const draw = (input: Partial<ChartInput>) => () => barChart({ ...BASE, layout: 'grouped', categories: TENANTS, series: SERIES, values: [], ...input });
  it.each<[string, Partial<ChartInput>, RegExp]>([
    ['a bad id', { id: 'Chart 1' }, /id must be a lowercase letter/],
    ['an unknown category', { values: [{ category: 'nobody', series: 'sent', value: 1n }] }, /unknown category "nobody"/],
    ['an unknown series', { values: [{ category: 'acme', series: 'other', value: 1n }] }, /unknown series "other"/],
    ['a repeated value', { values: [{ category: 'acme', series: 'sent', value: 1n }, { category: 'acme', series: 'sent', value: 2n }] }, /two values in category "acme"/],
    ['a repeated category', { categories: [TENANTS[0], TENANTS[0]] }, /category "acme" is given twice/],
    ['a colour that is not #rrggbb', { series: [{ key: 's', label: 'S', color: 'red;background:url(x)' }] }, /not #rrggbb/],
    ['a bad data attribute name', { values: [{ category: 'acme', series: 'sent', value: 1n, data: { 'on click': 'x' } }] }, /data attribute name "on click"/],
    ['a reserved data attribute name', { values: [{ category: 'acme', series: 'sent', value: 1n, data: { value: '2' } }] }, /data attribute name "value"/],
    ['a value that is not a bigint', { values: [{ category: 'acme', series: 'sent', value: 1 as unknown as bigint }] }, /is not a bigint/],
  ])('refuses %s with a ChartError', (_, input, message) => {
    expect(draw(input)).toThrow(ChartError);
    expect(draw(input)).toThrow(message);
  });
});

describe('compactNumber and niceScale', () => {
  it.each<[bigint, string]>([
    [0n, '0'], [950n, '950'], [1000n, '1k'], [1500n, '1.5k'], [25_000_000n, '25M'], [-2000n, '-2k'],
    [1_234_567n, '1.234M'], [5n * 10n ** 18n, '5E'], [10n ** 24n, '1Y'], [15n * 10n ** 29n, '1.5e30'],
  ])('compactNumber(%s) is %s', (value, text) => {
    expect(compactNumber(value)).toBe(text);
  });

  /** Parses a compact label back to an exact value. */
  function parseCompact(text: string): bigint {
    const sci = /^(-?)(\d)(?:\.(\d+))?e(\d+)$/.exec(text);
    if (sci !== null) {
      const fraction = sci[3] ?? '';
      const value = BigInt(`${sci[2]}${fraction}`) * 10n ** BigInt(Number(sci[4]) - fraction.length);
      return sci[1] === '-' ? -value : value;
    }
    const match = /^(-?)(\d+)(?:\.(\d+))?([kMGTPEZY]?)$/.exec(text);
    if (match === null) throw new Error(`not compact: ${text}`);
    const power = 3 * ' kMGTPEZY'.indexOf(match[4] === '' ? ' ' : match[4]);
    const fraction = match[3] ?? '';
    const value = BigInt(`${match[2]}${fraction}`) * 10n ** BigInt(power - fraction.length);
    return match[1] === '-' ? -value : value;
  }

  it('labels every tick of every scale exactly (numRuns 1000)', () => {
    fc.assert(
      fc.property(fc.bigInt(-(10n ** 40n), 0n), fc.bigInt(0n, 10n ** 40n), (low, high) => {
        const { bottom, top, step } = niceScale(low, high);
        expect(bottom <= low && top >= high).toBe(true);
        expect((top - bottom) / step <= 5n).toBe(true);
        expect(/^[125]0*$/.test(step.toString())).toBe(true);
        for (let t = bottom; t <= top; t += step) expect(parseCompact(compactNumber(t))).toBe(t);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('escaping (numRuns 300)', () => {
  const text = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "a & b ' c", '</title><script>', '\u0000\u001b[31m'));
  it('writes any labels, keys and data as inert text: only the chart markup remains', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(text, { minLength: 1, maxLength: 5 }),
        fc.uniqueArray(text, { minLength: 1, maxLength: 3 }),
        text,
        fc.boolean(),
        (categoryKeys, seriesKeys, label, line) => {
          const input: ChartInput = {
            id: 'c',
            title: label,
            description: label,
            xLabel: label,
            yLabel: label,
            categories: categoryKeys.map((key) => ({ key, label: key })),
            series: seriesKeys.map((key, i) => ({ key, label: key, color: seriesColor(i) })),
            values: categoryKeys.flatMap((c, i) => seriesKeys.map((s, j) => ({ category: c, series: s, value: BigInt(i * 7 + j), data: { tenant: c, dimension: label } }))),
          };
          const html = line ? lineChart(input) : barChart({ ...input, layout: 'stacked' });
          assertOnlyKnownMarkup(html);
          const found = marks(html);
          expect(found).toHaveLength(categoryKeys.length * seriesKeys.length);
          // Keys come back whole (escaping drops only control characters HTML forbids).
          // eslint-disable-next-line no-control-regex
          const clean = (s: string) => s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '').replace(/[\uD800-\uDFFF]/g, '\uFFFD');
          const expected = categoryKeys.flatMap((c) => seriesKeys.map((s) => `${clean(c)}|${clean(s)}`));
          const surrogateFree = [...categoryKeys, ...seriesKeys].every((k) => !/[\uD800-\uDFFF]/.test(k));
          if (surrogateFree) expect(found.map((m) => `${m.attributes['data-category']}|${m.attributes['data-series']}`).sort()).toEqual(expected.sort());
        },
      ),
      { numRuns: 300 },
    );
  });
});
