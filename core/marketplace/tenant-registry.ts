import type { EventIdentity } from './identity';
import type { Tenant } from './tenant';

/** A tenant with the version it was read at (for optimistic, conditional saves). */
export interface VersionedTenant {
  readonly tenant: Tenant;
  readonly version: number;
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
  /** Saves a tenant read at `expectedVersion` (undefined: a new tenant); throws {@link TenantVersionConflict} on a race. */
  save(tenant: Tenant, expectedVersion: number | undefined): Promise<number>;
}
