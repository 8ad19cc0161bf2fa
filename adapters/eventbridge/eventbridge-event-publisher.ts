import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { ControlPlaneEvent, EventPublisher } from '../../core/marketplace/control-plane-events';

/** The `source` of every event this system publishes to the control plane. */
export const CONTROL_PLANE_EVENT_SOURCE = 'saas-metering.marketplace';

/** PutEvents accepts at most 10 entries per call. */
export const MAX_ENTRIES_PER_CALL = 10;

/** Some events were not accepted by EventBridge (after one retry of the failed entries). */
export class EventPublishError extends Error {
  constructor(readonly failures: readonly { readonly detailType: string; readonly errorCode: string }[]) {
    super(`EventBridge did not accept ${failures.length} event(s): ${failures.map((f) => `${f.detailType} (${f.errorCode})`).join(', ')}`);
    this.name = 'EventPublishError';
  }
}

/**
 * {@link EventPublisher} over EventBridge PutEvents: source {@link CONTROL_PLANE_EVENT_SOURCE},
 * DetailType = the effect's detail-type, Detail = its JSON. PutEvents can partly fail (HTTP 200 with
 * `FailedEntryCount` > 0 and an `ErrorCode` per failed entry): the failed entries are sent once more,
 * and any still failing make `publish` throw {@link EventPublishError}. Consumers must tolerate
 * duplicates (a retried entry may have been delivered).
 */
export class EventBridgeEventPublisher implements EventPublisher {
  constructor(private readonly client: EventBridgeClient, private readonly eventBusName: string) {}

  async publish(events: readonly ControlPlaneEvent[]): Promise<void> {
    const failures: { detailType: string; errorCode: string }[] = [];
    for (let start = 0; start < events.length; start += MAX_ENTRIES_PER_CALL) {
      let pending = events.slice(start, start + MAX_ENTRIES_PER_CALL).map((event) => this.entryOf(event));
      for (let attempt = 0; attempt < 2 && pending.length > 0; attempt += 1) {
        const output = await this.client.send(new PutEventsCommand({ Entries: pending }));
        if ((output.FailedEntryCount ?? 0) === 0 && (output.Entries ?? []).every((entry) => entry.ErrorCode === undefined)) break;
        const results = output.Entries ?? [];
        const failed = pending
          .map((entry, index) => ({ entry, errorCode: results[index]?.ErrorCode ?? (results[index]?.EventId === undefined ? 'Unknown' : undefined) }))
          .filter((item): item is { entry: PutEventsRequestEntry; errorCode: string } => item.errorCode !== undefined);
        pending = failed.map((item) => item.entry);
        if (attempt === 1) failures.push(...failed.map((item) => ({ detailType: item.entry.DetailType ?? '', errorCode: item.errorCode })));
      }
    }
    if (failures.length > 0) throw new EventPublishError(failures);
  }

  private entryOf(event: ControlPlaneEvent): PutEventsRequestEntry {
    return {
      EventBusName: this.eventBusName,
      Source: CONTROL_PLANE_EVENT_SOURCE,
      DetailType: event.detailType,
      Detail: JSON.stringify(event.detail),
    };
  }
}
