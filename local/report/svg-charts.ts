/**
 * Inline SVG charts for the run report: pure functions from values to markup, no script and no
 * external asset, so the page stays one self-contained file that renders anywhere.
 *
 * - Accessible: every chart is a `<figure>` whose `<svg role="img">` has an `aria-label`, a `<title>`
 *   and a `<desc>`; each bar or point has its own `<title>` (the tooltip) with the exact figure, and the
 *   legend is an HTML list in the `<figcaption>` (it wraps on narrow screens).
 * - Readable back: each bar and point carries `data-series`, `data-category`, `data-value` (the exact
 *   decimal integer) and the caller's own `data-*` attributes (tenant, dimension, hour), so a test can
 *   read a chart's figures from the DOM and compare them with the model.
 * - Exact where it matters: values are `bigint` (quantities and amounts beyond 2^53); only the pixel
 *   positions are rounded, computed from bigint ratios. Axis ticks are round numbers (1, 2 or 5 × 10^k)
 *   labelled compactly (`1.5M`); the exact figures are in the titles and the page's tables.
 * - Deterministic: the same input gives the same markup; colours come from the series' index
 *   ({@link seriesColor}), so a tenant keeps its colour in every chart of a report.
 *
 * Every text is HTML-escaped; nothing the caller passes reaches an unquoted attribute or a script.
 */
import { escapeHtml } from '../../core/marketplace/registration-escape';
import { groupDigits } from '../../core/pricing/invoice-render';

/** A group on the x axis (a tenant, an hour). */
export interface ChartCategory {
  readonly key: string;
  readonly label: string;
}

/** A series drawn in every category (a tenant, "billed"); its colour is a `#rrggbb` hex colour. */
export interface ChartSeries {
  readonly key: string;
  readonly label: string;
  readonly color: string;
}

/** One figure: a bar segment or a point. A category × series pair appears at most once. */
export interface ChartValue {
  readonly category: string;
  readonly series: string;
  readonly value: bigint;
  /** Extra `data-*` attributes, names without the prefix (`{ tenant: 'acme' }` → `data-tenant="acme"`). */
  readonly data?: Readonly<Record<string, string>>;
  /** The figure as the tooltip shows it; the value with grouped digits by default. */
  readonly text?: string;
}

/** What every chart takes. */
export interface ChartInput {
  /** Unique in the page: a lowercase letter, then lowercase letters, digits or `-`. */
  readonly id: string;
  readonly title: string;
  /** A sentence saying what the chart shows (the SVG's `<desc>`). */
  readonly description: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly categories: readonly ChartCategory[];
  readonly series: readonly ChartSeries[];
  readonly values: readonly ChartValue[];
  /** Labels of the y axis ticks; {@link compactNumber} by default. */
  readonly tickLabel?: (value: bigint) => string;
}

/** Bars side by side per category (`grouped`) or piled up (`stacked`, negatives below zero). */
export type BarLayout = 'grouped' | 'stacked';

/** A chart input that cannot be drawn: an unknown key, a repeated figure, a bad id, colour or attribute name. */
export class ChartError extends Error {
  constructor(chartId: string, message: string) {
    super(`chart ${chartId}: ${message}`);
    this.name = 'ChartError';
  }
}

const ID = /^[a-z][a-z0-9-]{0,99}$/;
const COLOR = /^#[0-9a-f]{6}$/i;
const DATA_NAME = /^[a-z][a-z0-9-]{0,39}$/;
const RESERVED_DATA = new Set(['series', 'category', 'value']);

/** Colour-blind-friendly first colours; later series get hues spread by the golden angle. */
const PALETTE = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#7a6a00', '#6a3d9a', '#1b7837', '#b2182b'];

/** The colour of the `index`-th series (0-based): distinct, stable and dark enough on white. */
export function seriesColor(index: number): string {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`series index must be a non-negative integer: ${index}`);
  if (index < PALETTE.length) return PALETTE[index];
  const hue = ((index - PALETTE.length) * 137.508) % 360;
  const lightness = [0.38, 0.46, 0.3][index % 3];
  return hslToHex(hue, 0.65, lightness);
}

