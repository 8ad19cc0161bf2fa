/**
 * Faults the local Firehose can inject, so tests can prove a producer survives what Firehose does on
 * a bad day: records answered with an error entry (FailedPutCount > 0), throttled calls, failing
 * calls, latency.
 */
import type { FirehoseErrorCode } from './firehose-server';

/** A record as it reaches the fault check. */
export interface InjectedRecord {
  /** The record's data (decoded). */
  readonly data: Uint8Array;
  /** Its position in the call's Records (0-based). */
  readonly position: number;
  /** The call's number among all calls the local Firehose received (1-based). */
  readonly call: number;
}

/** The per-record error codes Firehose documents for PutRecordBatch. */
export type RecordErrorCode = 'ServiceUnavailableException' | 'InternalFailure';

/** What to inject. `set` replaces the whole plan; counters count down as calls consume them. */
export interface FirehoseFaultPlan {
  /**
   * Records answered with an error entry instead of a RecordId (not accepted, FailedPutCount counts
   * them): a number is the next N records that reach processing (across calls); a predicate picks
   * records by content or position, for every call while the plan holds.
   */
  readonly failRecords?: number | ((record: InjectedRecord) => boolean);
  /** While set, the first N records of every call that reach processing fail (a PutRecord call has one). */
  readonly failRecordsPerCall?: number;
  /** The code of failed entries. @default 'ServiceUnavailableException' (message "Slow down.", as Firehose answers throttled records) */
  readonly recordErrorCode?: RecordErrorCode;
  /** The next N calls fail whole with ServiceUnavailableException (HTTP 503, "Slow down."): nothing is accepted. */
  readonly throttleNext?: number;
  /** The next N calls fail whole with `failWith`: nothing is accepted. */
  readonly failNext?: number;
  /** @default 'InternalFailure' (HTTP 500) */
  readonly failWith?: FirehoseErrorCode;
  /** Delay added before every answer. */
  readonly latencyMs?: number;
}

/** The counters still pending. */
export interface PendingFirehoseFaults {
  readonly failRecords: number;
  readonly throttleNext: number;
  readonly failNext: number;
}

/** Holds a fault plan and hands out its faults one call (or record) at a time. */
export class FirehoseFaultInjector {
  private recordCount = 0;
  private recordMatch: ((record: InjectedRecord) => boolean) | undefined;
  private perCall = 0;
  private errorCode: RecordErrorCode = 'ServiceUnavailableException';
  private throttle = 0;
  private failCalls = 0;
  private failCode: FirehoseErrorCode = 'InternalFailure';
  private latency = 0;

  /** Replaces the plan. */
  set(plan: FirehoseFaultPlan): void {
    this.recordCount = typeof plan.failRecords === 'number' ? count(plan.failRecords) : 0;
    this.recordMatch = typeof plan.failRecords === 'function' ? plan.failRecords : undefined;
    this.perCall = count(plan.failRecordsPerCall);
    this.errorCode = plan.recordErrorCode ?? 'ServiceUnavailableException';
    this.throttle = count(plan.throttleNext);
    this.failCalls = count(plan.failNext);
    this.failCode = plan.failWith ?? 'InternalFailure';
    this.latency = Math.max(0, plan.latencyMs ?? 0);
  }

  /** Removes every fault. */
  clear(): void {
    this.set({});
  }

  pending(): PendingFirehoseFaults {
    return { failRecords: this.recordCount, throttleNext: this.throttle, failNext: this.failCalls };
  }

  get latencyMs(): number {
    return this.latency;
  }

  get recordErrorCode(): RecordErrorCode {
    return this.errorCode;
  }

  /** Whether this call is throttled (consumes one). */
  takeThrottle(): boolean {
    if (this.throttle <= 0) return false;
    this.throttle -= 1;
    return true;
  }

  /** The error this call fails with, if any (consumes one). */
  takeCallFailure(): FirehoseErrorCode | undefined {
    if (this.failCalls <= 0) return undefined;
    this.failCalls -= 1;
    return this.failCode;
  }

  /** Whether this record is answered with an error entry (consumes one of a numeric count). */
  takeRecordFailure(record: InjectedRecord): boolean {
    if (record.position < this.perCall) return true;
    if (this.recordMatch !== undefined) return this.recordMatch(record);
    if (this.recordCount <= 0) return false;
    this.recordCount -= 1;
    return true;
  }
}

function count(value: number | undefined): number {
  return Math.max(0, Math.floor(value ?? 0));
}
