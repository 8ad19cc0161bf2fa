/**
 * Reading the run report back: from a page open in Chromium (playwright-core) for the browser tests,
 * or from the HTML text for the unit tests. Both go by the attributes `local/report/report-html.ts`
 * puts on every figure's cell (`data-field`, the keys, `data-value`), and both check that what a
 * person sees (the cell's text, `1,234` or `12.34 USD`) is the exact figure of `data-value`, so a test
 * comparing these figures with a ledger compares what the page shows.
 */
import type { Page } from 'playwright-core';

/*
 * The few DOM types the page-side functions use: the project compiles without lib "dom", and these
 * functions run in the browser (page.evaluate serialises them), where `document` is global.
 */
interface DomRect {
  readonly width: number;
  readonly height: number;
}
interface DomElement {
  readonly id: string;
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
  getAttributeNames(): string[];
  querySelectorAll(selector: string): ArrayLike<DomElement> & Iterable<DomElement>;
  getBoundingClientRect(): DomRect;
}
interface Dom {
  readonly documentElement: { readonly scrollWidth: number; readonly clientWidth: number };
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): ArrayLike<DomElement> & Iterable<DomElement>;
}
declare const document: Dom;

/** A cell holding one figure. */
export interface FigureCell {
  readonly field: string;
  /** The cell's other `data-*` attributes (tenant, dimension, hour, line, …), names without the prefix. */
  readonly keys: Readonly<Record<string, string>>;
  /** The exact figure (`data-value`); null for a cell without one (a dimension not billed through Marketplace). */
  readonly value: string | null;
  /** The cell's text, whitespace collapsed. */
  readonly text: string;
}

/** One bar or point of a chart. */
export interface ChartMark {
  readonly series: string;
  readonly category: string;
  readonly value: string;
  /** The mark's other `data-*` attributes (tenant, dimension, hour, part). */
  readonly data: Readonly<Record<string, string>>;
}

export interface ChartFigure {
  readonly id: string;
  /** `line`, `bar-grouped` or `bar-stacked`. */
  readonly kind: string;
  readonly label: string;
  /** Rendered size of the SVG in CSS pixels (0 in the HTML-text reading). */
  readonly width: number;
  readonly height: number;
  readonly marks: readonly ChartMark[];
}

/** The figures of a report page. Keys: `tenant|dimension`, `tenant|dimension|hour`, tenant. */
export interface ReportFigures {
  readonly verdict: { readonly exact: boolean; readonly problems: readonly string[] };
  readonly usage: Map<string, string>;
  /** The ground truth (the reconciliation's "Sent" column). */
  readonly sent: Map<string, string>;
  readonly aggregated: Map<string, string>;
  /** Billed quantity, or null when the dimension is not billed through Marketplace. */
  readonly billed: Map<string, string | null>;
  /** What the Marketplace ledger charges, minor units. */
  readonly ledgerAmounts: Map<string, string>;
  /** What the rating engine charges for the true usage, minor units. */
  readonly ratedAmounts: Map<string, string>;
  readonly invoiceTotals: Map<string, string>;
  /** Revenue, cost and margin per tenant (minor units); null when cost allocation did not run. */
  readonly costs: Map<string, { readonly revenue: string; readonly cost: string; readonly margin: string }> | null;
  readonly cells: readonly FigureCell[];
  readonly charts: readonly ChartFigure[];
}

const QUANTITY_FIELDS = new Set(['usage', 'usage-total', 'true', 'aggregated', 'billed', 'line-quantity', 'tenant-requests', 'requests', 'duplicates-delivered', 'late-records', 'usage-events', 'rejected-records', 'status', 'option-tenants', 'option-hours', 'option-requests', 'option-seed']);
const MONEY_FIELDS = new Set(['ledger-amount', 'rated-amount', 'line-amount', 'invoice-subtotal', 'invoice-top-up', 'invoice-total', 'revenue', 'cost', 'margin', 'unallocated-cost', 'total-cost']);

/**
 * The exact figure a cell's text shows: `1,234` → `1234`, `-12.34 USD` → `-1234` (minor units),
 * `40.1 %` → `40.1`, `✓ exact` → `true`; undefined for a text that is not a figure (durations).
 */