function hslToHex(hue: number, saturation: number, lightness: number): string {
  const a = saturation * Math.min(lightness, 1 - lightness);
  const channel = (n: number) => {
    const k = (n + hue / 30) % 12;
    const value = lightness - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(value * 255).toString(16).padStart(2, '0');
  };
  return `#${channel(0)}${channel(8)}${channel(4)}`;
}

const SUFFIXES = ['', 'k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'];

/**
 * A short label for an integer: `950`, `1.5k`, `25M`, `1.23E`…; up to three decimals, exact when the
 * value has at most three significant digits after the suffix's unit (round tick values always do),
 * otherwise cut (never rounded up). Beyond 10^27, scientific notation (`1.5e30`).
 */
export function compactNumber(value: bigint): string {
  const sign = value < 0n ? '-' : '';
  const abs = value < 0n ? -value : value;
  const digits = abs.toString();
  const group = Math.floor((digits.length - 1) / 3);
  if (group < SUFFIXES.length) {
    if (group === 0) return `${sign}${digits}`;
    const unit = 1000n ** BigInt(group);
    const fraction = ((abs % unit) * 1000n / unit).toString().padStart(3, '0').replace(/0+$/, '');
    return `${sign}${abs / unit}${fraction === '' ? '' : `.${fraction}`}${SUFFIXES[group]}`;
  }
  const mantissa = digits.slice(1, 4).replace(/0+$/, '');
  return `${sign}${digits[0]}${mantissa === '' ? '' : `.${mantissa}`}e${digits.length - 1}`;
}

/** Round axis bounds and step: at most `maxSteps` steps of 1, 2 or 5 × 10^k covering `[low, high]` and 0. */
export function niceScale(low: bigint, high: bigint, maxSteps = 5): { bottom: bigint; top: bigint; step: bigint } {
  if (low > high) throw new RangeError(`low ${low} is above high ${high}`);
  const lo = low < 0n ? low : 0n;
  const hi = high > 0n ? high : 0n;
  if (lo === 0n && hi === 0n) return { bottom: 0n, top: 1n, step: 1n };
  const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;
  for (let power = 1n; ; power *= 10n) {
    for (const m of [1n, 2n, 5n]) {
      const step = m * power;
      const up = ceilDiv(hi, step);
      const down = ceilDiv(-lo, step);
      if (up + down <= BigInt(maxSteps)) return { bottom: -down * step, top: up * step, step };
    }
  }
}

/** Pixel coordinates with two decimals, as text. */
const px = (value: number) => String(Math.round(value * 100) / 100);

const WIDTH_MIN = 480;
const HEIGHT = 300;
const TOP = 16;
const RIGHT = 16;
const FONT = 13;
/** Approximate width of a character of the labels (sans-serif at {@link FONT} px). */
const CHAR = 7.2;
const LABEL_MAX = 22;

/** The label cut to `max` characters (an ellipsis marks the cut); the full text goes in a `<title>`. */
function clip(label: string, max = LABEL_MAX): string {
  const chars = [...label];
  return chars.length <= max ? label : `${chars.slice(0, max - 1).join('')}…`;
}

interface Plot {
  readonly width: number;
  readonly left: number;
  readonly plotTop: number;
  readonly plotBottom: number;
  readonly plotWidth: number;
  readonly slot: number;
  readonly rotate: boolean;
  y(value: bigint): number;
}

