import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { LambdaFunctionEventInvokeConfig } from '@cdktf/provider-aws/lib/lambda-function-event-invoke-config';
import { SchedulerSchedule } from '@cdktf/provider-aws/lib/scheduler-schedule';
import { SchedulerScheduleGroup } from '@cdktf/provider-aws/lib/scheduler-schedule-group';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { Token, type TerraformResource } from 'cdktf';
import { Construct } from 'constructs';
import { BundledFunction } from '../bundled-function/bundled-function';
import { grantKmsKeyUse } from '../iam/kms-grant';
import { HOURLY_SCHEDULE_DEFAULTS, HourlyScheduledFunction } from '../scheduling/hourly-scheduled-function';
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

/** Fixed settings of the aggregation job (see {@link UsageAggregation}); retries as every hourly job's. */
export const AGGREGATION_SETTINGS = {
  timeoutSeconds: 600,
  memorySizeMb: 512,
  ...HOURLY_SCHEDULE_DEFAULTS,
} as const;

/**
 * Addresses the aggregation job's resources had before its schedule, dead-letter queue and alarms moved
 * into {@link HourlyScheduledFunction}: `moved` blocks take them over in the state, so that a deployed
 * stack keeps its queue (and the messages in it), schedule and alarms instead of replacing them (a
 * replacement would create the same names before the old ones are deleted). Keep these until every
 * deployment has applied them once.
 */
const ADDRESSES_BEFORE_EXTRACTION = {
  deadLetterQueue: 'aws_sqs_queue.usage-aggregation_dlq_64AB6E7C',
  deadLetterPolicy: 'aws_iam_role_policy.usage-aggregation_aggregator-dead-letter_AEFA8DF8',
  eventInvokeConfig: 'aws_lambda_function_event_invoke_config.usage-aggregation_aggregator-async_9D14B8DD',
  scheduleGroup: 'aws_scheduler_schedule_group.usage-aggregation_schedule-group_59504A86',
  schedulerRole: 'aws_iam_role.usage-aggregation_scheduler-role_E421A25B',
  schedulerRolePolicy: 'aws_iam_role_policy.usage-aggregation_scheduler-role-policy_5144830D',
  schedule: 'aws_scheduler_schedule.usage-aggregation_schedule_D9C6361F',
  deadLetterAlarm: 'aws_cloudwatch_metric_alarm.usage-aggregation_dlq-alarm_AEA9E9BE',
  errorsAlarm: 'aws_cloudwatch_metric_alarm.usage-aggregation_errors-alarm_2F09D740',
} as const;

/**
 * The hourly usage aggregation job: the usage table, the `usage-aggregator` function that turns the
 * access-log table into hourly usage per tenant with Athena SQL and writes it to the table, run every
 * hour by an {@link HourlyScheduledFunction} (EventBridge Scheduler, retries, a dead-letter queue that
 * receives every run that could not be invoked or failed after its retries, alarms on that queue and on
 * the function's errors).
 */
export class UsageAggregation extends Construct {
  readonly usageTable: UsageTable;
  /** Name of the usage table (output `UsageTable`). */
  readonly tableName: string;
  readonly tableArn: string;
  readonly aggregator: BundledFunction;
  /** The hourly schedule of the aggregator, its dead-letter queue and alarms. */
  readonly hourly: HourlyScheduledFunction;
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

    this.aggregator = this.createAggregator(props);
    this.hourly = new HourlyScheduledFunction(this, 'hourly', {
      name: `${props.namePrefix}-usage-aggregation`,
      scheduleGroupName: `${props.namePrefix}-usage`,
      roleNamePrefix: 'scheduler-usage-',
      function: this.aggregator,
      description: 'Every hour: aggregate the usage of the hours that closed into the usage table',
      minute: props.scheduleMinute ?? 10,
      accountId: lake.awsEnvironment.accountId,
      alarmTopicArn: props.alarmTopicArn,
      deadLetterAlarmDescription: 'An hourly usage aggregation run could not be invoked or failed after its retries: its event is in the dead-letter queue. Inspect it, fix the cause, and rerun the hour.',
      errorsAlarmName: `${props.namePrefix}-usage-aggregator-errors`,
      errorsAlarmDescription: 'The usage aggregator failed at least once in the last hour (Lambda retries a failed run twice).',
      // The first run must find the access-log table.
      scheduleDependsOn: [lake.accessLogTableReady],
    });
    this.scheduleGroup = this.hourly.scheduleGroup;
    this.schedule = this.hourly.schedule;
    this.schedulerRole = this.hourly.schedulerRole;
    this.deadLetterQueue = this.hourly.deadLetterQueue;
    this.deadLetterQueueArn = this.hourly.deadLetterQueueArn;
    this.eventInvokeConfig = this.hourly.eventInvokeConfig;
    this.deadLetterAlarm = this.hourly.deadLetterAlarm;
    this.errorsAlarm = this.hourly.errorsAlarm;
    this.keepStateAddresses();
  }

  /** Moves the resources of the deployed stack from their addresses before the extraction (see {@link ADDRESSES_BEFORE_EXTRACTION}). */
  private keepStateAddresses(): void {
    const moved: Record<keyof typeof ADDRESSES_BEFORE_EXTRACTION, TerraformResource> = {
      deadLetterQueue: this.hourly.deadLetterQueue,
      deadLetterPolicy: this.hourly.deadLetterPolicy,
      eventInvokeConfig: this.hourly.eventInvokeConfig,
      scheduleGroup: this.hourly.scheduleGroup,
      schedulerRole: this.hourly.schedulerRole,
      schedulerRolePolicy: this.hourly.schedulerRolePolicy,
      schedule: this.hourly.schedule,
      deadLetterAlarm: this.hourly.deadLetterAlarm,
      errorsAlarm: this.hourly.errorsAlarm,
    };
    for (const [key, resource] of Object.entries(moved)) {
      resource.moveFromId(ADDRESSES_BEFORE_EXTRACTION[key as keyof typeof ADDRESSES_BEFORE_EXTRACTION]);
    }
  }

  /** The aggregator, allowed exactly what it calls: Athena on the workgroup, reads of the lake, the usage table. */
  private createAggregator(props: UsageAggregationProps): BundledFunction {
    const { lake } = props;
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
        // Athena on the workgroup, Glue and S3 reads of the lake, the query results.
        ...lake.queryStatements(),
        {
          actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
          resources: [this.usageTable.tableArn, this.usageTable.indexesArn],
        },
      ],
    });
    // The lake's key (when configured) encrypts the lake, the query results and the usage table.
    grantKmsKeyUse(aggregator, 'kms', aggregator.role.id, lake.kmsKeyArn);
    lake.grantLakeFormation('aggregator-grants', aggregator.role.arn, ['DESCRIBE'], ['SELECT', 'DESCRIBE']);
    return aggregator;
  }
}