export function figureOfText(field: string, text: string): string | undefined {
  const integer = (digits: string, negative: boolean) => {
    const trimmed = digits.replace(/^0+(?=\d)/, '');
    return negative && trimmed !== '0' ? `-${trimmed}` : trimmed;
  };
  if (QUANTITY_FIELDS.has(field)) {
    const match = /^(-?)(\d{1,3}(?:,\d{3})*)$/.exec(text);
    return match === null ? undefined : integer(match[2].replace(/,/g, ''), match[1] === '-');
  }
  if (MONEY_FIELDS.has(field)) {
    const match = /^(-?)(\d+)(?:\.(\d+))? [A-Z]{3}$/.exec(text);
    return match === null ? undefined : integer(`${match[2]}${match[3] ?? ''}`, match[1] === '-');
  }
  if (field === 'margin-percent') return /^-?\d+(\.\d+)? %$/.test(text) ? text.slice(0, -2) : undefined;
  if (field === 'exact') return text === '✓ exact' ? 'true' : text === '✗ differs' ? 'false' : undefined;
  return undefined;
}

/** Checks that every cell's text shows the exact figure of its `data-value`; throws naming the first cell that does not. */
export function checkFigureTexts(cells: readonly FigureCell[]): void {
  for (const cell of cells) {
    if (cell.field === 'step-millis' || cell.field === 'costs-absent') continue;
    const shown = figureOfText(cell.field, cell.text);
    const where = `${cell.field} ${JSON.stringify(cell.keys)}`;
    if (cell.value === null) {
      if (cell.field !== 'billed' && cell.field !== 'margin-percent') throw new Error(`cell ${where} has no data-value`);
      if (shown !== undefined) throw new Error(`cell ${where} shows a figure (${cell.text}) but has no data-value`);
      continue;
    }
    if (shown !== cell.value) throw new Error(`cell ${where} shows ${JSON.stringify(cell.text)}, but its data-value is ${cell.value}`);
  }
}

/** The page as read: its figure cells, its charts and its verdict. */
export interface ReportReading {
  readonly cells: readonly FigureCell[];
  readonly charts: readonly ChartFigure[];
  readonly verdict: ReportFigures['verdict'];
}

/** Checks the cells' texts and builds the figure maps (tenant ids hold no `|`, so the keys are unambiguous). */
function figuresOf({ cells, charts, verdict }: ReportReading): ReportFigures {
  checkFigureTexts(cells);
  const pair = (cell: FigureCell) => `${cell.keys.tenant}|${cell.keys.dimension}`;
  const mapOf = <V>(field: string, key: (cell: FigureCell) => string, value: (cell: FigureCell) => V) => {
    const map = new Map<string, V>();
    for (const cell of cells.filter((c) => c.field === field)) {
      const k = key(cell);
      if (map.has(k)) throw new Error(`two ${field} cells for ${k}`);
      map.set(k, value(cell));
    }
    return map;
  };
  const required = (cell: FigureCell) => {
    if (cell.value === null) throw new Error(`cell ${cell.field} ${JSON.stringify(cell.keys)} has no data-value`);
    return cell.value;
  };
  const tenant = (cell: FigureCell) => cell.keys.tenant;
  const costCells = cells.filter((c) => c.field === 'cost');
  let costs: ReportFigures['costs'] = null;
  if (costCells.length > 0 || cells.some((c) => c.field === 'total-cost')) {
    const revenue = mapOf('revenue', tenant, required);
    const margin = mapOf('margin', tenant, required);
    costs = new Map([...mapOf('cost', tenant, required)].map(([t, cost]) => [t, { revenue: revenue.get(t) ?? '', cost, margin: margin.get(t) ?? '' }]));
  }
  return {
    verdict,
    usage: mapOf('usage', (c) => `${c.keys.tenant}|${c.keys.dimension}|${c.keys.hour}`, required),
    sent: mapOf('true', pair, required),
    aggregated: mapOf('aggregated', pair, required),
    billed: mapOf('billed', pair, (c) => c.value),
    ledgerAmounts: mapOf('ledger-amount', pair, required),
    ratedAmounts: mapOf('rated-amount', pair, required),
    invoiceTotals: mapOf('invoice-total', tenant, required),
    costs,
    cells,
    charts,
  };
}

