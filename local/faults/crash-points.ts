/**
 * Crash points: a fault injector that kills a process at one exact step, so a test can crash a job
 * at EVERY step it takes and prove that a restart repairs whatever the crash left behind.
 *
 * The dependencies a job talks to (the usage store, the query engine, the Metering Service) are
 * wrapped; every call of one of their methods is a step, numbered from 1 in the order the calls start.
 * A clean run with no crash armed records the steps (how many, and which method each is), so the test
 * can then arm a crash at step 1, 2, … N in turn, at either position:
 *
 * - `before`: the process dies as the call is about to go out — the call never reaches the target;
 * - `after`: the call reaches the target and takes effect, and the process dies before it sees the
 *   answer — a write that happened but whose answer was lost.
 *
 * Once the crash has struck the process is dead: the call at the crash point throws a
 * {@link CrashError}, and so does every later call of any wrapped dependency, without reaching it, so
 * code that catches the error cannot go on to change anything. A call already in flight when the crash
 * strikes finishes at its target (a request already sent may land) but its answer is lost too. Nothing
 * here stands in for the targets: they are whatever is wrapped (in the tests, the real adapters on
 * local engines).
 *
 * A clean run can also look at the world between steps (`observe`): with the calls made one at a time,
 * the state a crash before step k leaves is the state after step k - 1, and a crash after step k leaves
 * the state after step k.
 *
 * ```ts
 * const counter = new CrashPoints();                        // clean run: counts the steps
 * await job(counter.wrap('store', realStore));
 * const crash = new CrashPoints({ crash: { step: 17, position: 'after' } });
 * await expect(job(crash.wrap('store', realStore))).rejects.toBeInstanceOf(CrashError);
 * crash.struck; // { index: 17, target: 'store', method: 'recordPendingSend', position: 'after' }
 * ```
 */

/** Where a crash strikes, relative to the call at its step. */
export type CrashPosition = 'before' | 'after';

export const CRASH_POSITIONS: readonly CrashPosition[] = ['before', 'after'];

/** One call of a wrapped dependency. */
export interface CrashStep {
  /** 1-based, in the order the calls started. */
  readonly index: number;
  /** The name the dependency was wrapped under. */
  readonly target: string;
  readonly method: string;
}

/** The crash a {@link CrashPoints} is armed with. */
export interface CrashPlan {
  /** The step at which the process dies (1-based). */
  readonly step: number;
  readonly position: CrashPosition;
}

/** Options of {@link CrashPoints}. */
export interface CrashPointsOptions {
  /** The crash to inject; none: a clean run that only counts the steps. */
  readonly crash?: CrashPlan;
  /**
   * Awaited after each call has settled at its target and before its answer is handed back (not at
   * or after the crash): a clean run records the state between steps here.
   */
  readonly observe?: (step: CrashStep) => Promise<void> | void;
}

/**
 * The process died: thrown by the call at the crash point, and by every call made after it or still in
 * flight when it struck. `step` and `position` are the crash point's.
 */
export class CrashError extends Error {
  constructor(
    readonly step: CrashStep,
    readonly position: CrashPosition,
    /** True for the call at the crash point itself, false for a call made after the process died. */
    readonly atCrashPoint: boolean,
  ) {
    super(`${atCrashPoint ? 'crashed' : 'process already dead'} ${position} step ${step.index} (${step.target}.${step.method})`);
    this.name = 'CrashError';
  }
}

/** Refused input: a crash plan that names no step, or a method that is not asynchronous. */
export class CrashPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CrashPlanError';
  }
}

/** Counts the calls of the dependencies it wraps and, when armed, crashes at one of them. */
export class CrashPoints {
  private readonly log: CrashStep[] = [];
  private death: { step: CrashStep; position: CrashPosition } | undefined;

  private readonly plan: CrashPlan | undefined;
  private readonly observe: CrashPointsOptions['observe'];

  constructor(options: CrashPointsOptions = {}) {
    const plan = options.crash;
    if (plan !== undefined && (!Number.isSafeInteger(plan.step) || plan.step < 1)) throw new CrashPlanError(`crash step must be a whole number from 1, got ${String(plan.step)}`);
    if (plan !== undefined && !CRASH_POSITIONS.includes(plan.position)) throw new CrashPlanError(`crash position must be 'before' or 'after', got ${String(plan.position)}`);
    this.plan = plan;
    this.observe = options.observe;
  }

  /** Every step started so far, in order (the calls refused after the crash are not steps). */
  get steps(): readonly CrashStep[] {
    return this.log;
  }

  /** The crash, once it has struck. */
  get struck(): (CrashStep & { readonly position: CrashPosition }) | undefined {
    return this.death === undefined ? undefined : { ...this.death.step, position: this.death.position };
  }

  /**
   * The same object, with every method (own or inherited, except the constructor) counted as a step
   * and subject to the armed crash. Properties that are not functions pass through. Every method
   * called through the wrapper must return a promise: the wrapper always does.
   */
  wrap<T extends object>(target: string, dependency: T): T {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const points = this;
    return new Proxy(dependency, {
      get(object, property, receiver) {
        const value = Reflect.get(object, property, receiver) as unknown;
        if (typeof value !== 'function' || property === 'constructor') return value;
        const method = typeof property === 'symbol' ? property.toString() : property;
        return (...args: unknown[]) => points.call(target, method, () => (value as (...a: unknown[]) => unknown).apply(object, args));
      },
    });
  }

  private async call(target: string, method: string, invoke: () => unknown): Promise<unknown> {
    if (this.death !== undefined) throw new CrashError(this.death.step, this.death.position, false);
    const step: CrashStep = { index: this.log.length + 1, target, method };
    this.log.push(step);
    const strikes = this.plan !== undefined && this.plan.step === step.index;
    if (strikes && this.plan!.position === 'before') {
      this.death = { step, position: 'before' };
      throw new CrashError(step, 'before', true);
    }
    let pending: unknown;
    try {
      pending = invoke();
    } catch (error) {
      pending = Promise.reject(error);
    }
    if (!isPromiseLike(pending)) throw new CrashPlanError(`${target}.${method} did not return a promise: only asynchronous methods can be crash points`);
    let outcome: { value: unknown } | { error: unknown };
    try {
      outcome = { value: await pending };
    } catch (error) {
      outcome = { error };
    }
    if (strikes) {
      // The call took effect (or failed) at its target; the answer dies with the process.
      this.death = { step, position: 'after' };
      throw new CrashError(step, 'after', true);
    }
    // A call in flight when the process died: whatever it did at its target, nobody reads the answer.
    const death = this.death as { step: CrashStep; position: CrashPosition } | undefined;
    if (death !== undefined) throw new CrashError(death.step, death.position, false);
    if (this.observe !== undefined) await this.observe(step);
    if ('error' in outcome) throw outcome.error;
    return outcome.value;
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
