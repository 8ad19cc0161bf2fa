/**
 * At most `callsPerSecond` calls in any one-second window (BatchMeterUsage allows about 10 per second
 * per account and region). `take()` waits until a call may start and returns its `release`, to be
 * called when the call's response arrives: a call counts from its start until one second after its
 * response. The service sees a call somewhere between the two, so calls `callsPerSecond` apart always
 * reach it more than a second apart, however the network delays them.
 */
export class RateLimiter {
  private readonly slots: { end?: number }[] = [];

  constructor(
    private readonly callsPerSecond: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    if (!Number.isInteger(callsPerSecond) || callsPerSecond < 1) throw new Error('callsPerSecond must be a positive whole number');
  }

  async take(): Promise<() => void> {
    for (;;) {
      const now = this.now();
      for (let i = this.slots.length - 1; i >= 0; i -= 1) {
        const end = this.slots[i].end;
        if (end !== undefined && end <= now - 1000) this.slots.splice(i, 1);
      }
      if (this.slots.length < this.callsPerSecond) {
        const slot: { end?: number } = {};
        this.slots.push(slot);
        let released = false;
        return () => {
          if (released) return;
          released = true;
          slot.end = this.now();
        };
      }
      const ends = this.slots.map((s) => s.end).filter((end): end is number => end !== undefined);
      // Every slot in flight: wait a little for one to come back.
      await this.sleep(ends.length > 0 ? Math.max(1, Math.min(...ends) + 1000 - now) : 10);
    }
  }
}
