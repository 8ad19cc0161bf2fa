import { BcmdataexportsExport } from '@cdktf/provider-aws/lib/bcmdataexports-export';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA as S3BucketServerSideEncryptionConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { S3BucketVersioningA as S3BucketVersioning } from '@cdktf/provider-aws/lib/s3-bucket-versioning';
import type { TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import type { AwsEnvironment } from '../aws-environment';
import type { PolicyStatement } from '../iam/policy-statement';
import { onlyInstance } from '../marketplace/terraform-references';
import { curExportQuery } from './cur-table';

/**
 * The Cost and Usage Report as a BCM Data Exports export (CUR 2.0), delivered as Parquet into a bucket
 * of its own, refreshed by AWS up to several times a day until the month is final.
 *
 * Why a dedicated bucket rather than a prefix of the lake bucket: the export lists every cost of the
 * account, not only the metering system's, so its readers are chosen apart from the lake's (whose
 * query role reads every table file); Data Exports needs statements in the bucket policy, and the lake
 * bucket's policy belongs to the lake; the export writes with SSE-S3, independent of the lake's KMS
 * key; and its files are overwritten daily, which calls for a retention of old versions of its own.
 *
 * Data Exports is served from us-east-1 only (its API endpoint is `bcm-data-exports.us-east-1.api.aws`
 * and its resource ARNs name us-east-1), so the export is created through a provider configured for
 * us-east-1, whatever the stack's region; the bucket stays in the stack's region (`s3_region`).
 * The account that creates the export must own the bucket.
 */

/** Service principals Data Exports delivers with: the current service and the one of legacy CUR. */
export const DATA_EXPORTS_PRINCIPALS = ['billingreports.amazonaws.com', 'bcm-data-exports.amazonaws.com'] as const;

/** The region Data Exports (and legacy CUR) run in. */
export const DATA_EXPORTS_REGION = 'us-east-1';

/** Settings of the export's table configuration (COST_AND_USAGE_REPORT). */
export const CUR_TABLE_CONFIGURATION = {
  /** One line per resource, service and day: allocation works by day, and hourly lines would be 24 times as many. */
  TIME_GRANULARITY: 'DAILY',
  /** Adds `line_item_resource_id` and splits lines per resource: needed to see siloed resources. */
  INCLUDE_RESOURCES: 'TRUE',
  INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY: 'FALSE',
  INCLUDE_SPLIT_COST_ALLOCATION_DATA: 'FALSE',
} as const;

export interface CostExportProps {
  /** 1 to create the export and its bucket, 0 not to (a Terraform expression). */
  readonly count: number;
  /** Prefix of the bucket and export names. */
  readonly namePrefix: string;
  /** Account, partition and region (of the bucket) of the stack. */
  readonly aws: AwsEnvironment;
  /** An AWS provider configured for us-east-1, where Data Exports runs. */
  readonly usEast1Provider: TerraformProvider;
  /** Key prefix of the export in the bucket. @default 'cur2' */
  readonly prefix?: string;
  /** Days to keep replaced versions of the export's files (every refresh overwrites them). @default 7 */
  readonly noncurrentVersionRetentionDays?: number;
}

/** The CUR 2.0 export, its bucket and the bucket's policy. */
export class CostExport extends Construct {
  readonly bucket: S3Bucket;
  /** Name of the bucket (of its single instance). */
  readonly bucketName: string;
  /** ARN of the bucket (of its single instance). */
  readonly bucketArn: string;
  readonly bucketPolicy: S3BucketPolicy;
  readonly export: BcmdataexportsExport;
  /** ARN of the export (of its single instance). */
  readonly exportArn: string;
  readonly exportName: string;
  readonly prefix: string;
  /** `s3://<bucket>/<prefix>/<export name>/data/`: where the export writes its Parquet files, one folder per billing period. */
  readonly dataLocation: string;

  constructor(scope: Construct, id: string, props: CostExportProps) {
    super(scope, id);
    const { count, aws } = props;
    this.prefix = props.prefix ?? 'cur2';
    this.exportName = `${props.namePrefix}-cur2`;

    this.bucket = new S3Bucket(this, 'bucket', { count, bucketPrefix: `${props.namePrefix}-cur-`, forceDestroy: false });
    this.bucketName = onlyInstance(this.bucket, 'bucket');
    this.bucketArn = onlyInstance(this.bucket, 'arn');
    const bucketId = onlyInstance(this.bucket, 'id');
    this.dataLocation = `s3://${this.bucketName}/${this.prefix}/${this.exportName}/data/`;

    new S3BucketOwnershipControls(this, 'ownership', { count, bucket: bucketId, rule: { objectOwnership: 'BucketOwnerEnforced' } });
    new S3BucketPublicAccessBlock(this, 'public-access-block', {
      count,
      bucket: bucketId,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketServerSideEncryptionConfiguration(this, 'encryption', {
      count,
      bucket: bucketId,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }],
    });
    new S3BucketVersioning(this, 'versioning', { count, bucket: bucketId, versioningConfiguration: { status: 'Enabled' } });
    new S3BucketLifecycleConfiguration(this, 'lifecycle', {
      count,
      bucket: bucketId,
      rule: [{
        id: 'expire-replaced-export-files',
        status: 'Enabled',
        filter: [{ prefix: '' }],
        noncurrentVersionExpiration: [{ noncurrentDays: props.noncurrentVersionRetentionDays ?? 7 }],
        abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
      }],
    });

    const policy = new DataAwsIamPolicyDocument(this, 'bucket-policy-document', {
      count,
      statement: [
        {
          sid: 'DenyInsecureTransport',
          effect: 'Deny',
          actions: ['s3:*'],
          resources: [this.bucketArn, `${this.bucketArn}/*`],
          principals: [{ type: '*', identifiers: ['*'] }],
          condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
        },
        {
          // The statement Data Exports asks for: it delivers for this account's exports only, and checks
          // the policy (GetBucketPolicy) before each delivery.
          sid: 'AllowDataExportsDelivery',
          effect: 'Allow',
          actions: ['s3:PutObject', 's3:GetBucketPolicy'],
          resources: [this.bucketArn, `${this.bucketArn}/*`],
          principals: [{ type: 'Service', identifiers: [...DATA_EXPORTS_PRINCIPALS] }],
          condition: [
            { test: 'StringLike', variable: 'aws:SourceAccount', values: [aws.accountId] },
            {
              test: 'StringLike',
              variable: 'aws:SourceArn',
              values: [
                `arn:${aws.partition}:cur:${DATA_EXPORTS_REGION}:${aws.accountId}:definition/*`,
                `arn:${aws.partition}:bcm-data-exports:${DATA_EXPORTS_REGION}:${aws.accountId}:export/*`,
              ],
            },
          ],
        },
      ],
    });
    this.bucketPolicy = new S3BucketPolicy(this, 'bucket-policy', { count, bucket: bucketId, policy: onlyInstance(policy, 'json') });

    this.export = new BcmdataexportsExport(this, 'export', {
      count,
      provider: props.usEast1Provider,
      export: [{
        name: this.exportName,
        description: 'CUR 2.0 for tenant cost allocation: daily cost per resource with its tags (Parquet)',
        dataQuery: [{
          queryStatement: curExportQuery(),
          tableConfigurations: {
            COST_AND_USAGE_REPORT: {
              ...CUR_TABLE_CONFIGURATION,
              // The account's own billing view; AWS fills it in when absent, and the provider would
              // then replace the export at every plan (table configurations force a new export).
              BILLING_VIEW_ARN: `arn:${aws.partition}:billing::${aws.accountId}:billingview/primary`,
            },
          },
        }],
        destinationConfigurations: [{
          s3Destination: [{
            s3Bucket: this.bucketName,
            s3Prefix: this.prefix,
            s3Region: aws.region,
            // Each refresh replaces the billing period's files, so the table never sees two versions of a line.
            s3OutputConfigurations: [{ overwrite: 'OVERWRITE_REPORT', format: 'PARQUET', compression: 'PARQUET', outputType: 'CUSTOM' }],
          }],
        }],
        refreshCadence: [{ frequency: 'SYNCHRONOUS' }],
      }],
      // Data Exports checks the bucket policy when the export is created.
      dependsOn: [this.bucketPolicy],
    });
    this.exportArn = onlyInstance(this.export, 'id');
  }

  /**
   * Statements that let a role read the export's files through Athena (listing the bucket, reading the
   * export's prefix). Valid only where the export exists.
   */
  readStatements(): PolicyStatement[] {
    return [
      { actions: ['s3:ListBucket', 's3:GetBucketLocation'], resources: [this.bucketArn] },
      { actions: ['s3:GetObject'], resources: [`${this.bucketArn}/${this.prefix}/*`] },
    ];
  }
}
