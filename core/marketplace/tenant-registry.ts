import type { ControlPlaneEvent } from './control-plane-events';
import type { EventIdentity } from './identity';
import type { Tenant } from './tenant';

/** An event for the control plane, kept with the tenant until it has been published (outbox). */
export type OutboxEvent = ControlPlaneEvent;

/** A tenant with the version it was read at (for optimistic, conditional saves) and its unpublished events. */
export interface VersionedTenant {
  readonly tenant: Tenant;
  readonly version: number;
  /** Events saved with the tenant and not yet published (see `flushOutbox`). */
  readonly outbox: readonly OutboxEvent[];
}

/** Saving lost a race: the tenant changed since it was read. Read it again and re-apply. */
export class TenantVersionConflict extends Error {
  constructor(tenantId: string, options?: ErrorOptions) {
    super(`tenant ${tenantId} changed since it was read`, options);
    this.name = 'TenantVersionConflict';
  }
}

/**
 * The tenant registry (DynamoDB in AWS, a DynamoDB-compatible server locally): tenants by id and by
 * every Marketplace identity key they carry. Saves are conditional on the version read.
 */
export interface TenantRegistry {
  get(tenantId: string): Promise<VersionedTenant | undefined>;
  /** The tenant an event's identity designates, if any. */
  findByIdentity(identity: EventIdentity): Promise<VersionedTenant | undefined>;
  /**
   * Saves a tenant read at `expectedVersion` (undefined: a new tenant) together with its outbox — the
   * events still to publish, in the same write, so that a change and the events it causes are never
   * separated. Throws {@link TenantVersionConflict} on a race.
   */
  save(tenant: Tenant, expectedVersion: number | undefined, outbox?: readonly OutboxEvent[]): Promise<number>;
  /** Empties the outbox after its events were published, if the tenant is still at `version`. Returns whether it did. */
  clearOutbox(tenantId: string, version: number): Promise<boolean>;
}
