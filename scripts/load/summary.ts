import type { RequestResult } from './run-load';

/** Latency statistics in milliseconds; `null` when no request got an HTTP response. */
export interface LatencyStats {
  min: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

/** Aggregate of a load run. */
export interface LoadSummary {
  /** Requests completed (responses + failures). */
  total: number;
  /** Count per HTTP status (`"200"`) and per failure kind (`"timeout"`, `"ECONNREFUSED"`, …). */
  byStatus: Record<string, number>;
  /** Requests that got no HTTP response at all (timeouts, refused connections, …). */
  failures: number;
  /** Share of requests answered with a 2xx status, 0..1 (4 decimals). */
  successRate: number;
  /** Completed requests per second of wall-clock time (2 decimals). */
  requestsPerSecond: number;
  /** Wall-clock duration of the run (3 decimals). */
  wallMs: number;
  /** Over requests that got an HTTP response (any status); failures are excluded (3 decimals). */
  latencyMs: LatencyStats;
}

/**
 * Nearest-rank percentile: the smallest value such that at least `p` percent of the values
 * are less than or equal to it, i.e. `sortedValues[ceil(p / 100 × n) − 1]` (rank clamped to 1..n,
 * so `p = 0` gives the minimum and `p = 100` the maximum). Always returns one of the values,
 * never an interpolation.
 *
 * @param sortedValues values sorted in ascending order
 * @param p percentile, 0..100
 * @returns the percentile, or `NaN` for an empty array
 */
export function percentile(sortedValues: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const n = sortedValues.length;
  if (n === 0) return Number.NaN;
  // (p × n) / 100 rather than (p / 100) × n, and a tiny epsilon, so that binary floating point
  // (0.07 × 100 = 7.000000000000001) cannot push an exact rank up by one.
  const rank = Math.ceil((p * n) / 100 - 1e-9);
  return sortedValues[Math.min(Math.max(rank, 1), n) - 1];
}

/**
 * Aggregates request results into counts, success rate, throughput and latency statistics.
 *
 * @param results one entry per completed request
 * @param wallMs wall-clock duration of the run, for requests per second (0 → 0 req/s)
 */
export function summarize(results: readonly RequestResult[], wallMs: number): LoadSummary {
  const counts = new Map<string, number>();
  const latencies: number[] = [];
  let failures = 0;
  let succeeded = 0;
  for (const result of results) {
    const label = result.kind === 'response' ? String(result.status) : result.failure;
    counts.set(label, (counts.get(label) ?? 0) + 1);
    if (result.kind === 'failure') {
      failures += 1;
    } else {
      latencies.push(result.latencyMs);
      if (result.status >= 200 && result.status <= 299) succeeded += 1;
    }
  }
  const total = results.length;
  return {
    total,
    byStatus: Object.fromEntries([...counts].sort(([a], [b]) => compareLabels(a, b))),
    failures,
    successRate: total === 0 ? 0 : round(succeeded / total, 4),
    requestsPerSecond: wallMs > 0 ? round(total / (wallMs / 1000), 2) : 0,
    wallMs: round(wallMs, 3),
    latencyMs: latencyStats(latencies),
  };
}

function latencyStats(latencies: number[]): LatencyStats {
  if (latencies.length === 0) return { min: null, p50: null, p90: null, p99: null, max: null, mean: null };
  const sorted = [...latencies].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  return {
    min: round(sorted[0], 3),
    p50: round(percentile(sorted, 50), 3),
    p90: round(percentile(sorted, 90), 3),
    p99: round(percentile(sorted, 99), 3),
    max: round(sorted[sorted.length - 1], 3),
    mean: round(mean, 3),
  };
}

/** HTTP statuses first (numerically), then failure kinds (alphabetically). */
function compareLabels(a: string, b: string): number {
  const aIsStatus = /^\d+$/.test(a);
  const bIsStatus = /^\d+$/.test(b);
  if (aIsStatus && bIsStatus) return Number(a) - Number(b);
  if (aIsStatus !== bIsStatus) return aIsStatus ? -1 : 1;
  return a.localeCompare(b);
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

/**
 * Renders a summary as a human-readable multi-line table (no trailing newline).
 *
 * Example:
 * ```text
 * Requests      500 in 0.57 s (874.08 req/s)
 * Success       77.2% (2xx)
 * No response   0 (timeouts, connection errors)
 *
 * Status            Count    Share
 * 200                 386    77.2%
 * 400                  64    12.8%
 * 500                  50    10.0%
 *
 * Latency (ms, requests with an HTTP response)
 *        min       p50       p90       p99       max      mean
 *        5.3      23.6      41.2      88.8      97.7      26.7
 * ```
 */
export function formatSummary(summary: LoadSummary): string {
  const lines: string[] = [];
  const row = (label: string, value: string) => lines.push(`${label.padEnd(14)}${value}`);

  row(
    'Requests',
    `${summary.total} in ${formatSeconds(summary.wallMs)} (${summary.requestsPerSecond.toFixed(2)} req/s)`,
  );
  row('Success', `${formatPercent(summary.successRate)} (2xx)`);
  row('No response', `${summary.failures} (timeouts, connection errors)`);

  lines.push('', `${'Status'.padEnd(14)}${'Count'.padStart(9)}${'Share'.padStart(9)}`);
  for (const [label, count] of Object.entries(summary.byStatus)) {
    const share = summary.total === 0 ? 0 : count / summary.total;
    lines.push(`${label.padEnd(14)}${String(count).padStart(9)}${formatPercent(share).padStart(9)}`);
  }
  if (summary.total === 0) lines.push('(no requests completed)');

  lines.push('', 'Latency (ms, requests with an HTTP response)');
  const stats = summary.latencyMs;
  const columns: [string, number | null][] = [
    ['min', stats.min],
    ['p50', stats.p50],
    ['p90', stats.p90],
    ['p99', stats.p99],
    ['max', stats.max],
    ['mean', stats.mean],
  ];
  lines.push(columns.map(([name]) => name.padStart(10)).join(''));
  lines.push(columns.map(([, value]) => (value === null ? '-' : value.toFixed(1)).padStart(10)).join(''));
  return lines.join('\n');
}

function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
