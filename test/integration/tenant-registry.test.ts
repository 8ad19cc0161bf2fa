/**
 * The DynamoDB tenant registry against a DynamoDB-compatible server (dynalite) with the real AWS SDK:
 * creation, lookup by every identity key, conditional versions, and identity keys that belong to
 * another tenant.
 */
import { DynamoDbTenantRegistry, tenantTableDefinition } from '../../adapters/dynamodb/dynamodb-tenant-registry';
import { deriveTenantId, type EventIdentity, type MarketplaceIdentity } from '../../core/marketplace/identity';
import { DETAIL_TYPES } from '../../core/marketplace/subscription-effects';
import { registerTenant } from '../../core/marketplace/subscription-lifecycle';
import { registrationSchema, type Tenant } from '../../core/marketplace/tenant';
import { TenantVersionConflict } from '../../core/marketplace/tenant-registry';
import { startLocalDynamoDb, type LocalDynamoDb } from '../../local/dynamodb/local-dynamodb';

const NOW = Date.UTC(2025, 5, 1, 13);
const PRODUCT = 'a1b2c3d4e5f6g7h8i9j0k1l2m';
const BUYER = '111122223333';
const LICENSE_ARN = 'arn:aws:license-manager::111122223333:license:l-0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const AGREEMENT = 'agmt-7c2xq9example0001';
const LICENSED: MarketplaceIdentity = { kind: 'license', customerAWSAccountId: BUYER, licenseArn: LICENSE_ARN, productCode: PRODUCT, agreementId: AGREEMENT, customerIdentifier: 'QxU3mZk8pWd' };
const LEGACY: MarketplaceIdentity = { kind: 'customer-identifier', customerIdentifier: 'Zz9LegacyOnly', productCode: PRODUCT };
const REGISTRATION = registrationSchema.parse({ companyName: 'Example Ltd', contactPerson: 'Jane Doe', contactEmail: 'jane@example.com', contactPhone: '+44 20 7946 0000' });

function tenantOf(identity: MarketplaceIdentity): Tenant {
  const { tenant } = registerTenant(undefined, REGISTRATION, identity, NOW);
  if (tenant === undefined) throw new Error('no tenant');
  return tenant;
}

let dynamo: LocalDynamoDb;
let tables = 0;
let registry: DynamoDbTenantRegistry;
beforeAll(async () => { dynamo = await startLocalDynamoDb(); });
afterAll(async () => { await dynamo.close(); });
beforeEach(async () => {
  const table = `tenants-r${++tables}`;
  await dynamo.createTable(tenantTableDefinition(table));
  registry = new DynamoDbTenantRegistry(dynamo.client, table);
});

