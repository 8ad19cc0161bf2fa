import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaFunctionEventInvokeConfig } from '@cdktf/provider-aws/lib/lambda-function-event-invoke-config';
import { SchedulerSchedule } from '@cdktf/provider-aws/lib/scheduler-schedule';
import { SchedulerScheduleGroup } from '@cdktf/provider-aws/lib/scheduler-schedule-group';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { Token } from 'cdktf';
import { Construct } from 'constructs';
import { BundledFunction } from '../bundled-function/bundled-function';
import { grantKmsKeyUse } from '../iam/kms-grant';
import { toPolicyDocumentStatements } from '../iam/policy-statement';
import { LAKE_PREFIXES } from '../usage-lake/lake-bucket';
import type { UsageLake } from '../usage-lake/usage-lake';
import { UsageTable } from './usage-table';
import { readMeteringConfigFile } from '../../config/metering-config-file';

export interface UsageAggregationProps {
  /** Prefix of every resource name (may be a Terraform variable). */
  readonly namePrefix: string;
  /** The usage lake the aggregator queries (Athena workgroup, Glue database, bucket, KMS key). */
  readonly lake: UsageLake;
  /** Days to keep the aggregator's logs. */
  readonly logRetentionDays: number;
  /**
   * Seconds the ingestion path may still hold a record after its hour ends (the Firehose stream's plus
   * the transform's buffering interval; may be a Terraform expression). The aggregator waits this long
   * (plus its configured grace) after an hour closes before it aggregates the hour.
   */
  readonly ingestionDelaySeconds: number;
  /** Minute past each hour (0–59, UTC) at which the aggregation runs (may be a Terraform variable). @default 10 */
  readonly scheduleMinute?: number;
  /** Refuse to delete the usage table (may be a Terraform variable). @default true */
  readonly tableDeletionProtection?: boolean;
  /** SNS topic the alarms notify. */
  readonly alarmTopicArn: string;
}

/** Fixed settings of the aggregation job (see {@link UsageAggregation}). */
export const AGGREGATION_SETTINGS = {
  timeoutSeconds: 600,
  memorySizeMb: 512,
  /** Scheduler retries of a failed invocation request (throttling, service errors). */
  schedulerMaximumRetryAttempts: 3,
  /** Lambda retries of a run that failed (asynchronous invocation). */
  lambdaMaximumRetryAttempts: 2,
  /** An hour's run that has not started within an hour is dropped (to the dead-letter queue); the next run covers it. */
  maximumEventAgeSeconds: 3600,
  /** 14 days, the SQS maximum. */
  deadLetterRetentionSeconds: 1_209_600,
} as const;

/**
 * The hourly usage aggregation job: the usage table, the `usage-aggregator` function that turns the
 * access-log table into hourly usage per tenant with Athena SQL and writes it to the table, an
 * EventBridge Scheduler schedule that runs it every hour, and a dead-letter queue that receives every
 * run that could not be invoked or failed after its retries, with alarms on that queue and on the
 * function's errors.
 *
 * Failure path: Scheduler invokes the function asynchronously; if the invocation itself fails,
 * Scheduler retries it and then sends the event to the dead-letter queue; if the run fails, Lambda
 * retries it and then sends the event (with the error) to the same queue. Either way the DLQ alarm fires.
 */
export class UsageAggregation extends Construct {
  readonly usageTable: UsageTable;
  /** Name of the usage table (output `UsageTable`). */
  readonly tableName: string;
  readonly tableArn: string;
  readonly aggregator: BundledFunction;
  readonly scheduleGroup: SchedulerScheduleGroup;
  readonly schedule: SchedulerSchedule;
  /** Role EventBridge Scheduler assumes to invoke the aggregator. */
  readonly schedulerRole: IamRole;
  readonly deadLetterQueue: SqsQueue;
  readonly deadLetterQueueArn: string;
  readonly eventInvokeConfig: LambdaFunctionEventInvokeConfig;
  readonly deadLetterAlarm: CloudwatchMetricAlarm;
  readonly errorsAlarm: CloudwatchMetricAlarm;

