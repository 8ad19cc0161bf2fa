import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CloudwatchLogStream } from '@cdktf/provider-aws/lib/cloudwatch-log-stream';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { KinesisFirehoseDeliveryStream } from '@cdktf/provider-aws/lib/kinesis-firehose-delivery-stream';
import { Construct } from 'constructs';
import { BundledFunction } from '../bundled-function/bundled-function';
import { grantKmsKeyUse } from '../iam/kms-grant';
import { toPolicyDocumentStatements } from '../iam/policy-statement';
import { LAKE_PREFIXES } from '../usage-lake/lake-bucket';
import type { UsageLake } from '../usage-lake/usage-lake';
import type { PublicRoute } from '../metered-api/metered-api';

export interface UsageIngestionProps {
  readonly namePrefix: string;
  readonly lake: UsageLake;
  readonly logRetentionDays: number;
  /** Seconds Firehose buffers before writing to the table. */
  readonly bufferingIntervalSeconds: number;
  /** MiB Firehose buffers before writing to the table. */
  readonly bufferingSizeMb: number;
  /** MiB of records per transform invocation (0.2–2: normalised records can grow to ~2.6×, and the response must stay under Lambda's 6 MB). */
  readonly transformBufferSizeMb: number;
  /** Seconds Firehose waits to fill a transform batch (0–900). */
  readonly transformBufferIntervalSeconds: number;
  /** CloudWatch metrics namespace of the transform's counts. @default 'SaaSMetering' */
  readonly metricsNamespace?: string;
}

/**
 * Ingestion: the `amazon-apigateway-<prefix>` Firehose stream that receives the metered API's access
 * logs and the custom usage events `usage-events` puts there (POST /usage), runs every record through
 * the validating transform, which routes it by kind to the access-log or the usage-event Iceberg table.
 * Records that fail validation or delivery go to the lake's `errors/` prefix.
 */
export class UsageIngestion extends Construct {
  readonly deliveryStream: KinesisFirehoseDeliveryStream;
  /** ARN of the delivery stream, for the API stage's access logging. */
  readonly deliveryStreamArn: string;
  readonly transform: BundledFunction;
  readonly role: IamRole;
  readonly logGroup: CloudwatchLogGroup;
  /** `usage-events`: validates usage events and puts them on the stream. */
  readonly usageEvents: BundledFunction;
  /** `POST /usage` for tenants (Cognito: the tenant comes from the token). */
  readonly tenantUsageRoute: PublicRoute;
  /** `POST /backend/usage` for the provider's backends (IAM: each event names its tenant). */
  readonly backendUsageRoute: PublicRoute;

