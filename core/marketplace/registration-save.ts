/**
 * Applies a completed registration to the tenant registry: find the tenant by identity, apply
 * {@link registerTenant}, save conditionally on the version read, and on a lost race read again and
 * re-apply once (a notification may have changed the tenant in between).
 */
import type { MarketplaceIdentity } from './identity';
import type { Effect } from './subscription-effects';
import { registerTenant } from './subscription-lifecycle';
import type { Registration, Tenant } from './tenant';
import { TenantVersionConflict, type TenantRegistry } from './tenant-registry';

/** The tenant after registration, whether it was written, and the effects to carry out. */
export interface SavedRegistration {
  readonly tenant: Tenant;
  /** False when the registration changed nothing (the same details were registered before). */
  readonly saved: boolean;
  readonly effects: readonly Effect[];
}

/** How many times a save that lost a race is retried (after reading the tenant again). */
export const SAVE_RETRIES = 1;

/** Registers and saves; throws {@link TenantVersionConflict} when the race is lost twice. */
export async function saveRegistration(registry: TenantRegistry, identity: MarketplaceIdentity, registration: Registration, now: number): Promise<SavedRegistration> {
  for (let attempt = 0; ; attempt += 1) {
    const existing = await registry.findByIdentity(identity);
    const { tenant, effects } = registerTenant(existing?.tenant, registration, identity, now);
    if (tenant === undefined) throw new Error('registerTenant returned no tenant');
    if (existing !== undefined && tenant === existing.tenant) return { tenant, saved: false, effects };
    try {
      // The events of the change are saved with it (outbox), after any an earlier attempt left.
      const events = effects.flatMap((effect) => (effect.type === 'publish' ? [{ detailType: effect.detailType, detail: effect.detail }] : []));
      await registry.save(tenant, existing?.version, [...(existing?.outbox ?? []), ...events]);
      return { tenant, saved: true, effects };
    } catch (error) {
      if (!(error instanceof TenantVersionConflict) || attempt >= SAVE_RETRIES) throw error;
    }
  }
}