describe('DynamoDbTenantRegistry', () => {
  it('creates a tenant at version 1 and reads it back unchanged', async () => {
    const tenant = tenantOf(LICENSED);
    await expect(registry.save(tenant, undefined)).resolves.toBe(1);
    await expect(registry.get(tenant.tenantId)).resolves.toEqual({ tenant, version: 1, outbox: [] });
    await expect(registry.get('mp-unknown')).resolves.toBeUndefined();
  });

  it.each<[string, EventIdentity]>([
    ['the licence (ARN as the licence event prints it)', { kind: 'license', customerAWSAccountId: BUYER, licenseArn: LICENSE_ARN.replace(/^arn:/, ''), productCode: PRODUCT }],
    ['the agreement', { kind: 'agreement', customerAWSAccountId: BUYER, agreementId: AGREEMENT }],
    ['the agreement a renewal replaces', { kind: 'agreement', customerAWSAccountId: BUYER, agreementId: 'agmt-renewal00002', previousAgreementId: AGREEMENT }],
    ['the legacy customer identifier', { kind: 'customer-identifier', customerIdentifier: 'QxU3mZk8pWd', productCode: PRODUCT }],
  ])('finds the tenant by %s', async (_label, identity) => {
    const tenant = tenantOf(LICENSED);
    await registry.save(tenant, undefined);
    await expect(registry.findByIdentity(identity)).resolves.toEqual({ tenant, version: 1, outbox: [] });
  });

  it('does not find a tenant through a key whose account or product differs, nor an unknown key', async () => {
    await registry.save(tenantOf(LICENSED), undefined);
    await expect(registry.findByIdentity({ kind: 'agreement', customerAWSAccountId: '999988887777', agreementId: AGREEMENT })).resolves.toBeUndefined();
    await expect(registry.findByIdentity({ kind: 'customer-identifier', customerIdentifier: 'QxU3mZk8pWd', productCode: 'other-product' })).resolves.toBeUndefined();
    await expect(registry.findByIdentity({ kind: 'customer-identifier', customerIdentifier: 'nobody', productCode: PRODUCT })).resolves.toBeUndefined();
  });

  it('finds a tenant by a key added in a later version', async () => {
    const tenant = tenantOf({ kind: 'license', customerAWSAccountId: BUYER, licenseArn: LICENSE_ARN, productCode: PRODUCT });
    await registry.save(tenant, undefined);
    const agreement: EventIdentity = { kind: 'agreement', customerAWSAccountId: BUYER, agreementId: AGREEMENT };
    await expect(registry.findByIdentity(agreement)).resolves.toBeUndefined();
    const updated: Tenant = { ...tenant, identity: { ...(tenant.identity as Extract<MarketplaceIdentity, { kind: 'license' }>), agreementId: AGREEMENT } };
    await expect(registry.save(updated, 1)).resolves.toBe(2);
    await expect(registry.findByIdentity(agreement)).resolves.toEqual({ tenant: updated, version: 2, outbox: [] });
  });

  it('refuses a save at a stale version, and a second creation, with TenantVersionConflict', async () => {
    const tenant = tenantOf(LEGACY);
    await registry.save(tenant, undefined);
    await registry.save({ ...tenant, updatedAt: NOW + 1 }, 1);
    await expect(registry.save({ ...tenant, updatedAt: NOW + 2 }, 1)).rejects.toBeInstanceOf(TenantVersionConflict);
    await expect(registry.save({ ...tenant, updatedAt: NOW + 3 }, undefined)).rejects.toBeInstanceOf(TenantVersionConflict);
    await expect(registry.get(tenant.tenantId)).resolves.toMatchObject({ version: 2, tenant: { updatedAt: NOW + 1 } });
  });

  it('refuses a tenant whose identity key belongs to another tenant: the tenant is not written (a lookup written before the refusal points to nothing)', async () => {
    await registry.save(tenantOf(LICENSED), undefined);
    // Another licence of the same buyer that claims the first tenant's agreement.
    const intruder: MarketplaceIdentity = { kind: 'license', customerAWSAccountId: BUYER, licenseArn: 'arn:aws:license-manager::111122223333:license:l-ffffffffffffffffffffffffffffffff', productCode: PRODUCT, agreementId: AGREEMENT };
    const tenant = tenantOf(intruder);
    expect(tenant.tenantId).not.toBe(deriveTenantId(LICENSED));
    await expect(registry.save(tenant, undefined)).rejects.toThrow(/already belongs to another tenant/);
    await expect(registry.get(tenant.tenantId)).resolves.toBeUndefined();
    await expect(registry.findByIdentity({ kind: 'agreement', customerAWSAccountId: BUYER, agreementId: AGREEMENT })).resolves.toMatchObject({ tenant: { tenantId: deriveTenantId(LICENSED) } });
  });
});

describe('DynamoDbTenantRegistry outbox', () => {
  it('keeps events with the change that caused them until they are cleared at that version', async () => {
    const local = await startLocalDynamoDb();
    try {
      await local.createTable(tenantTableDefinition('tenants-outbox'));
      const outboxRegistry = new DynamoDbTenantRegistry(local.client, 'tenants-outbox');
      const tenant = tenantOf(LEGACY);
      const event = { detailType: DETAIL_TYPES.newSubscriber, detail: { tenantId: tenant.tenantId, state: tenant.state, productCode: PRODUCT, isFreeTrialTermPresent: false, eventId: 'sns:1' } };
      const version = await outboxRegistry.save(tenant, undefined, [event]);
      expect((await outboxRegistry.get(tenant.tenantId))?.outbox).toEqual([event]);
      expect(await outboxRegistry.clearOutbox(tenant.tenantId, version + 1)).toBe(false);
      expect((await outboxRegistry.get(tenant.tenantId))?.outbox).toEqual([event]);
      expect(await outboxRegistry.clearOutbox(tenant.tenantId, version)).toBe(true);
      expect((await outboxRegistry.get(tenant.tenantId))?.outbox).toEqual([]);
    } finally {
      await local.close();
    }
  });
});
