import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { PENDING_INDEX } from './dynamodb-usage-store';

/**
 * The usage table's keys and index, for local servers (CreateTable). The Terraform module declares
 * the same; a synth test checks that the two agree.
 */
export function usageTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'pendingHour', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [{
      IndexName: PENDING_INDEX,
      KeySchema: [
        { AttributeName: 'pendingHour', KeyType: 'HASH' },
        { AttributeName: 'pk', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    }],
  };
}
