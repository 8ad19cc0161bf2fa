/**
 * The local run's clock: simulated time while the run drives its hours (every component that reads
 * the time — the local API's request times, the usage-events handler, aggregation, metering, the
 * Marketplace simulator — reads this one), real time once it is switched to follow the wall clock
 * (`--serve`, for manual exploration). It never goes backwards.
 */
export class RunClock {
  private simulated: number | undefined;

  constructor(start: number) {
    this.simulated = start;
  }

  readonly now = (): number => this.simulated ?? Date.now();

  /** Moves simulated time to `at` (never backwards). */
  set(at: number): void {
    if (this.simulated === undefined) throw new Error('the clock follows real time now');
    if (at > this.simulated) this.simulated = at;
  }

  advance(ms: number): void {
    this.set(this.now() + ms);
  }

  /** From now on, the wall clock. */
  followRealTime(): void {
    this.simulated = undefined;
  }
}