/** Checks the input (see {@link ChartError}) and indexes its values by category × series. */
function check(input: ChartInput): Map<string, ChartValue> {
  const fail = (message: string): never => {
    throw new ChartError(ID.test(input.id) ? input.id : JSON.stringify(input.id), message);
  };
  if (!ID.test(input.id)) fail('the id must be a lowercase letter followed by lowercase letters, digits or "-"');
  const categories = new Set<string>();
  for (const c of input.categories) {
    if (categories.has(c.key)) fail(`category ${JSON.stringify(c.key)} is given twice`);
    categories.add(c.key);
  }
  const series = new Set<string>();
  for (const s of input.series) {
    if (series.has(s.key)) fail(`series ${JSON.stringify(s.key)} is given twice`);
    if (!COLOR.test(s.color)) fail(`series ${JSON.stringify(s.key)} has colour ${JSON.stringify(s.color)}, not #rrggbb`);
    series.add(s.key);
  }
  const byPair = new Map<string, ChartValue>();
  for (const v of input.values) {
    if (typeof v.value !== 'bigint') fail(`the value of ${JSON.stringify(v.series)} in ${JSON.stringify(v.category)} is not a bigint`);
    if (!categories.has(v.category)) fail(`a value names unknown category ${JSON.stringify(v.category)}`);
    if (!series.has(v.series)) fail(`a value names unknown series ${JSON.stringify(v.series)}`);
    const key = JSON.stringify([v.category, v.series]);
    if (byPair.has(key)) fail(`series ${JSON.stringify(v.series)} has two values in category ${JSON.stringify(v.category)}`);
    for (const name of Object.keys(v.data ?? {})) {
      if (!DATA_NAME.test(name) || RESERVED_DATA.has(name)) fail(`data attribute name ${JSON.stringify(name)} is not allowed`);
    }
    byPair.set(key, v);
  }
  return byPair;
}

const pair = (category: string, series: string) => JSON.stringify([category, series]);

function layOut(input: ChartInput, low: bigint, high: bigint, minSlot: number): { plot: Plot; ticks: bigint[] } {
  const scale = niceScale(low, high);
  const tickLabel = input.tickLabel ?? compactNumber;
  const ticks: bigint[] = [];
  for (let t = scale.bottom; t <= scale.top; t += scale.step) ticks.push(t);
  const widest = Math.max(...ticks.map((t) => [...tickLabel(t)].length));
  const left = Math.round(Math.min(widest, 24) * CHAR + 12 + FONT * 1.8);
  const n = Math.max(input.categories.length, 1);
  const width = Math.max(WIDTH_MIN, Math.ceil(left + RIGHT + n * minSlot));
  const plotWidth = width - left - RIGHT;
  const slot = plotWidth / n;
  const longest = Math.max(0, ...input.categories.map((c) => [...clip(c.label)].length));
  const rotate = longest * CHAR > slot - 4;
  const bottomSpace = (rotate ? Math.ceil(longest * CHAR * 0.64) + 10 : FONT + 10) + FONT * 2.2;
  const plotTop = TOP;
  const plotBottom = HEIGHT - bottomSpace;
  const range = scale.top - scale.bottom;
  const y = (value: bigint) => plotTop + ((plotBottom - plotTop) * Number(((scale.top - value) * 1_000_000n) / range)) / 1_000_000;
  return { plot: { width, left, plotTop, plotBottom, plotWidth, slot, rotate, y }, ticks };
}

function dataAttributes(chartValue: ChartValue, series: ChartSeries, category: ChartCategory): string {
  const extra = Object.entries(chartValue.data ?? {}).map(([name, value]) => ` data-${name}="${escapeHtml(value)}"`).join('');
  return ` data-series="${escapeHtml(series.key)}" data-category="${escapeHtml(category.key)}" data-value="${chartValue.value}"${extra}`;
}

function tooltip(chartValue: ChartValue, series: ChartSeries, category: ChartCategory): string {
  return `<title>${escapeHtml(`${series.label} · ${category.label}: ${chartValue.text ?? groupDigits(chartValue.value)}`)}</title>`;
}

