/**
 * At most `callsPerSecond` calls in any one-second window (BatchMeterUsage allows about 10 per second
 * per account and region). `take()` waits until a call may start.
 */
export class RateLimiter {
  private readonly starts: number[] = [];

  constructor(
    private readonly callsPerSecond: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    if (!Number.isInteger(callsPerSecond) || callsPerSecond < 1) throw new Error('callsPerSecond must be a positive whole number');
  }

  async take(): Promise<void> {
    for (;;) {
      const now = this.now();
      while (this.starts.length > 0 && this.starts[0] <= now - 1000) this.starts.shift();
      if (this.starts.length < this.callsPerSecond) {
        this.starts.push(now);
        return;
      }
      await this.sleep(this.starts[0] + 1000 - now);
    }
  }
}
