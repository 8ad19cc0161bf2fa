/**
 * DynamoDB capacity per tenant, counted by the usage store as tenant cost allocation counts it (write
 * 1 unit, strongly consistent read 1, eventually consistent read 0.5), on a DynamoDB-compatible
 * server: every request on a tenant's items is told to the observer under that tenant, and nothing of
 * one tenant is counted under another.
 */
import { DynamoDbUsageStore } from '../../adapters/dynamodb/dynamodb-usage-store';
import { usageTableDefinition } from '../../adapters/dynamodb/usage-table-definition';
import { CapacityCounter, type TenantCapacity } from '../../core/cost/capacity-units';
import type { CapacityOperation } from '../../core/cost/capacity-units';
import { HOUR_MS } from '../../core/usage/hours';
import { startLocalDynamoDb, type LocalDynamoDb } from '../../local/dynamodb/local-dynamodb';

const HOUR = Date.UTC(2026, 10, 20, 9);
let dynamo: LocalDynamoDb;
beforeAll(async () => { dynamo = await startLocalDynamoDb(); });
afterAll(async () => { await dynamo.close(); });

it('counts every read and write on a tenant\'s usage hours under that tenant', async () => {
  await dynamo.createTable(usageTableDefinition('usage-capacity'));
  const seen: { tenantId: string; operation: CapacityOperation; items: number }[] = [];
  const flushed: TenantCapacity[] = [];
  const counter = new CapacityCounter((c) => flushed.push(c));
  const store = new DynamoDbUsageStore(dynamo.client, 'usage-capacity', {
    onCapacity: (tenantId, operation, items) => {
      seen.push({ tenantId, operation, items });
      counter.count(tenantId, operation, items);
    },
  });
  const acme = { tenantId: 'acme', dimension: 'api_requests' };
  // acme: two hours measured (2 writes), one re-measured with the same value (a failed conditional write + a strong read).
  await store.recordMeasurement({ ...acme, hour: HOUR, quantity: 5 }, 1, 1);
  await store.recordMeasurement({ ...acme, hour: HOUR + HOUR_MS, quantity: 7 }, 1, 1);
  await expect(store.recordMeasurement({ ...acme, hour: HOUR, quantity: 5 }, 2, 2)).resolves.toBe('unchanged');
  // globex: one hour, then its pending list read through the index (eventually consistent).
  await store.recordMeasurement({ tenantId: 'globex', dimension: 'api_requests', hour: HOUR, quantity: 3 }, 1, 1);
  const unsent = await store.unsentHours(HOUR);
  expect(unsent.map((u) => u.tenantId).sort()).toEqual(['acme', 'globex']);
  // acme: its series read (2 items, strongly consistent), a record planned and marked sent (2 writes).
  expect(await store.readSeries(acme)).toHaveLength(2);
  const plan = { hour: HOUR, measured: 5, carriedIn: [], quantity: 5 };
  await store.recordPendingSend(acme, plan, 3);
  await store.markSent(acme, plan, 4);
  // Aggregation bookkeeping belongs to no tenant.
  await store.markHourAggregated(HOUR, 1, 3);

  expect(seen.filter((s) => s.tenantId === 'globex')).toEqual([
    { tenantId: 'globex', operation: 'write', items: 1 },
    { tenantId: 'globex', operation: 'eventually-consistent-read', items: 1 },
  ]);
  counter.flush();
  const units = Object.fromEntries(flushed.map((c) => [c.tenantId, c.units]));
  // acme: writes 2 + 1 (failed) + 2 = 5; strong reads 1 + 2 = 3; eventual 1 × 0.5.
  expect(units).toEqual({ acme: 8.5, globex: 1.5 });
});