/** Axes, grid, tick and axis labels. */
function frame(input: ChartInput, plot: Plot, ticks: readonly bigint[]): string {
  const tickLabel = input.tickLabel ?? compactNumber;
  const right = plot.left + plot.plotWidth;
  const parts: string[] = [];
  for (const t of ticks) {
    const y = px(plot.y(t));
    parts.push(`<line class="${t === 0n ? 'zero' : 'grid'}" x1="${plot.left}" x2="${px(right)}" y1="${y}" y2="${y}"/>`);
    parts.push(`<text class="tick" x="${plot.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeHtml(tickLabel(t))}</text>`);
  }
  input.categories.forEach((c, i) => {
    const x = plot.left + plot.slot * (i + 0.5);
    const y = plot.plotBottom + FONT + 4;
    const label = escapeHtml(clip(c.label));
    const full = c.label === clip(c.label) ? '' : `<title>${escapeHtml(c.label)}</title>`;
    parts.push(plot.rotate
      ? `<text class="category" x="${px(x)}" y="${px(y)}" text-anchor="end" transform="rotate(-40 ${px(x)} ${px(y)})">${full}${label}</text>`
      : `<text class="category" x="${px(x)}" y="${px(y)}" text-anchor="middle">${full}${label}</text>`);
  });
  const midY = (plot.plotTop + plot.plotBottom) / 2;
  parts.push(`<text class="axis-label" x="${FONT}" y="${px(midY)}" text-anchor="middle" transform="rotate(-90 ${FONT} ${px(midY)})">${input.yLabel === clip(input.yLabel, 30) ? '' : `<title>${escapeHtml(input.yLabel)}</title>`}${escapeHtml(clip(input.yLabel, 30))}</text>`);
  parts.push(`<text class="axis-label" x="${px(plot.left + plot.plotWidth / 2)}" y="${HEIGHT - 6}" text-anchor="middle">${escapeHtml(input.xLabel)}</text>`);
  parts.push(`<line class="axis" x1="${plot.left}" x2="${plot.left}" y1="${plot.plotTop}" y2="${px(plot.plotBottom)}"/>`);
  return parts.join('\n');
}

function figure(input: ChartInput, kind: string, plot: Plot, body: string): string {
  const e = escapeHtml;
  const legend = input.series
    .map((s) => `<li><svg class="swatch" width="12" height="12" viewBox="0 0 12 12" aria-hidden="true" focusable="false"><rect width="12" height="12" rx="2" fill="${s.color}"/></svg>${e(s.label)}</li>`)
    .join('');
  const empty = input.values.length === 0
    ? `<text class="empty" x="${px(plot.left + plot.plotWidth / 2)}" y="${px((plot.plotTop + plot.plotBottom) / 2)}" text-anchor="middle">No data</text>`
    : '';
  // Wide charts (many categories) keep a readable scale and scroll inside their own container.
  const minWidth = plot.width > WIDTH_MIN ? ` style="min-width:${Math.round(plot.width * 0.75)}px"` : '';
  return `<figure class="chart" id="${input.id}" data-chart="${kind}">
<div class="chart-scroll">
<svg class="chart-svg" role="img" aria-label="${e(input.title)}" aria-describedby="${input.id}-desc" viewBox="0 0 ${plot.width} ${HEIGHT}" width="${plot.width}" height="${HEIGHT}" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg"${minWidth}>
<title id="${input.id}-title">${e(input.title)}</title>
<desc id="${input.id}-desc">${e(input.description)}</desc>
${body}
${empty}
</svg>
</div>
<figcaption><span class="chart-title">${e(input.title)}</span><ul class="chart-legend" aria-label="Legend">${legend}</ul></figcaption>
</figure>`;
}

/**
 * A bar chart: per category, one bar per series side by side (`grouped`) or piled up (`stacked`:
 * positive values upwards from zero, negative ones downwards). Missing category × series pairs draw
 * nothing; a zero draws a bar of height 0 that still carries its data attributes.
 */
