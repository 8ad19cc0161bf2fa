import type { EventPublisher } from './control-plane-events';
import type { PublishedDetailType } from './subscription-effects';
import type { TenantRegistry, VersionedTenant } from './tenant-registry';

/**
 * Publishes a tenant's outbox — the control-plane events saved with the changes that caused them —
 * and empties it. If publishing fails, the events stay saved and the next flush (the next notification
 * or registration of that tenant, or a redelivery of this one) publishes them: a change is never
 * separated from its events. Events carry their notification's id, so a repeat is harmless.
 * Returns the detail-types published.
 */
export async function flushOutbox(registry: TenantRegistry, tenantId: string, publisher: EventPublisher): Promise<PublishedDetailType[]> {
  return publishOutbox(registry, await registry.get(tenantId), publisher);
}

/** {@link flushOutbox} for a tenant the caller has just read. */
export async function publishOutbox(registry: TenantRegistry, current: VersionedTenant | undefined, publisher: EventPublisher): Promise<PublishedDetailType[]> {
  if (current === undefined || current.outbox.length === 0) return [];
  await publisher.publish(current.outbox);
  await registry.clearOutbox(current.tenant.tenantId, current.version);
  return current.outbox.map((event) => event.detailType);
}
