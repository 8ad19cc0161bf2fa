import type { ControlPlaneEvent, EventPublisher } from '../../core/marketplace/control-plane-events';

/** An {@link EventPublisher} that keeps what it was given (local runtime and tests). */
export class InMemoryEventPublisher implements EventPublisher {
  private readonly published: ControlPlaneEvent[] = [];
  /** Calls to fail before publishing again (fault injection). */
  failNext = 0;

  async publish(events: readonly ControlPlaneEvent[]): Promise<void> {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('injected publish failure');
    }
    this.published.push(...events);
  }

  /** Everything published so far, oldest first. */
  events(): ControlPlaneEvent[] {
    return [...this.published];
  }
}
