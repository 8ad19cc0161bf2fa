import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { MarketplaceIdentity } from '../../core/marketplace/identity';
import type { RegistrationSession, RegistrationSessions, TokenRecord } from '../../core/marketplace/registration-ports';
import { ttlSeconds } from '../../core/marketplace/registration-session';
import { isConditionFailure } from './condition-failure';

/**
 * Registration sessions and token replay records in the tenant table (see `tenantTableDefinition`):
 * - session: `REGSESSION#<id>` / `REGSESSION`, with `identity`, `tokenHash`, `createdAt`, `validUntil`
 *   (epoch ms, checked on every read: TTL deletion lags by up to days) and `expiresAt`;
 * - token: `REGTOKEN#<sha256 hex>` / `REGTOKEN`, with `status` (`pending` | `completed`), the resolved
 *   `identity` and `resolvedAt`, `tenantId` and `completedAt` once completed, and `expiresAt`.
 * `expiresAt` is epoch *seconds*: the table's TTL attribute (enable TTL on `expiresAt`).
 */
export class DynamoDbRegistrationSessions implements RegistrationSessions {
  private readonly documents: DynamoDBDocumentClient;

  constructor(client: DynamoDBClient, private readonly tableName: string) {
    this.documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async open(session: RegistrationSession): Promise<void> {
    await this.documents.send(new PutCommand({
      TableName: this.tableName,
      Item: {
        ...sessionKey(session.sessionId),
        identity: session.identity,
        tokenHash: session.tokenHash,
        createdAt: session.createdAt,
        validUntil: session.expiresAt,
        expiresAt: ttlSeconds(session.expiresAt),
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    }));
  }

  async find(sessionId: string, now: number): Promise<RegistrationSession | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: sessionKey(sessionId), ConsistentRead: true }));
    if (Item === undefined || !((Item.validUntil as number) > now)) return undefined;
    return toSession(sessionId, Item);
  }

  async consume(sessionId: string, now: number): Promise<RegistrationSession | undefined> {
    try {
      const { Attributes } = await this.documents.send(new DeleteCommand({
        TableName: this.tableName,
        Key: sessionKey(sessionId),
        ConditionExpression: 'attribute_exists(pk) AND validUntil > :now',
        ExpressionAttributeValues: { ':now': now },
        ReturnValues: 'ALL_OLD',
      }));
      return Attributes === undefined ? undefined : toSession(sessionId, Attributes);
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  async findToken(tokenHash: string): Promise<TokenRecord | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: tokenKey(tokenHash), ConsistentRead: true }));
    if (Item === undefined) return undefined;
    return Item.status === 'completed'
      ? { status: 'completed', tenantId: Item.tenantId as string }
      : { status: 'pending', identity: Item.identity as MarketplaceIdentity, resolvedAt: Item.resolvedAt as number };
  }

  async recordToken(tokenHash: string, identity: MarketplaceIdentity, now: number, expiresAt: number): Promise<TokenRecord> {
    try {
      await this.documents.send(new PutCommand({
        TableName: this.tableName,
        Item: { ...tokenKey(tokenHash), status: 'pending', identity, resolvedAt: now, createdAt: now, expiresAt: ttlSeconds(expiresAt) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }));
      return { status: 'pending', identity, resolvedAt: now };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    // Recorded meanwhile (a concurrent post of the same token): what matters is whether it completed.
    return (await this.findToken(tokenHash)) ?? { status: 'pending', identity, resolvedAt: now };
  }

  async completeToken(tokenHash: string, tenantId: string, now: number, expiresAt: number): Promise<void> {
    await this.documents.send(new UpdateCommand({
      TableName: this.tableName,
      Key: tokenKey(tokenHash),
      UpdateExpression: 'SET #status = :completed, tenantId = :tenantId, completedAt = :now, expiresAt = :expiresAt, createdAt = if_not_exists(createdAt, :now)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':completed': 'completed', ':tenantId': tenantId, ':now': now, ':expiresAt': ttlSeconds(expiresAt) },
    }));
  }
}

function sessionKey(sessionId: string): { pk: string; sk: string } {
  return { pk: `REGSESSION#${sessionId}`, sk: 'REGSESSION' };
}

function tokenKey(tokenHash: string): { pk: string; sk: string } {
  return { pk: `REGTOKEN#${tokenHash}`, sk: 'REGTOKEN' };
}

function toSession(sessionId: string, item: Record<string, unknown>): RegistrationSession {
  return {
    sessionId,
    identity: item.identity as MarketplaceIdentity,
    tokenHash: item.tokenHash as string,
    createdAt: item.createdAt as number,
    expiresAt: item.validUntil as number,
  };
}

