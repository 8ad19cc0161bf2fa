import type { PublishedDetail, PublishedDetailType } from './subscription-effects';

/**
 * An event for the SaaS control plane (a `publish` effect of the subscription lifecycle), as the
 * tenant registry keeps it in a tenant's outbox until it has been published.
 */
export interface ControlPlaneEvent {
  readonly detailType: PublishedDetailType;
  readonly detail: PublishedDetail;
}

/** Publishes events to the control plane (EventBridge). Throws when any event was not accepted. */
export interface EventPublisher {
  publish(events: readonly ControlPlaneEvent[]): Promise<void>;
}