/** Reads every figure of the report open in `page` (see the module comment); throws when a cell's text and value disagree. */
export async function readReportFigures(page: Page): Promise<ReportFigures> {
  const raw = await page.evaluate(() => {
    const dataOf = (element: DomElement, skip: readonly string[]) => {
      const data: Record<string, string> = {};
      for (const name of element.getAttributeNames()) {
        if (name.startsWith('data-') && !skip.includes(name.slice(5))) data[name.slice(5)] = element.getAttribute(name) ?? '';
      }
      return data;
    };
    const cells = [...document.querySelectorAll('main [data-field]')].map((element) => ({
      field: element.getAttribute('data-field') ?? '',
      keys: dataOf(element, ['field', 'value', 'billed']),
      value: element.getAttribute('data-value'),
      text: (element.textContent ?? '').replace(/\s+/g, ' ').trim(),
    }));
    const charts = [...document.querySelectorAll('figure.chart')].map((figure) => {
      const svg = figure.querySelectorAll('svg.chart-svg')[0];
      const box = svg?.getBoundingClientRect() ?? { width: 0, height: 0 };
      return {
        id: figure.id,
        kind: figure.getAttribute('data-chart') ?? '',
        label: svg?.getAttribute('aria-label') ?? '',
        width: box.width,
        height: box.height,
        marks: [...figure.querySelectorAll('[data-value]')].map((mark) => ({
          series: mark.getAttribute('data-series') ?? '',
          category: mark.getAttribute('data-category') ?? '',
          value: mark.getAttribute('data-value') ?? '',
          data: dataOf(mark, ['series', 'category', 'value']),
        })),
      };
    });
    const verdict = document.querySelector('.verdict');
    return {
      cells,
      charts,
      verdict: { exact: verdict?.getAttribute('class')?.split(' ').includes('exact') ?? false, problems: [...document.querySelectorAll('.verdict li')].map((li) => (li.textContent ?? '').trim()) },
    };
  });
  return figuresOf(raw);
}

/** Whether the page scrolls sideways (the body, not a table or chart in its own container). */
export async function overflowsHorizontally(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
}

/* ---------- the same from HTML text, for unit tests ---------- */

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#96': '`' };

/** Decodes the entities `escapeHtml` writes (and numeric ones); throws on a bare `&` or an unknown entity. */
export function decodeHtml(text: string): string {
  return text.replace(/&([a-z]+|#\d+|#x[0-9a-f]+);?/gi, (whole, name: string) => {
    if (!whole.endsWith(';')) throw new Error(`bare & in ${JSON.stringify(text.slice(0, 80))}`);
    if (Object.hasOwn(ENTITIES, name)) return ENTITIES[name];
    if (name.startsWith('#x')) return String.fromCodePoint(parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(Number(name.slice(1)));
    throw new Error(`unknown entity ${whole}`);
  });
}

/** A start tag, an end tag, or text between tags. */
export type MarkupToken =
  | { readonly kind: 'start'; readonly name: string; readonly attributes: Readonly<Record<string, string>>; readonly selfClosing: boolean }
  | { readonly kind: 'end'; readonly name: string }
  | { readonly kind: 'text'; readonly text: string };

const TAG = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z_:][a-zA-Z0-9_:.-]*(?:="[^"]*")?)*)\s*(\/?)>/y;
const ATTRIBUTE = /\s+([a-zA-Z_:][a-zA-Z0-9_:.-]*)(?:="([^"]*)")?/g;

/**
 * Splits markup the report writes into tokens, strictly: every `<` must open a well-formed tag with
 * double-quoted attributes, text and attribute values must hold no `<`, `>` or bare `&`, and an
 * attribute may appear once per tag. Escaped markup passes; any unescaped value breaks it (the
 * doctype, comments and the `<style>` element's content are skipped).
 */
