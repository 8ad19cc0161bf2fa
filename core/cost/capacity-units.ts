/**
 * DynamoDB capacity per tenant, counted the way the tenant cost allocation reference does: for items
 * under 1 KB (writes) and 4 KB (reads), which this system's items are, a write costs 1 capacity
 * unit, a strongly consistent read 1, an eventually consistent read 0.5. The tables are on-demand, so
 * these units are what each tenant's requests cost; transactions (2×) and larger items are not
 * modelled. Units are kept as whole half-units, so totals stay exact.
 */

/** A DynamoDB item operation, as it is priced. Conditional writes that fail are still writes. */
export type CapacityOperation = 'write' | 'eventually-consistent-read' | 'strongly-consistent-read';

/** Half capacity units of one item of each operation. */
const HALF_UNITS: Readonly<Record<CapacityOperation, number>> = {
  write: 2,
  'strongly-consistent-read': 2,
  'eventually-consistent-read': 1,
};

/** A count or a tenant the capacity rule cannot take. */
export class CapacityCountError extends RangeError {
  override readonly name = 'CapacityCountError';
}

function checkItems(items: number): void {
  if (!Number.isSafeInteger(items) || items < 0) throw new CapacityCountError(`items must be a whole number ≥ 0, got ${String(items)}`);
}

/** The operation a read with DynamoDB's `ConsistentRead` flag is (absent means eventually consistent). */
export function readOperation(consistentRead: boolean | undefined): CapacityOperation {
  return consistentRead === true ? 'strongly-consistent-read' : 'eventually-consistent-read';
}

/** Whole half capacity units of `items` items of an operation (write 2, strong read 2, eventual read 1 per item). */
export function capacityHalfUnits(operation: CapacityOperation, items = 1): number {
  const half = HALF_UNITS[operation];
  if (half === undefined) throw new CapacityCountError(`unknown DynamoDB operation ${JSON.stringify(operation)}`);
  checkItems(items);
  const total = half * items;
  if (!Number.isSafeInteger(total)) throw new CapacityCountError(`${items} items is beyond exact counting`);
  return total;
}

/**
 * Capacity units of `items` items of an operation: a write 1, a strongly consistent read 1, an
 * eventually consistent read 0.5 per item (exact: a multiple of 0.5).
 */
export function capacityUnits(operation: CapacityOperation, items = 1): number {
  return capacityHalfUnits(operation, items) / 2;
}

/** What a {@link CapacityCounter} flushes for one tenant. */
export interface TenantCapacity {
  readonly tenantId: string;
  /** Capacity units since the last flush, a multiple of 0.5 (> 0). */
  readonly units: number;
}

/**
 * Counts capacity units per tenant as operations happen (an adapter calls {@link count} for each
 * operation on a tenant's items) and hands the totals to `flushTo` on {@link flush} — typically at
 * the end of an invocation, into a tenant metric. A tenant is only forgotten once its total was
 * taken: when `flushTo` throws, that tenant and those after it stay counted for the next flush.
 */
export class CapacityCounter {
  private readonly halfUnits = new Map<string, number>();

  constructor(private readonly flushTo: (capacity: TenantCapacity) => void) {}

  /** Adds `items` items of an operation on the tenant's data. */
  count(tenantId: string, operation: CapacityOperation, items = 1): void {
    if (typeof tenantId !== 'string' || tenantId.length === 0) throw new CapacityCountError(`capacity needs a tenant, got ${JSON.stringify(tenantId)}`);
    const added = capacityHalfUnits(operation, items);
    if (added === 0) return;
    const total = (this.halfUnits.get(tenantId) ?? 0) + added;
    if (!Number.isSafeInteger(total)) throw new CapacityCountError(`capacity of tenant ${JSON.stringify(tenantId)} is beyond exact counting; flush more often`);
    this.halfUnits.set(tenantId, total);
  }

  /** Units counted for a tenant since the last flush. */
  pending(tenantId: string): number {
    return (this.halfUnits.get(tenantId) ?? 0) / 2;
  }

  /** Hands each tenant's units to `flushTo` (in the order tenants were first counted) and forgets them. */
  flush(): void {
    for (const [tenantId, half] of [...this.halfUnits]) {
      this.flushTo({ tenantId, units: half / 2 });
      this.halfUnits.delete(tenantId);
    }
  }
}