  constructor(scope: Construct, id: string, props: UsageAggregationProps) {
    super(scope, id);
    // The aggregator bundles config/metering.json; an invalid one fails synth here, naming each problem.
    readMeteringConfigFile();
    const { lake } = props;

    this.usageTable = new UsageTable(this, 'usage-table', {
      tableName: `${props.namePrefix}-usage`,
      kmsKeyArn: lake.kmsKeyArn,
      deletionProtection: props.tableDeletionProtection ?? true,
    });
    this.tableName = this.usageTable.tableName;
    this.tableArn = this.usageTable.tableArn;

    this.deadLetterQueue = new SqsQueue(this, 'dlq', {
      name: `${props.namePrefix}-usage-aggregation-dlq`,
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: AGGREGATION_SETTINGS.deadLetterRetentionSeconds,
    });
    this.deadLetterQueueArn = this.deadLetterQueue.arn;

    this.aggregator = this.createAggregator(props);
    this.eventInvokeConfig = this.configureAsyncInvocation();
    const scheduled = this.createSchedule(props);
    this.scheduleGroup = scheduled.group;
    this.schedule = scheduled.schedule;
    this.schedulerRole = scheduled.role;

    this.deadLetterAlarm = new CloudwatchMetricAlarm(this, 'dlq-alarm', {
      alarmName: `${props.namePrefix}-usage-aggregation-dlq-not-empty`,
      alarmDescription: 'An hourly usage aggregation run could not be invoked or failed after its retries: its event is in the dead-letter queue. Inspect it, fix the cause, and rerun the hour.',
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: this.deadLetterQueue.name },
      statistic: 'Maximum',
      period: 300,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: 'GreaterThanThreshold',
      treatMissingData: 'notBreaching',
      alarmActions: [props.alarmTopicArn],
    });
    this.errorsAlarm = new CloudwatchMetricAlarm(this, 'errors-alarm', {
      alarmName: `${props.namePrefix}-usage-aggregator-errors`,
      alarmDescription: 'The usage aggregator failed at least once in the last hour (Lambda retries a failed run twice).',
      namespace: 'AWS/Lambda',
      metricName: 'Errors',
      dimensions: { FunctionName: this.aggregator.functionName },
      statistic: 'Sum',
      period: 3600,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: 'GreaterThanThreshold',
      treatMissingData: 'notBreaching',
      alarmActions: [props.alarmTopicArn],
    });
  }

  /** The aggregator, allowed exactly what it calls: Athena on the workgroup, reads of the lake, the usage table. */
  private createAggregator(props: UsageAggregationProps): BundledFunction {
    const { lake } = props;
    const glue = lake.glueArns('*');
    const bucketArn = lake.bucket.bucketArn;
    const aggregator = new BundledFunction(this, 'aggregator', {
      entry: 'usage-aggregator',
      functionName: `${props.namePrefix}-usage-aggregator`,
      description: 'Hourly: aggregates the usage lake into hourly usage per tenant and dimension (Athena SQL) in the usage table',
      logRetentionDays: props.logRetentionDays,
      timeoutSeconds: AGGREGATION_SETTINGS.timeoutSeconds,
      memorySizeMb: AGGREGATION_SETTINGS.memorySizeMb,
      environment: {
        USAGE_TABLE: this.tableName,
        ATHENA_WORKGROUP: lake.workGroupName,
        USAGE_DATABASE: lake.databaseName,
        ACCESS_LOG_TABLE: lake.accessLogTableName,
        INGESTION_DELAY_SECONDS: Token.asString(props.ingestionDelaySeconds),
      },
      policyStatements: [
        {
          actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution'],
          resources: [lake.workGroup.arn],
        },
        {
          actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'],
          resources: [glue.catalog, glue.database, glue.table],
        },
        // Athena reads the tables' files and writes query results with the caller's credentials.
        { actions: ['s3:ListBucket', 's3:GetBucketLocation'], resources: [bucketArn] },
        { actions: ['s3:GetObject'], resources: [`${bucketArn}/${LAKE_PREFIXES.tables}*`] },
        { actions: ['s3:GetObject', 's3:PutObject'], resources: [`${bucketArn}/${LAKE_PREFIXES.athenaResults}*`] },
        {
          actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'],
          resources: [this.usageTable.tableArn, this.usageTable.indexesArn],
        },
      ],
    });
    // The lake's key (when configured) encrypts the lake, the query results and the usage table.
    grantKmsKeyUse(aggregator, 'kms', aggregator.role.id, lake.kmsKeyArn);
    lake.grantLakeFormation('aggregator-grants', aggregator.role.arn, ['DESCRIBE'], ['SELECT', 'DESCRIBE']);
    return aggregator;
  }

  /** Lambda's own retries of a failed run, then the dead-letter queue as on-failure destination. */
  private configureAsyncInvocation(): LambdaFunctionEventInvokeConfig {
    // A policy of its own, so that the invoke config can wait for it: Lambda checks that the function's
    // role may send to the destination when the config is written.
    const document = new DataAwsIamPolicyDocument(this, 'aggregator-dead-letter-document', {
      statement: toPolicyDocumentStatements([{ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.arn] }]),
    });
    const policy = new IamRolePolicy(this, 'aggregator-dead-letter', {
      name: 'dead-letter',
      role: this.aggregator.role.id,
      policy: document.json,
    });
    return new LambdaFunctionEventInvokeConfig(this, 'aggregator-async', {
      functionName: this.aggregator.functionName,
      maximumRetryAttempts: AGGREGATION_SETTINGS.lambdaMaximumRetryAttempts,
      maximumEventAgeInSeconds: AGGREGATION_SETTINGS.maximumEventAgeSeconds,
      destinationConfig: { onFailure: { destination: this.deadLetterQueue.arn } },
      dependsOn: [policy],
    });
  }

  /** The hourly schedule, in a group of its own, with a role that may only invoke the aggregator and use the DLQ. */
  private createSchedule(props: UsageAggregationProps) {
    const { lake } = props;
    const group = new SchedulerScheduleGroup(this, 'schedule-group', { name: `${props.namePrefix}-usage` });

    const assume = new DataAwsIamPolicyDocument(this, 'scheduler-assume-role', {
      statement: [{
        effect: 'Allow',
        actions: ['sts:AssumeRole'],
        principals: [{ type: 'Service', identifiers: ['scheduler.amazonaws.com'] }],
        // Only schedules of this account's group may use the role (confused-deputy protection).
        condition: [
          { test: 'StringEquals', variable: 'aws:SourceAccount', values: [lake.awsEnvironment.accountId] },
          { test: 'ArnEquals', variable: 'aws:SourceArn', values: [group.arn] },
        ],
      }],
    });
    const role = new IamRole(this, 'scheduler-role', {
      namePrefix: 'scheduler-usage-',
      description: `EventBridge Scheduler: runs ${props.namePrefix}-usage-aggregator every hour`,
      assumeRolePolicy: assume.json,
    });
    const document = new DataAwsIamPolicyDocument(this, 'scheduler-policy', {
      statement: toPolicyDocumentStatements([
        { actions: ['lambda:InvokeFunction'], resources: [this.aggregator.functionArn] },
        { actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.arn] },
      ]),
    });
    const policy = new IamRolePolicy(this, 'scheduler-role-policy', { name: 'invoke-aggregator', role: role.id, policy: document.json });

    const minute = Token.asString(props.scheduleMinute ?? 10);
    const schedule = new SchedulerSchedule(this, 'schedule', {
      name: `${props.namePrefix}-usage-aggregation`,
      groupName: group.name,
      description: 'Every hour: aggregate the usage of the hours that closed into the usage table',
      scheduleExpression: `cron(${minute} * * * ? *)`,
      scheduleExpressionTimezone: 'UTC',
      flexibleTimeWindow: { mode: 'OFF' },
      target: {
        arn: this.aggregator.functionArn,
        roleArn: role.arn,
        input: '{}',
        retryPolicy: {
          maximumRetryAttempts: AGGREGATION_SETTINGS.schedulerMaximumRetryAttempts,
          maximumEventAgeInSeconds: AGGREGATION_SETTINGS.maximumEventAgeSeconds,
        },
        deadLetterConfig: { arn: this.deadLetterQueue.arn },
      },
      // The first run must find the access-log table, and the role its permissions.
      dependsOn: [policy, lake.accessLogTableReady],
    });
    return { group, role, schedule };
  }
}