export function barChart(input: ChartInput & { readonly layout: BarLayout }): string {
  const byPair = check(input);
  let low = 0n;
  let high = 0n;
  for (const c of input.categories) {
    let up = 0n;
    let down = 0n;
    for (const s of input.series) {
      const v = byPair.get(pair(c.key, s.key))?.value;
      if (v === undefined) continue;
      if (input.layout === 'stacked') {
        if (v >= 0n) up += v;
        else down += v;
      } else {
        if (v > up) up = v;
        if (v < down) down = v;
      }
    }
    if (up > high) high = up;
    if (down < low) low = down;
  }
  const perSlot = input.layout === 'grouped' ? Math.max(input.series.length, 1) * 7 + 10 : 26;
  const { plot, ticks } = layOut(input, low, high, perSlot);
  const bars: string[] = [];
  input.categories.forEach((c, i) => {
    const slotStart = plot.left + plot.slot * i;
    const inner = plot.slot * 0.76;
    const start = slotStart + plot.slot * 0.12;
    let up = 0n;
    let down = 0n;
    input.series.forEach((s, j) => {
      const chartValue = byPair.get(pair(c.key, s.key));
      if (chartValue === undefined) return;
      const v = chartValue.value;
      let x: number;
      let width: number;
      let from: bigint;
      let to: bigint;
      if (input.layout === 'grouped') {
        width = inner / input.series.length;
        x = start + width * j;
        width = Math.max(width - 1, 0.5);
        [from, to] = v >= 0n ? [0n, v] : [v, 0n];
      } else {
        x = start;
        width = inner;
        if (v >= 0n) [from, to, up] = [up, up + v, up + v];
        else [from, to, down] = [down + v, down, down + v];
      }
      const yTop = plot.y(to);
      const height = plot.y(from) - yTop;
      bars.push(`<rect class="bar" x="${px(x)}" y="${px(yTop)}" width="${px(width)}" height="${px(height)}" fill="${s.color}"${dataAttributes(chartValue, s, c)}>${tooltip(chartValue, s, c)}</rect>`);
    });
  });
  return figure(input, `bar-${input.layout}`, plot, `${frame(input, plot, ticks)}\n<g class="bars">\n${bars.join('\n')}\n</g>`);
}

/**
 * A line chart: one line per series across the categories in order (hours), a point at every value.
 * A missing value leaves no point, and the line joins the points on either side.
 */
export function lineChart(input: ChartInput): string {
  const byPair = check(input);
  let low = 0n;
  let high = 0n;
  for (const v of input.values) {
    if (v.value > high) high = v.value;
    if (v.value < low) low = v.value;
  }
  const { plot, ticks } = layOut(input, low, high, 44);
  const lines: string[] = [];
  const points: string[] = [];
  for (const s of input.series) {
    const coordinates: string[] = [];
    input.categories.forEach((c, i) => {
      const chartValue = byPair.get(pair(c.key, s.key));
      if (chartValue === undefined) return;
      const x = px(plot.left + plot.slot * (i + 0.5));
      const y = px(plot.y(chartValue.value));
      coordinates.push(`${x},${y}`);
      points.push(`<circle class="point" cx="${x}" cy="${y}" r="4" fill="${s.color}"${dataAttributes(chartValue, s, c)}>${tooltip(chartValue, s, c)}</circle>`);
    });
    if (coordinates.length > 1) lines.push(`<polyline class="line" points="${coordinates.join(' ')}" stroke="${s.color}" data-series="${escapeHtml(s.key)}"/>`);
  }
  return figure(input, 'line', plot, `${frame(input, plot, ticks)}\n<g class="lines">\n${lines.join('\n')}\n</g>\n<g class="points">\n${points.join('\n')}\n</g>`);
}

/** The CSS the charts need (the page includes it once). */
export const CHART_STYLE = `
  figure.chart { margin: 1rem 0 1.5rem; min-width: 0; }
  .chart-scroll { overflow-x: auto; max-width: 100%; }
  svg.chart-svg { display: block; width: 100%; min-width: 360px; height: auto; font-family: inherit; font-size: ${FONT}px; }
  svg.chart-svg .grid { stroke: #d0d7de; stroke-width: 1; }
  svg.chart-svg .zero, svg.chart-svg .axis { stroke: #57606a; stroke-width: 1.2; }
  svg.chart-svg text { fill: #1f2328; }
  svg.chart-svg .tick, svg.chart-svg .category { fill: #57606a; }
  svg.chart-svg .axis-label { font-weight: 600; }
  svg.chart-svg .line { fill: none; stroke-width: 2; }
  svg.chart-svg .point { stroke: #fff; stroke-width: 1.5; }
  svg.chart-svg .empty { fill: #57606a; font-style: italic; }
  figure.chart figcaption { margin-top: .4rem; }
  .chart-title { font-size: .9rem; color: #57606a; }
  ul.chart-legend { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1rem; margin: .3rem 0 0; padding: 0; font-size: .85rem; }
  ul.chart-legend li { display: inline-flex; align-items: center; gap: .35rem; overflow-wrap: anywhere; min-width: 0; }
  ul.chart-legend svg.swatch { flex: none; }
`;
