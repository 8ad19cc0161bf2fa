import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { Construct } from 'constructs';
import { billingDataTableSettings } from '../storage/billing-data-table';

/** Key attributes of the usage table and of its index. */
export const USAGE_TABLE_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Set only on usage hours not yet sent for metering (a sparse index), removed once sent. */
  pendingHour: 'pendingHour',
} as const;

/** The sparse index of unsent usage hours: partition key `pendingHour`, sort key `pk`, all attributes projected. */
export const PENDING_BY_HOUR_INDEX = 'pending-by-hour';

export interface UsageTableProps {
  /** Table name (may be a Terraform expression). */
  readonly tableName: string;
  /**
   * Customer-managed KMS key ARN, or an empty string (may be a Terraform expression) for the
   * AWS-owned key. Whoever creates the table needs kms:CreateGrant and kms:DescribeKey on the key, and
   * the roles that read or write it kms:Decrypt and kms:GenerateDataKey.
   */
  readonly kmsKeyArn: string;
  /** Refuse to delete the table (may be a Terraform variable). */
  readonly deletionProtection: boolean;
}

/**
 * The usage table (DynamoDB, on demand): one item per tenant, dimension and hour (`pk`/`sk`), written
 * by the aggregator, plus the sparse `pending-by-hour` index through which the metering sender pages
 * through the usage hours of one hour that are still to be sent. Point-in-time recovery is on: this is
 * billing data.
 *
 * Encryption at rest is always on in DynamoDB. By default the table uses the AWS-owned key (no KMS
 * charges, no key policy to manage); when the operator configured a customer-managed key for the lake
 * (`lake_kms_key_arn`), the table uses that key too, so that all usage data is under the same key.
 */
export class UsageTable extends Construct {
  readonly table: DynamodbTable;
  readonly tableName: string;
  readonly tableArn: string;
  /** ARNs of the table's indexes, for IAM policies (`<table ARN>/index/*`). */
  readonly indexesArn: string;

  constructor(scope: Construct, id: string, props: UsageTableProps) {
    super(scope, id);
    const { partitionKey, sortKey, pendingHour } = USAGE_TABLE_KEYS;
    this.table = new DynamodbTable(this, 'table', {
      name: props.tableName,
      ...billingDataTableSettings({ kmsKeyArn: props.kmsKeyArn, deletionProtection: props.deletionProtection }),
      hashKey: partitionKey,
      rangeKey: sortKey,
      attribute: [
        { name: partitionKey, type: 'S' },
        { name: sortKey, type: 'S' },
        { name: pendingHour, type: 'S' },
      ],
      globalSecondaryIndex: [{
        name: PENDING_BY_HOUR_INDEX,
        hashKey: pendingHour,
        rangeKey: partitionKey,
        projectionType: 'ALL',
      }],
    });
    this.tableName = this.table.name;
    this.tableArn = this.table.arn;
    this.indexesArn = `${this.table.arn}/index/*`;
  }
}
