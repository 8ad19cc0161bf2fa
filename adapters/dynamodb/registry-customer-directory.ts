import type { BillableCustomer, CustomerDirectory } from '../../core/marketplace/metering-run';
import { isBillable, meteringCustomerOf } from '../../core/marketplace/tenant';
import type { TenantRegistry } from '../../core/marketplace/tenant-registry';

/** Metering's view of the tenant registry: whom to bill for a tenant, and whether now. */
export class RegistryCustomerDirectory implements CustomerDirectory {
  private readonly cache = new Map<string, Promise<BillableCustomer | undefined>>();

  constructor(private readonly registry: TenantRegistry) {}

  /** Looked up once per tenant per run (a directory lives for one metering run). */
  customerOf(tenantId: string): Promise<BillableCustomer | undefined> {
    let found = this.cache.get(tenantId);
    if (found === undefined) {
      found = this.registry.get(tenantId).then((entry) => entry && {
        productCode: entry.tenant.identity.productCode,
        customer: meteringCustomerOf(entry.tenant),
        billable: isBillable(entry.tenant),
        subscribedAt: entry.tenant.subscribedAt,
      });
      this.cache.set(tenantId, found);
    }
    return found;
  }
}
