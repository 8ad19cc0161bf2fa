import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA as S3BucketServerSideEncryptionConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { S3BucketVersioningA as S3BucketVersioning } from '@cdktf/provider-aws/lib/s3-bucket-versioning';
import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import { isNonEmpty } from '../terraform-expressions';

/** Key prefixes inside the lake bucket. */
export const LAKE_PREFIXES = {
  /** Iceberg table data and metadata: `tables/<table>/`. */
  tables: 'tables/',
  /** Records Firehose could not deliver or the transform rejected, kept for inspection and replay. */
  errors: 'errors/',
  /** Athena query results. */
  athenaResults: 'athena-results/',
} as const;

export interface LakeBucketProps {
  /** Bucket name prefix; AWS appends a unique suffix. */
  readonly bucketPrefix: string;
  /** Customer-managed KMS key ARN, or an empty string for S3-managed keys (SSE-S3). */
  readonly kmsKeyArn: string;
  /** Days to keep failed records under `errors/`. */
  readonly failedRecordRetentionDays: number;
  /** Days to keep Athena query results. @default 7 */
  readonly queryResultRetentionDays?: number;
  /** Days to keep object versions after they are replaced or deleted (e.g. files removed by compaction). @default 30 */
  readonly noncurrentVersionRetentionDays?: number;
  /** Delete every object when the stack is destroyed. @default false */
  readonly forceDestroy?: boolean;
}

/**
 * The lake's S3 bucket: private (public access blocked, owner-enforced), encrypted at rest (SSE-S3 or
 * a KMS key), reachable only over TLS, versioned so that a bad write or delete can be undone, with
 * lifecycle rules that bound what failed records, query results and old versions cost.
 */
export class LakeBucket extends Construct {
  readonly bucket: S3Bucket;
  readonly bucketName: string;
  readonly bucketArn: string;

  constructor(scope: Construct, id: string, props: LakeBucketProps) {
    super(scope, id);
    this.bucket = new S3Bucket(this, 'bucket', {
      bucketPrefix: props.bucketPrefix,
      forceDestroy: props.forceDestroy ?? false,
    });
    this.bucketName = this.bucket.bucket;
    this.bucketArn = this.bucket.arn;

    new S3BucketOwnershipControls(this, 'ownership', {
      bucket: this.bucket.id,
      rule: { objectOwnership: 'BucketOwnerEnforced' },
    });
    new S3BucketPublicAccessBlock(this, 'public-access-block', {
      bucket: this.bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    const usesKms = isNonEmpty(props.kmsKeyArn);
    new S3BucketServerSideEncryptionConfiguration(this, 'encryption', {
      bucket: this.bucket.id,
      rule: [{
        applyServerSideEncryptionByDefault: {
          sseAlgorithm: Fn.conditional(usesKms, 'aws:kms', 'AES256'),
          kmsMasterKeyId: Fn.conditional(usesKms, props.kmsKeyArn, null as unknown as string),
        },
        bucketKeyEnabled: true,
      }],
    });
    new S3BucketVersioning(this, 'versioning', {
      bucket: this.bucket.id,
      versioningConfiguration: { status: 'Enabled' },
    });

    const tlsOnly = new DataAwsIamPolicyDocument(this, 'tls-only', {
      statement: [{
        sid: 'DenyInsecureTransport',
        effect: 'Deny',
        actions: ['s3:*'],
        resources: [this.bucket.arn, `${this.bucket.arn}/*`],
        principals: [{ type: '*', identifiers: ['*'] }],
        condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
      }],
    });
    new S3BucketPolicy(this, 'policy', { bucket: this.bucket.id, policy: tlsOnly.json });

    new S3BucketLifecycleConfiguration(this, 'lifecycle', {
      bucket: this.bucket.id,
      rule: [
        {
          id: 'expire-failed-records',
          status: 'Enabled',
          filter: [{ prefix: LAKE_PREFIXES.errors }],
          expiration: [{ days: props.failedRecordRetentionDays }],
        },
        {
          id: 'expire-query-results',
          status: 'Enabled',
          filter: [{ prefix: LAKE_PREFIXES.athenaResults }],
          expiration: [{ days: props.queryResultRetentionDays ?? 7 }],
        },
        {
          id: 'expire-old-versions-and-uploads',
          status: 'Enabled',
          filter: [{ prefix: '' }],
          noncurrentVersionExpiration: [{ noncurrentDays: props.noncurrentVersionRetentionDays ?? 30 }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
      ],
    });
  }
}
