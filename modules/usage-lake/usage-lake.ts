import { AthenaWorkgroup } from '@cdktf/provider-aws/lib/athena-workgroup';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { GlueCatalogDatabase } from '@cdktf/provider-aws/lib/glue-catalog-database';
import { GlueCatalogTableOptimizer } from '@cdktf/provider-aws/lib/glue-catalog-table-optimizer';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaInvocation } from '@cdktf/provider-aws/lib/lambda-invocation';
import { Fn, Token } from 'cdktf';
import { Construct } from 'constructs';
import { ACCESS_LOG_COLUMNS, ACCESS_LOG_TABLE, type TableColumn } from '../../core/lake/access-log-table';
import { USAGE_EVENT_COLUMNS, USAGE_EVENT_TABLE } from '../../core/lake/usage-event-table';
import { renderSqlTemplate } from '../../core/lake/sql-template';
import { readSqlFile } from '../../sql/sql-files';
import { glueArns, type AwsEnvironment } from '../aws-environment';
import { BundledFunction } from '../bundled-function/bundled-function';
import { grantKmsKeyUse } from '../iam/kms-grant';
import type { PolicyStatement } from '../iam/policy-statement';
import { LakeBucket, LAKE_PREFIXES } from './lake-bucket';
import { LakeFormationGrants } from './lake-formation-grants';
import { isNonEmpty } from '../terraform-expressions';

export interface UsageLakeProps {
  readonly namePrefix: string;
  readonly aws: AwsEnvironment;
  readonly logRetentionDays: number;
  /** Customer-managed KMS key ARN for the bucket and query results, or an empty string for SSE-S3. */
  readonly kmsKeyArn: string;
  /** Days to keep failed records under `errors/`. */
  readonly failedRecordRetentionDays: number;
  /** Largest amount of data one Athena query of the workgroup may scan, bytes (minimum 10 MB). */
  readonly bytesScannedCutoffPerQuery: number;
  /** Whether the Glue catalog is governed by Lake Formation (may be a Terraform variable). */
  readonly lakeFormationEnabled: boolean;
  /** Run the Glue table optimizers (compaction, snapshot retention, orphan-file deletion). */
  readonly tableOptimizersEnabled: boolean;
  /** Drop the tables when the stack is destroyed (for Iceberg, Athena deletes their data too). */
  readonly dropTablesOnDestroy: boolean;
}

/** Name of the Athena engine the workgroup pins. */
export const ATHENA_ENGINE_VERSION = 'Athena engine version 3';


/**
 * The usage lake: an S3 bucket, a Glue database, an Athena workgroup with enforced, encrypted settings
 * and a per-query scan cutoff, and the Iceberg tables — access logs and custom usage events — created
 * by Athena DDL at deploy time (`ddl-runner` invoked by `aws_lambda_invocation` with a CRUD
 * lifecycle), kept compact by the Glue table optimizers.
 */
export class UsageLake extends Construct {
  readonly bucket: LakeBucket;
  readonly database: GlueCatalogDatabase;
  readonly databaseName: string;
  readonly workGroup: AthenaWorkgroup;
  readonly workGroupName: string;
  readonly accessLogTableName = ACCESS_LOG_TABLE;
  /** `s3://…/tables/access_logs/` */
  readonly accessLogTableLocation: string;
  /** The resource whose creation means the access-log table exists. */
  readonly accessLogTableReady: LambdaInvocation;
  readonly usageEventTableName = USAGE_EVENT_TABLE;
  /** `s3://…/tables/usage_events/` */
  readonly usageEventTableLocation: string;
  /** The resource whose creation means the usage-event table exists. */
  readonly usageEventTableReady: LambdaInvocation;
  readonly ddlRunner: BundledFunction;
  readonly kmsKeyArn: string;
  /** Account, region and partition of the lake. */
  readonly awsEnvironment: AwsEnvironment;
  private readonly props: UsageLakeProps;

