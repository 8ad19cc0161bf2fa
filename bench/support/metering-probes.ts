/**
 * Instruments for `bench/metering.ts`: wrappers around the usage store, the Metering Service and the
 * rate limiter that count calls and the time spent in them, without changing what they do. The
 * metering run awaits each of these one at a time, so the times add up to (nearly) its wall time.
 */
import type { MeteringRecord } from '../../core/marketplace/metering-records';
import type { CallResult, MeteringService } from '../../core/marketplace/metering-sender';
import { RateLimiter } from '../../core/marketplace/rate-limiter';

/** Count and total time of one kind of operation. */
export interface OperationStat {
  count: number;
  totalMs: number;
  maxMs: number;
}

/** Counts and times operations by name. */
export class OperationStats {
  readonly byName = new Map<string, OperationStat>();

  constructor(private readonly onOperation?: (name: string, stat: OperationStat) => void) {}

  async time<T>(name: string, operation: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await operation();
    } finally {
      this.add(name, performance.now() - started);
    }
  }

  add(name: string, ms: number): void {
    let stat = this.byName.get(name);
    if (stat === undefined) {
      stat = { count: 0, totalMs: 0, maxMs: 0 };
      this.byName.set(name, stat);
    }
    stat.count += 1;
    stat.totalMs += ms;
    stat.maxMs = Math.max(stat.maxMs, ms);
    this.onOperation?.(name, stat);
  }

  get(name: string): OperationStat {
    return this.byName.get(name) ?? { count: 0, totalMs: 0, maxMs: 0 };
  }

  /** Operations of several names together. */
  sum(names: readonly string[]): OperationStat {
    const stats = names.map((name) => this.get(name));
    return { count: stats.reduce((n, s) => n + s.count, 0), totalMs: stats.reduce((n, s) => n + s.totalMs, 0), maxMs: Math.max(0, ...stats.map((s) => s.maxMs)) };
  }

  reset(): void {
    this.byName.clear();
  }
}

/**
 * The usage store, each method timed under `store.<method>` (a proxy, so methods the interface gains
 * later are timed too without changing this file).
 */
export function timedStore<S extends object>(store: S, stats: OperationStats): S {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        const started = performance.now();
        const result = method.apply(target, args);
        if (result instanceof Promise) return result.finally(() => stats.add(`store.${String(property)}`, performance.now() - started));
        stats.add(`store.${String(property)}`, performance.now() - started);
        return result;
      };
    },
  });
}

/** When the first call to the service started and the last one ended (`performance.now()`, ms). */
export interface CallWindow {
  firstStart?: number;
  lastEnd?: number;
}

/** The Metering Service, each call timed under `service.batchMeterUsage`. */
export function timedService(service: MeteringService, stats: OperationStats, window: CallWindow): MeteringService {
  return {
    async batchMeterUsage(records: readonly MeteringRecord[]): Promise<CallResult> {
      window.firstStart ??= performance.now();
      try {
        return await stats.time('service.batchMeterUsage', () => service.batchMeterUsage(records));
      } finally {
        window.lastEnd = performance.now();
      }
    },
  };
}

/**
 * The project's rate limiter (same rule, same real clock), with the time callers wait in `take()` and
 * the wall-clock time of each grant (what the limiter counts its window from).
 */
export class TimedRateLimiter extends RateLimiter {
  readonly granted: number[] = [];

  constructor(
    callsPerSecond: number,
    private readonly stats: OperationStats,
  ) {
    super(callsPerSecond);
  }

  override async take(): Promise<() => void> {
    const release = await this.stats.time('limiter.take', () => super.take());
    this.granted.push(Date.now());
    return release;
  }
}

/** Runs `task` over `items` with at most `concurrency` at a time. */
export async function forEachBounded<T>(items: readonly T[], concurrency: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const index = next;
      next += 1;
      await task(items[index], index);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, () => worker()));
}
