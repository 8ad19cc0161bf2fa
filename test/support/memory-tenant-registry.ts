/**
 * A tenant registry in memory with the DynamoDB registry's semantics (lookups by identity key first, an
 * identity key never moved to another tenant, saves conditional on the version read), and hooks for
 * tests: another writer before a save, failing saves, direct setup.
 */
import { identityMatches, lookupKeys, type EventIdentity } from '../../core/marketplace/identity';
import type { Tenant } from '../../core/marketplace/tenant';
import { TenantVersionConflict, type OutboxEvent, type TenantRegistry, type VersionedTenant } from '../../core/marketplace/tenant-registry';

/** The DynamoDB registry's semantics in memory: lookups first, conditional versions. */
export class MemoryRegistry implements TenantRegistry {
  readonly tenants = new Map<string, VersionedTenant>();
  readonly lookups = new Map<string, string>();
  saves = 0;
  /** Called before each save is checked (simulates another writer). */
  beforeSave?: (tenant: Tenant, expectedVersion: number | undefined) => void | Promise<void>;
  /** Makes the next saves throw this error. */
  failSaves?: Error;

  async get(tenantId: string): Promise<VersionedTenant | undefined> {
    return this.tenants.get(tenantId);
  }

  async findByIdentity(identity: EventIdentity): Promise<VersionedTenant | undefined> {
    for (const key of lookupKeys(identity)) {
      const id = this.lookups.get(key);
      const found = id === undefined ? undefined : this.tenants.get(id);
      if (found !== undefined && identityMatches(found.tenant.identity, identity)) return found;
    }
    return undefined;
  }

  async save(tenant: Tenant, expectedVersion: number | undefined, outbox: readonly OutboxEvent[] = []): Promise<number> {
    await this.beforeSave?.(tenant, expectedVersion);
    if (this.failSaves) throw this.failSaves;
    for (const key of lookupKeys(tenant.identity)) {
      const owner = this.lookups.get(key);
      if (owner !== undefined && owner !== tenant.tenantId) throw new Error(`identity key ${key} already belongs to another tenant`);
      this.lookups.set(key, tenant.tenantId);
    }
    const stored = this.tenants.get(tenant.tenantId);
    if (expectedVersion === undefined ? stored !== undefined : stored?.version !== expectedVersion) throw new TenantVersionConflict(tenant.tenantId);
    const version = (expectedVersion ?? 0) + 1;
    this.tenants.set(tenant.tenantId, { tenant, version, outbox });
    this.saves += 1;
    return version;
  }

  async clearOutbox(tenantId: string, version: number): Promise<boolean> {
    const stored = this.tenants.get(tenantId);
    if (stored?.version !== version) return false;
    this.tenants.set(tenantId, { ...stored, outbox: [] });
    return true;
  }

  /** Saves a tenant directly (test setup). */
  put(tenant: Tenant): void {
    for (const key of lookupKeys(tenant.identity)) this.lookups.set(key, tenant.tenantId);
    this.tenants.set(tenant.tenantId, { tenant, version: 1, outbox: [] });
  }
}