  constructor(scope: Construct, id: string, props: UsageLakeProps) {
    super(scope, id);
    this.props = props;
    this.kmsKeyArn = props.kmsKeyArn;
    this.awsEnvironment = props.aws;
    this.bucket = new LakeBucket(this, 'bucket', {
      bucketPrefix: `${props.namePrefix}-lake-`,
      kmsKeyArn: props.kmsKeyArn,
      failedRecordRetentionDays: props.failedRecordRetentionDays,
    });

    this.database = new GlueCatalogDatabase(this, 'database', {
      name: Fn.replace(`${props.namePrefix}_usage`, '-', '_'),
      description: 'Usage lake of the SaaS metering system (Iceberg tables written by Firehose)',
    });
    this.databaseName = this.database.name;

    const usesKms = isNonEmpty(props.kmsKeyArn);
    this.workGroup = new AthenaWorkgroup(this, 'workgroup', {
      name: `${props.namePrefix}-usage`,
      description: 'Queries of the usage lake: enforced settings, encrypted results, bounded scans',
      forceDestroy: true,
      configuration: {
        enforceWorkgroupConfiguration: true,
        publishCloudwatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery,
        engineVersion: { selectedEngineVersion: ATHENA_ENGINE_VERSION },
        resultConfiguration: {
          outputLocation: `s3://${this.bucket.bucketName}/${LAKE_PREFIXES.athenaResults}`,
          encryptionConfiguration: {
            encryptionOption: Fn.conditional(usesKms, 'SSE_KMS', 'SSE_S3'),
            kmsKeyArn: Fn.conditional(usesKms, props.kmsKeyArn, null as unknown as string),
          },
        },
      },
    });
    this.workGroupName = this.workGroup.name;

    this.ddlRunner = this.createDdlRunner();
    this.accessLogTableLocation = this.tableLocation(ACCESS_LOG_TABLE);
    this.accessLogTableReady = this.createTable('access-log-table', ACCESS_LOG_TABLE, 'ddl/access_logs.sql', ACCESS_LOG_COLUMNS);
    this.usageEventTableLocation = this.tableLocation(USAGE_EVENT_TABLE);
    this.usageEventTableReady = this.createTable('usage-event-table', USAGE_EVENT_TABLE, 'ddl/usage_events.sql', USAGE_EVENT_COLUMNS);

    this.createTableOptimizers([
      { name: ACCESS_LOG_TABLE, location: this.accessLogTableLocation, ready: this.accessLogTableReady },
      { name: USAGE_EVENT_TABLE, location: this.usageEventTableLocation, ready: this.usageEventTableReady },
    ]);
  }

  private tableLocation(table: string): string {
    return `s3://${this.bucket.bucketName}/${LAKE_PREFIXES.tables}${table}/`;
  }

  /** One Iceberg table, created (and only ever extended) by the DDL runner at deploy time. */
  private createTable(id: string, table: string, ddlFile: string, columns: readonly TableColumn[]): LambdaInvocation {
    return new LambdaInvocation(this, id, {
      functionName: this.ddlRunner.functionName,
      lifecycleScope: 'CRUD',
      terraformKey: 'tf',
      input: Fn.jsonencode({
        database: this.databaseName,
        workGroup: this.workGroupName,
        table,
        create: renderSqlTemplate(readSqlFile(ddlFile), { database: this.databaseName, table, location: this.tableLocation(table) }),
        columns,
        dropOnDestroy: this.props.dropTablesOnDestroy,
      }),
      dependsOn: [this.workGroup, this.database],
    });
  }

