import fc from 'fast-check';
import type { RequestResult } from '../../../scripts/load/run-load';
import { formatSummary, percentile, summarize } from '../../../scripts/load/summary';

const ok = (status: number, latencyMs: number): RequestResult => ({ kind: 'response', status, latencyMs });
const failed = (failure: string, latencyMs: number): RequestResult => ({
  kind: 'failure',
  failure,
  latencyMs,
});

describe('percentile (nearest rank)', () => {
  // The worked example from the nearest-rank method's usual definition.
  const values = [15, 20, 35, 40, 50];

  it.each([
    [0, 15],
    [5, 15],
    [30, 20],
    [40, 20],
    [50, 35],
    [90, 50],
    [100, 50],
  ])('p%d of [15, 20, 35, 40, 50] is %d', (p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });

  it('is exact when p × n / 100 is an integer, despite binary floating point', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    for (let p = 1; p <= 100; p++) expect(percentile(hundred, p)).toBe(p);
    const thousand = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(percentile(thousand, 99.9)).toBe(999);
    expect(percentile(thousand, 0.7)).toBe(7);
  });

  it('returns the only value of a one-element array for every p', () => {
    for (const p of [0, 1, 50, 99, 100]) expect(percentile([42], p)).toBe(42);
  });

  it('returns NaN for no values', () => {
    expect(percentile([], 50)).toBeNaN();
  });

  it.each([-1, 100.1, Number.NaN])('rejects p = %d', (p) => {
    expect(() => percentile([1, 2, 3], p)).toThrow(RangeError);
  });

  it('picks a value with at least p% of values ≤ it and fewer than p% below it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 100 }),
        (unsorted, p) => {
          const sorted = [...unsorted].sort((a, b) => a - b);
          const result = percentile(sorted, p);
          const n = sorted.length;
          expect(sorted).toContain(result);
          expect(sorted.filter((v) => v <= result).length * 100).toBeGreaterThanOrEqual(p * n);
          expect(sorted.filter((v) => v < result).length * 100).toBeLessThan(p * n);
        },
      ),
    );
  });
});

describe('summarize', () => {
  const results: RequestResult[] = [
    ok(200, 10),
    ok(200, 20),
    ok(201, 30),
    ok(400, 40),
    ok(500, 50),
    failed('timeout', 1000),
    failed('ECONNREFUSED', 1),
    failed('timeout', 1000),
  ];

  it('counts statuses and failure kinds, statuses first in numeric order', () => {
    const summary = summarize(results, 2000);
    expect(summary.total).toBe(8);
    expect(summary.byStatus).toEqual({ 200: 2, 201: 1, 400: 1, 500: 1, ECONNREFUSED: 1, timeout: 2 });
    expect(Object.keys(summary.byStatus)).toEqual(['200', '201', '400', '500', 'ECONNREFUSED', 'timeout']);
    expect(summary.failures).toBe(3);
  });

  it('computes the 2xx success rate and requests per second', () => {
    const summary = summarize(results, 2000);
    expect(summary.successRate).toBe(0.375);
    expect(summary.requestsPerSecond).toBe(4);
    expect(summary.wallMs).toBe(2000);
  });

  it('computes latency over the requests that got a response, excluding failures', () => {
    expect(summarize(results, 2000).latencyMs).toEqual({
      min: 10,
      p50: 30,
      p90: 50,
      p99: 50,
      max: 50,
      mean: 30,
    });
  });

  it('does not depend on the order of the results', () => {
    expect(summarize([...results].reverse(), 2000)).toEqual(summarize(results, 2000));
  });

  it('rounds for readable output', () => {
    const summary = summarize([ok(200, 1.23456), ok(404, 2.000049), ok(200, 3.1)], 3000.00049);
    expect(summary.successRate).toBe(0.6667);
    expect(summary.requestsPerSecond).toBe(1);
    expect(summary.wallMs).toBe(3000);
    expect(summary.latencyMs).toEqual({ min: 1.235, p50: 2, p90: 3.1, p99: 3.1, max: 3.1, mean: 2.112 });
  });

  it('has null latency when no request got a response', () => {
    const summary = summarize([failed('timeout', 100), failed('network error', 3)], 100);
    expect(summary).toEqual({
      total: 2,
      byStatus: { 'network error': 1, timeout: 1 },
      failures: 2,
      successRate: 0,
      requestsPerSecond: 20,
      wallMs: 100,
      latencyMs: { min: null, p50: null, p90: null, p99: null, max: null, mean: null },
    });
  });

  it('handles no results and no elapsed time without NaN', () => {
    const summary = summarize([], 0);
    expect(summary).toMatchObject({
      total: 0,
      byStatus: {},
      failures: 0,
      successRate: 0,
      requestsPerSecond: 0,
    });
    expect(JSON.stringify(summary)).not.toContain('NaN');
  });

  it('uses the nearest-rank p99 over many results', () => {
    const many = Array.from({ length: 1000 }, (_, i) => ok(200, i + 1));
    expect(summarize(many, 1000).latencyMs).toMatchObject({ p50: 500, p90: 900, p99: 990, max: 1000 });
  });
});

describe('formatSummary', () => {
  it('renders counts, shares, throughput and latency as an aligned table', () => {
    const text = formatSummary(
      summarize([ok(200, 10), ok(200, 20), ok(500, 30), failed('timeout', 900)], 500),
    );
    const lines = text.split('\n');
    expect(lines[0]).toBe('Requests      4 in 0.50 s (8.00 req/s)');
    expect(lines[1]).toBe('Success       50.0% (2xx)');
    expect(lines[2]).toMatch(/^No response\s+1\b/);
    expect(text).toMatch(/^200\s+2\s+50\.0%$/m);
    expect(text).toMatch(/^500\s+1\s+25\.0%$/m);
    expect(text).toMatch(/^timeout\s+1\s+25\.0%$/m);
    expect(text).toMatch(/^\s+min\s+p50\s+p90\s+p99\s+max\s+mean$/m);
    expect(text).toMatch(/^\s+10\.0\s+20\.0\s+30\.0\s+30\.0\s+30\.0\s+20\.0$/m);
    expect(text.endsWith('\n')).toBe(false);
    // Columns line up: every status row has the same width as the header.
    const header = lines.find((line) => line.startsWith('Status'))!;
    for (const row of lines.filter((line) => /^(200|500|timeout) /.test(line))) {
      expect(row).toHaveLength(header.length);
    }
  });

  it('shows dashes for latency when nothing got a response, and notes an empty run', () => {
    expect(formatSummary(summarize([failed('ECONNREFUSED', 1)], 10))).toMatch(/^(\s+-){6}$/m);
    expect(formatSummary(summarize([], 0))).toContain('(no requests completed)');
  });
});
