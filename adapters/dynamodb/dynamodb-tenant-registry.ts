import type { CreateTableCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { identityMatches, lookupKeys, type EventIdentity } from '../../core/marketplace/identity';
import type { Tenant } from '../../core/marketplace/tenant';
import { TenantVersionConflict, type OutboxEvent, type TenantRegistry, type VersionedTenant } from '../../core/marketplace/tenant-registry';
import { isConditionFailure } from './condition-failure';

/**
 * Item layout of the tenant table (hash key `pk`, range key `sk`):
 * - tenant: `TENANT#<id>` / `TENANT`, with `tenant` (the whole tenant), `version` and `outbox` (events
 *   for the control plane written with the change that caused them, removed once published);
 * - identity lookup: `LOOKUP#<identity key>` / `LOOKUP`, with `tenantId` — one per key of the tenant's
 *   identity (customer identifier, licence, agreement), written before the tenant so that a crash in
 *   between leaves at most a lookup that points to nothing yet.
 */
export function tenantTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
  };
}

export class DynamoDbTenantRegistry implements TenantRegistry {
  private readonly documents: DynamoDBDocumentClient;

  constructor(client: DynamoDBClient, private readonly tableName: string) {
    this.documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async get(tenantId: string): Promise<VersionedTenant | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { pk: `TENANT#${tenantId}`, sk: 'TENANT' }, ConsistentRead: true }));
    return Item === undefined ? undefined : { tenant: Item.tenant as Tenant, version: Item.version as number, outbox: (Item.outbox as OutboxEvent[] | undefined) ?? [] };
  }

  async findByIdentity(identity: EventIdentity): Promise<VersionedTenant | undefined> {
    for (const key of lookupKeys(identity)) {
      const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { pk: `LOOKUP#${key}`, sk: 'LOOKUP' }, ConsistentRead: true }));
      if (Item === undefined) continue;
      const found = await this.get(Item.tenantId as string);
      if (found !== undefined && identityMatches(found.tenant.identity, identity)) return found;
    }
    return undefined;
  }

  async save(tenant: Tenant, expectedVersion: number | undefined, outbox: readonly OutboxEvent[] = []): Promise<number> {
    for (const key of lookupKeys(tenant.identity)) {
      try {
        await this.documents.send(new PutCommand({
          TableName: this.tableName,
          Item: { pk: `LOOKUP#${key}`, sk: 'LOOKUP', tenantId: tenant.tenantId },
          ConditionExpression: 'attribute_not_exists(pk) OR tenantId = :id',
          ExpressionAttributeValues: { ':id': tenant.tenantId },
        }));
      } catch (error) {
        if (isConditionFailure(error)) throw new Error(`identity key ${key} already belongs to another tenant`, { cause: error });
        throw error;
      }
    }
    const version = (expectedVersion ?? 0) + 1;
    try {
      await this.documents.send(new PutCommand({
        TableName: this.tableName,
        Item: { pk: `TENANT#${tenant.tenantId}`, sk: 'TENANT', tenant, version, state: tenant.state, ...(outbox.length > 0 ? { outbox } : {}) },
        ConditionExpression: expectedVersion === undefined ? 'attribute_not_exists(pk)' : 'version = :expected',
        ExpressionAttributeValues: expectedVersion === undefined ? undefined : { ':expected': expectedVersion },
      }));
    } catch (error) {
      if (isConditionFailure(error)) throw new TenantVersionConflict(tenant.tenantId, { cause: error });
      throw error;
    }
    return version;
  }

  async clearOutbox(tenantId: string, version: number): Promise<boolean> {
    try {
      await this.documents.send(new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `TENANT#${tenantId}`, sk: 'TENANT' },
        UpdateExpression: 'REMOVE outbox',
        ConditionExpression: 'version = :v',
        ExpressionAttributeValues: { ':v': version },
      }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false; // changed meanwhile: the newer save carried the outbox on
      throw error;
    }
  }
}