  /** Statements that let a role read and write the given tables' files in the bucket. */
  tableDataAccess(...tables: string[]) {
    const bucketArn = this.bucket.bucketArn;
    return [
      { actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'], resources: [bucketArn] },
      {
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        resources: tables.map((table) => `${bucketArn}/${LAKE_PREFIXES.tables}${table}/*`),
      },
    ];
  }

  /**
   * Statements that let a role query the lake through the workgroup, reading only: Athena on the
   * workgroup, Glue reads of the usage database and its tables, and, because Athena reads the tables'
   * files and writes the query results with the caller's credentials, the bucket (listing), the tables'
   * files (read) and the query results (read, write). Grant the KMS key and
   * {@link grantLakeFormation} (`SELECT`, `DESCRIBE`) besides.
   */
  queryStatements(): PolicyStatement[] {
    const glue = this.glueArns('*');
    const bucketArn = this.bucket.bucketArn;
    return [
      {
        actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution'],
        resources: [this.workGroup.arn],
      },
      {
        actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'],
        resources: [glue.catalog, glue.database, glue.table],
      },
      { actions: ['s3:ListBucket', 's3:GetBucketLocation'], resources: [bucketArn] },
      { actions: ['s3:GetObject'], resources: [`${bucketArn}/${LAKE_PREFIXES.tables}*`] },
      { actions: ['s3:GetObject', 's3:PutObject'], resources: [`${bucketArn}/${LAKE_PREFIXES.athenaResults}*`] },
    ];
  }

  /** Glue ARNs of the usage database and one of its tables. */
  glueArns(table: string) {
    return glueArns(this.props.aws, this.databaseName, table);
  }

  /** Lake Formation grants for a role, created only when the catalog is governed by Lake Formation. */
  grantLakeFormation(id: string, principalArn: string, databasePermissions: string[], tablePermissions: string[]): void {
    new LakeFormationGrants(this, id, {
      enabled: this.props.lakeFormationEnabled,
      principalArn,
      databaseName: this.databaseName,
      databasePermissions,
      tablePermissions,
    });
  }

  private createDdlRunner(): BundledFunction {
    const arns = glueArns(this.props.aws, this.databaseName);
    const runner = new BundledFunction(this, 'ddl-runner', {
      entry: 'ddl-runner',
      functionName: `${this.props.namePrefix}-ddl-runner`,
      description: 'Runs the usage lake table DDL through Athena at deploy time',
      logRetentionDays: this.props.logRetentionDays,
      timeoutSeconds: 300,
      policyStatements: [
        {
          actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:StopQueryExecution'],
          resources: [this.workGroup.arn],
        },
        {
          actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable', 'glue:DeleteTable'],
          resources: [arns.catalog, arns.database, arns.table],
        },
        ...this.tableDataAccess('*'),
        {
          actions: ['s3:GetObject', 's3:PutObject'],
          resources: [`${this.bucket.bucketArn}/${LAKE_PREFIXES.athenaResults}*`],
        },
      ],
    });
    grantKmsKeyUse(runner, 'kms', runner.role.id, this.props.kmsKeyArn);
    this.grantLakeFormation('ddl-runner-grants', runner.role.arn, ['DESCRIBE', 'CREATE_TABLE', 'ALTER', 'DROP'], ['ALL']);
    return runner;
  }

  /** One role for the Glue table optimizers, and per table compaction, snapshot retention and orphan-file deletion. */
  private createTableOptimizers(tables: readonly { name: string; location: string; ready: LambdaInvocation }[]): void {
    const enabled = Token.asNumber(Fn.conditional(this.props.tableOptimizersEnabled, 1, 0));
    const assume = new DataAwsIamPolicyDocument(this, 'optimizer-assume-role', {
      statement: [{
        effect: 'Allow',
        actions: ['sts:AssumeRole'],
        principals: [{ type: 'Service', identifiers: ['glue.amazonaws.com'] }],
        condition: [{ test: 'StringEquals', variable: 'aws:SourceAccount', values: [this.props.aws.accountId] }],
      }],
    });
    const role = new IamRole(this, 'optimizer-role', {
      namePrefix: 'glue-optimizer-',
      description: 'Glue table optimizers of the usage lake (compaction, retention, orphan files)',
      assumeRolePolicy: assume.json,
    });
    const { partition, region, accountId } = this.props.aws;
    const policy = new DataAwsIamPolicyDocument(this, 'optimizer-policy', {
      statement: [
        ...this.tableDataAccess(...tables.map((t) => t.name)).map((statement) => ({ effect: 'Allow', ...statement })),
        {
          effect: 'Allow',
          actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:UpdateTable'],
          resources: [...new Set(tables.flatMap((t) => Object.values(this.glueArns(t.name))))],
        },
        {
          effect: 'Allow',
          actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: ['iceberg-compaction', 'iceberg-retention', 'iceberg-orphan-file-deletion'].map(
            (kind) => `arn:${partition}:logs:${region}:${accountId}:log-group:/aws-glue/${kind}/logs:*`,
          ),
        },
      ],
    });
    new IamRolePolicy(this, 'optimizer-role-policy', { name: 'table-maintenance', role: role.id, policy: policy.json });
    grantKmsKeyUse(this, 'optimizer-kms', role.id, this.props.kmsKeyArn);
    this.grantLakeFormation('optimizer-grants', role.arn, ['DESCRIBE'], ['ALL']);

    for (const table of tables) {
      const common = { count: enabled, catalogId: accountId, databaseName: this.databaseName, tableName: table.name, dependsOn: [table.ready] };
      new GlueCatalogTableOptimizer(this, `${table.name}-compaction`, {
        ...common,
        type: 'compaction',
        configuration: [{ roleArn: role.arn, enabled: true }],
      });
      new GlueCatalogTableOptimizer(this, `${table.name}-retention`, {
        ...common,
        type: 'retention',
        configuration: [{
          roleArn: role.arn,
          enabled: true,
          retentionConfiguration: [{ icebergConfiguration: [{ snapshotRetentionPeriodInDays: 7, numberOfSnapshotsToRetain: 10, cleanExpiredFiles: true }] }],
        }],
      });
      new GlueCatalogTableOptimizer(this, `${table.name}-orphan-files`, {
        ...common,
        type: 'orphan_file_deletion',
        configuration: [{
          roleArn: role.arn,
          enabled: true,
          orphanFileDeletionConfiguration: [{ icebergConfiguration: [{ orphanFileRetentionPeriodInDays: 7, location: table.location }] }],
        }],
      });
    }
  }
}
