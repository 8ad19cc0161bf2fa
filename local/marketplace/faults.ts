/**
 * Faults the simulator can inject, so tests can prove a client survives what AWS does on a bad day:
 * server errors before or after billing, records left unprocessed, throttling, a disabled API, latency.
 */
import type { WireUsageRecord } from './metering-rules';

/** What to inject. `set` replaces the whole plan; counters count down as calls consume them. */
export interface FaultPlan {
  /** The next N BatchMeterUsage calls fail with InternalServiceErrorException (HTTP 500) before anything is billed. */
  readonly internalErrorBeforeBilling?: number;
  /**
   * The next N BatchMeterUsage calls are processed and billed, then answered with
   * InternalServiceErrorException (HTTP 500): "billed, but the response was lost". Calls refused with
   * a client error do not consume the counter.
   */
  readonly internalErrorAfterBilling?: number;
  /**
   * Records to answer as UnprocessedRecords (not billed): a number is the next N records that reach
   * processing (across calls); a predicate picks records by content (the record as on the wire:
   * Timestamp in epoch seconds).
   */
  readonly unprocessed?: number | ((record: WireUsageRecord) => boolean);
  /** The next N calls of any operation fail with ThrottlingException, whatever the call rate. */
  readonly throttleNext?: number;
  /** Every call fails with DisabledApiException while set. */
  readonly apiDisabled?: boolean;
  /** Delay added before every answer (after processing: a slow answer to a call already billed). */
  readonly latencyMs?: number;
}

/** The counters still pending. */
export interface PendingFaults {
  readonly internalErrorBeforeBilling: number;
  readonly internalErrorAfterBilling: number;
  readonly unprocessedRecords: number;
  readonly throttleNext: number;
}

/** Holds a fault plan and hands out its faults one call (or record) at a time. */
export class FaultInjector {
  private beforeBilling = 0;
  private afterBilling = 0;
  private unprocessedCount = 0;
  private unprocessedMatch: ((record: WireUsageRecord) => boolean) | undefined;
  private throttle = 0;
  private disabled = false;
  private latency = 0;

  /** Replaces the plan. */
  set(plan: FaultPlan): void {
    this.beforeBilling = count(plan.internalErrorBeforeBilling);
    this.afterBilling = count(plan.internalErrorAfterBilling);
    this.unprocessedCount = typeof plan.unprocessed === 'number' ? count(plan.unprocessed) : 0;
    this.unprocessedMatch = typeof plan.unprocessed === 'function' ? plan.unprocessed : undefined;
    this.throttle = count(plan.throttleNext);
    this.disabled = plan.apiDisabled ?? false;
    this.latency = Math.max(0, plan.latencyMs ?? 0);
  }

  /** Removes every fault. */
  clear(): void {
    this.set({});
  }

  pending(): PendingFaults {
    return {
      internalErrorBeforeBilling: this.beforeBilling,
      internalErrorAfterBilling: this.afterBilling,
      unprocessedRecords: this.unprocessedCount,
      throttleNext: this.throttle,
    };
  }

  get apiDisabled(): boolean {
    return this.disabled;
  }

  get latencyMs(): number {
    return this.latency;
  }

  takeThrottle(): boolean {
    return this.take('throttle');
  }

  takeInternalErrorBeforeBilling(): boolean {
    return this.take('beforeBilling');
  }

  takeInternalErrorAfterBilling(): boolean {
    return this.take('afterBilling');
  }

  /** Whether this record is to be left unprocessed (consumes one of a numeric count). */
  takeUnprocessed(record: WireUsageRecord): boolean {
    if (this.unprocessedMatch !== undefined) return this.unprocessedMatch(record);
    return this.take('unprocessedCount');
  }

  private take(counter: 'throttle' | 'beforeBilling' | 'afterBilling' | 'unprocessedCount'): boolean {
    if (this[counter] <= 0) return false;
    this[counter] -= 1;
    return true;
  }
}

function count(value: number | undefined): number {
  return Math.max(0, Math.floor(value ?? 0));
}