  constructor(scope: Construct, id: string, props: UsageIngestionProps) {
    super(scope, id);
    const { lake } = props;
    const streamName = `amazon-apigateway-${props.namePrefix}`;

    this.transform = new BundledFunction(this, 'transform', {
      entry: 'access-log-transform',
      functionName: `${props.namePrefix}-access-log-transform`,
      description: 'Validates and normalises access logs and usage events on their way into the usage lake, routing each to its table',
      logRetentionDays: props.logRetentionDays,
      timeoutSeconds: 120,
      memorySizeMb: 512,
      environment: {
        ACCESS_LOG_DATABASE: lake.databaseName,
        ACCESS_LOG_TABLE: lake.accessLogTableName,
        USAGE_EVENT_DATABASE: lake.databaseName,
        USAGE_EVENT_TABLE: lake.usageEventTableName,
        METRICS_NAMESPACE: props.metricsNamespace ?? 'SaaSMetering',
      },
    });

    this.logGroup = new CloudwatchLogGroup(this, 'logs', {
      name: `/aws/kinesisfirehose/${streamName}`,
      retentionInDays: props.logRetentionDays,
    });
    const destinationLogStream = new CloudwatchLogStream(this, 'destination-log-stream', {
      name: 'DestinationDelivery',
      logGroupName: this.logGroup.name,
    });
    const backupLogStream = new CloudwatchLogStream(this, 'backup-log-stream', {
      name: 'BackupDelivery',
      logGroupName: this.logGroup.name,
    });

    this.role = this.createRole(props, streamName);

    const table = lake.glueArns(lake.accessLogTableName);
    this.deliveryStream = new KinesisFirehoseDeliveryStream(this, 'stream', {
      name: streamName,
      destination: 'iceberg',
      serverSideEncryption: { enabled: true, keyType: 'AWS_OWNED_CMK' },
      icebergConfiguration: {
        roleArn: this.role.arn,
        catalogArn: table.catalog,
        bufferingInterval: props.bufferingIntervalSeconds,
        bufferingSize: props.bufferingSizeMb,
        retryDuration: 300,
        s3BackupMode: 'FailedDataOnly',
        s3Configuration: {
          roleArn: this.role.arn,
          bucketArn: lake.bucket.bucketArn,
          prefix: `${LAKE_PREFIXES.errors}backup/`,
          errorOutputPrefix: `${LAKE_PREFIXES.errors}!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/`,
          bufferingInterval: 300,
          bufferingSize: 5,
          compressionFormat: 'GZIP',
          cloudwatchLoggingOptions: { enabled: true, logGroupName: this.logGroup.name, logStreamName: backupLogStream.name },
        },
        destinationTableConfiguration: [lake.accessLogTableName, lake.usageEventTableName].map((tableName) => ({
          databaseName: lake.databaseName,
          tableName,
          s3ErrorOutputPrefix: `${LAKE_PREFIXES.errors}${tableName}/`,
        })),
        processingConfiguration: {
          enabled: true,
          processors: [{
            type: 'Lambda',
            parameters: [
              { parameterName: 'LambdaArn', parameterValue: `${this.transform.functionArn}:$LATEST` },
              { parameterName: 'BufferSizeInMBs', parameterValue: String(props.transformBufferSizeMb) },
              { parameterName: 'BufferIntervalInSeconds', parameterValue: String(props.transformBufferIntervalSeconds) },
              { parameterName: 'NumberOfRetries', parameterValue: '3' },
            ],
          }],
        },
        cloudwatchLoggingOptions: { enabled: true, logGroupName: this.logGroup.name, logStreamName: destinationLogStream.name },
      },
      dependsOn: [lake.accessLogTableReady, lake.usageEventTableReady],
    });
    this.deliveryStreamArn = this.deliveryStream.arn;

    const { partition, region, accountId } = lake.awsEnvironment;
    this.usageEvents = new BundledFunction(this, 'usage-events', {
      entry: 'usage-events',
      functionName: `${props.namePrefix}-usage-events`,
      description: 'POST /usage and POST /backend/usage: validates usage events and puts them on the ingestion stream',
      logRetentionDays: props.logRetentionDays,
      timeoutSeconds: 29,
      memorySizeMb: 256,
      environment: { DELIVERY_STREAM_NAME: streamName },
      policyStatements: [
        { actions: ['firehose:PutRecordBatch'], resources: [`arn:${partition}:firehose:${region}:${accountId}:deliverystream/${streamName}`] },
      ],
    });
    this.tenantUsageRoute = { pathParts: ['usage'], httpMethod: 'POST', function: this.usageEvents };
    this.backendUsageRoute = { pathParts: ['backend', 'usage'], httpMethod: 'POST', function: this.usageEvents };
  }

  private createRole(props: UsageIngestionProps, streamName: string): IamRole {
    const { lake } = props;
    const { partition, region, accountId } = lake.awsEnvironment;
    const assume = new DataAwsIamPolicyDocument(this, 'assume-role', {
      statement: [{
        effect: 'Allow',
        actions: ['sts:AssumeRole'],
        principals: [{ type: 'Service', identifiers: ['firehose.amazonaws.com'] }],
        condition: [{ test: 'StringEquals', variable: 'sts:ExternalId', values: [accountId] }],
      }],
    });
    const role = new IamRole(this, 'role', {
      namePrefix: 'firehose-usage-',
      description: `Delivers ${streamName} into the usage lake`,
      assumeRolePolicy: assume.json,
    });
    const tables = [lake.accessLogTableName, lake.usageEventTableName];
    const glueTables = tables.map((table) => lake.glueArns(table).table);
    const glue = lake.glueArns(lake.accessLogTableName);
    const deliveryStreamArn = `arn:${partition}:firehose:${region}:${accountId}:deliverystream/${streamName}`;
    const policy = new DataAwsIamPolicyDocument(this, 'policy', {
      statement: toPolicyDocumentStatements([
        ...lake.tableDataAccess(...tables),
        { actions: ['s3:PutObject', 's3:AbortMultipartUpload'], resources: [`${lake.bucket.bucketArn}/${LAKE_PREFIXES.errors}*`] },
        { actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:UpdateTable'], resources: [glue.catalog, glue.database, ...glueTables] },
        { actions: ['lambda:InvokeFunction', 'lambda:GetFunctionConfiguration'], resources: [this.transform.functionArn, `${this.transform.functionArn}:*`] },
        { actions: ['logs:PutLogEvents'], resources: [`${this.logGroup.arn}:*`] },
        { actions: ['firehose:DescribeDeliveryStream'], resources: [deliveryStreamArn] },
      ]),
    });
    new IamRolePolicy(this, 'role-policy', { name: 'deliver-to-lake', role: role.id, policy: policy.json });
    grantKmsKeyUse(this, 'kms', role.id, lake.kmsKeyArn);
    lake.grantLakeFormation('firehose-grants', role.arn, ['DESCRIBE'], ['SELECT', 'INSERT', 'DELETE', 'DESCRIBE', 'ALTER']);
    return role;
  }
}