export function tokenizeMarkup(html: string): MarkupToken[] {
  const tokens: MarkupToken[] = [];
  let at = 0;
  const source = html.replace(/^<!DOCTYPE html>/i, '').replace(/<style>[\s\S]*?<\/style>/g, '<style></style>');
  while (at < source.length) {
    const next = source.indexOf('<', at);
    const text = source.slice(at, next === -1 ? source.length : next);
    if (text !== '') {
      if (text.includes('>')) throw new Error(`unescaped > in text ${JSON.stringify(text.slice(0, 80))}`);
      tokens.push({ kind: 'text', text: decodeHtml(text) });
    }
    if (next === -1) break;
    TAG.lastIndex = next;
    const match = TAG.exec(source);
    if (match === null) throw new Error(`not a well-formed tag at ${JSON.stringify(source.slice(next, next + 80))}`);
    const [, slash, name, attributeText, selfClosing] = match;
    if (slash === '/') {
      tokens.push({ kind: 'end', name: name.toLowerCase() });
    } else {
      const attributes: Record<string, string> = {};
      for (const [, attribute, value] of attributeText.matchAll(ATTRIBUTE)) {
        if (Object.hasOwn(attributes, attribute)) throw new Error(`attribute ${attribute} given twice in <${name}>`);
        if (value !== undefined && /[<>]/.test(value)) throw new Error(`unescaped < or > in attribute ${attribute} of <${name}>`);
        attributes[attribute] = decodeHtml(value ?? '');
      }
      tokens.push({ kind: 'start', name: name.toLowerCase(), attributes, selfClosing: selfClosing === '/' });
    }
    at = TAG.lastIndex;
  }
  return tokens;
}

const VOID = new Set(['meta', 'br', 'hr', 'img', 'input', 'link']);

/** The figures of a report page's HTML text, like {@link readReportFigures}. */
export function reportFiguresOfHtml(html: string): ReportFigures {
  return figuresOf(readReportHtml(html));
}

/** The cells (element with a `data-field`: its keys, value and text), chart marks and verdict of HTML text. */
export function readReportHtml(html: string): ReportReading {
  const tokens = tokenizeMarkup(html);
  const cells: FigureCell[] = [];
  const charts: { id: string; kind: string; label: string; width: number; height: number; marks: ChartMark[] }[] = [];
  const open: { name: string; cell?: { field: string; keys: Record<string, string>; value: string | null; text: string[] } }[] = [];
  let verdictExact: boolean | undefined;
  const problems: string[] = [];
  let inVerdict = 0;
  let problemText: string[] | undefined;
  for (const token of tokens) {
    if (token.kind === 'text') {
      for (const element of open) element.cell?.text.push(token.text);
      problemText?.push(token.text);
      continue;
    }
    if (token.kind === 'end') {
      const element = open.pop();
      if (element === undefined || element.name !== token.name) throw new Error(`</${token.name}> closes <${element?.name ?? 'nothing'}>`);
      if (element.cell !== undefined) cells.push({ field: element.cell.field, keys: element.cell.keys, value: element.cell.value, text: element.cell.text.join('').replace(/\s+/g, ' ').trim() });
      if (element.name === 'li' && problemText !== undefined) {
        problems.push(problemText.join('').trim());
        problemText = undefined;
      }
      if (element.name === 'section' && inVerdict === open.length + 1) inVerdict = 0;
      continue;
    }
    const { name, attributes } = token;
    const data = (skip: readonly string[]) => Object.fromEntries(Object.entries(attributes).filter(([k]) => k.startsWith('data-') && !skip.includes(k.slice(5))).map(([k, v]) => [k.slice(5), v]));
    if (name === 'figure' && attributes.class === 'chart') charts.push({ id: attributes.id ?? '', kind: attributes['data-chart'] ?? '', label: '', width: 0, height: 0, marks: [] });
    if (name === 'svg' && attributes.class === 'chart-svg') charts[charts.length - 1].label = attributes['aria-label'] ?? '';
    if ((name === 'rect' || name === 'circle') && attributes['data-value'] !== undefined) {
      charts[charts.length - 1].marks.push({ series: attributes['data-series'] ?? '', category: attributes['data-category'] ?? '', value: attributes['data-value'], data: data(['series', 'category', 'value']) });
    }
    if (name === 'section' && (attributes.class ?? '').split(' ').includes('verdict')) {
      verdictExact = attributes.class.split(' ').includes('exact');
      inVerdict = open.length + 1;
    }
    if (name === 'li' && inVerdict > 0) problemText = [];
    if (token.selfClosing || VOID.has(name)) continue;
    const field = attributes['data-field'];
    open.push({ name, ...(field === undefined ? {} : { cell: { field, keys: data(['field', 'value', 'billed']), value: attributes['data-value'] ?? null, text: [] } }) });
  }
  if (open.length > 0) throw new Error(`unclosed elements: ${open.map((o) => o.name).join(', ')}`);
  return { cells, charts, verdict: { exact: verdictExact ?? false, problems } };
}
