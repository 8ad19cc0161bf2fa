import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { Construct } from 'constructs';
import { billingDataTableSettings } from '../storage/billing-data-table';

/** Key attributes and TTL attribute of the tenant table (see `adapters/dynamodb/dynamodb-tenant-registry.ts`). */
export const TENANT_TABLE_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds after which DynamoDB deletes the item (registration sessions and token records). */
  timeToLive: 'expiresAt',
} as const;

export interface TenantTableProps {
  /** Table name (may be a Terraform expression). */
  readonly tableName: string;
  /**
   * Customer-managed KMS key ARN, or an empty string (may be a Terraform expression) for the
   * AWS-owned key. The roles that read or write the table then need kms:Decrypt and kms:GenerateDataKey.
   */
  readonly kmsKeyArn: string;
  /** Refuse to delete the table (may be a Terraform variable). */
  readonly deletionProtection: boolean;
}

/**
 * The tenant table (DynamoDB, on demand): the tenant registry (`TENANT#<id>` / `TENANT`, and one
 * `LOOKUP#<identity key>` item per Marketplace identity key of a tenant), and the registration page's
 * sessions and token records (`REGSESSION#…`, `REGTOKEN#…`), which expire through TTL on `expiresAt`.
 * Point-in-time recovery is on: the table says whom to bill, and holds the buyers' contact details.
 * Encrypted with the lake's customer-managed key when one is configured, otherwise the AWS-owned key.
 */
export class TenantTable extends Construct {
  readonly table: DynamodbTable;
  readonly tableName: string;
  readonly tableArn: string;

  constructor(scope: Construct, id: string, props: TenantTableProps) {
    super(scope, id);
    const { partitionKey, sortKey, timeToLive } = TENANT_TABLE_KEYS;
    this.table = new DynamodbTable(this, 'table', {
      name: props.tableName,
      ...billingDataTableSettings({ kmsKeyArn: props.kmsKeyArn, deletionProtection: props.deletionProtection }),
      hashKey: partitionKey,
      rangeKey: sortKey,
      attribute: [
        { name: partitionKey, type: 'S' },
        { name: sortKey, type: 'S' },
      ],
      ttl: { attributeName: timeToLive, enabled: true },
    });
    this.tableName = this.table.name;
    this.tableArn = this.table.arn;
  }
}
