import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaFunctionEventInvokeConfig } from '@cdktf/provider-aws/lib/lambda-function-event-invoke-config';
import { SchedulerSchedule } from '@cdktf/provider-aws/lib/scheduler-schedule';
import { SchedulerScheduleGroup } from '@cdktf/provider-aws/lib/scheduler-schedule-group';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { Token, type ITerraformDependable, type TerraformDataSource, type TerraformResource } from 'cdktf';
import { Construct } from 'constructs';
import type { BundledFunction } from '../bundled-function/bundled-function';
import { toPolicyDocumentStatements } from '../iam/policy-statement';
import { queueNotEmptyAlarm } from '../alarms/queue-not-empty-alarm';
import { functionErrorsAlarm } from '../alarms/function-errors-alarm';
import { onlyInstance } from '../marketplace/terraform-references';

/** Retry and retention settings of a scheduled job (see {@link ScheduledFunction}). */
export interface ScheduleSettings {
  /** Scheduler retries of a failed invocation request (throttling, service errors). */
  readonly schedulerMaximumRetryAttempts: number;
  /** Lambda retries of a run that failed (asynchronous invocation), 0 to 2. */
  readonly lambdaMaximumRetryAttempts: number;
  /**
   * A run that has not started within this many seconds is dropped to the dead-letter queue (60 to
   * 21,600: Lambda's limit for asynchronous events; Scheduler's own is a day).
   */
  readonly maximumEventAgeSeconds: number;
  /** How long the dead-letter queue keeps a message, seconds. */
  readonly deadLetterRetentionSeconds: number;
}

/** Retry and retention settings of an hourly job. */
export type HourlyScheduleSettings = ScheduleSettings;

/** Default settings of an hourly job. */
export const HOURLY_SCHEDULE_DEFAULTS: HourlyScheduleSettings = {
  schedulerMaximumRetryAttempts: 3,
  lambdaMaximumRetryAttempts: 2,
  /** An hour's run that has not started within an hour is dropped (to the dead-letter queue); the next run covers it. */
  maximumEventAgeSeconds: 3600,
  /** 14 days, the SQS maximum. */
  deadLetterRetentionSeconds: 1_209_600,
} as const;

/**
 * Default settings of a daily job: as an hourly job's, but a run may wait up to 6 hours (Lambda's
 * limit for asynchronous events) before it is dropped, since no later run of the same day covers it.
 */
export const DAILY_SCHEDULE_DEFAULTS: ScheduleSettings = {
  ...HOURLY_SCHEDULE_DEFAULTS,
  maximumEventAgeSeconds: 21_600,
} as const;

export interface ScheduledFunctionProps {
  /**
   * Name of the schedule (may be a Terraform expression), and stem of the other names: the dead-letter
   * queue `<name>-dlq` and its alarm `<name>-dlq-not-empty`.
   */
  readonly name: string;
  /** Name of the schedule group created for the schedule (may be a Terraform expression). */
  readonly scheduleGroupName: string;
  /** Name prefix of the role EventBridge Scheduler assumes (IAM allows at most 38 characters). */
  readonly roleNamePrefix: string;
  /** The function to run. Its role is granted `sqs:SendMessage` on the dead-letter queue (Lambda's on-failure destination). */
  readonly function: BundledFunction;
  /** What the schedule does, in a sentence (the schedule's description). */
  readonly description: string;
  /** EventBridge Scheduler expression, evaluated in UTC: `cron(30 2 * * ? *)`, `rate(1 day)`. */
  readonly scheduleExpression: string;
  /** How often the schedule runs, in words (`every hour`, `every day`), for the scheduler role's description. */
  readonly cadence: string;
  /** The event the function receives. @default '{}' */
  readonly input?: string;
  /** Account that owns the schedule group: only its schedules may assume the scheduler role. */
  readonly accountId: string;
  /** SNS topic both alarms notify. */
  readonly alarmTopicArn: string;
  /** What the dead-letter alarm means and what to do (its description). */
  readonly deadLetterAlarmDescription: string;
  /** Name of the alarm on the function's errors (may be a Terraform expression). @default `<name>-errors` */
  readonly errorsAlarmName?: string;
  /** What the errors alarm means (its description). */
  readonly errorsAlarmDescription: string;
  /** Window in which any error of the function raises the errors alarm, seconds. @default 3600 */
  readonly errorsAlarmPeriodSeconds?: number;
  /** What must exist before the first run (the schedule waits for it). @default none */
  readonly scheduleDependsOn?: ITerraformDependable[];
  /** Retries and retention. */
  readonly settings: ScheduleSettings;
  /**
   * Terraform `count` of every resource of the job (schedule, roles, queue, alarms): an expression that
   * is 0 or 1, to switch the job with a variable. The function itself is not switched (it is the
   * caller's). @default always created (no `count`)
   */
  readonly count?: number;
}

/**
 * A function run on a schedule by EventBridge Scheduler, with a failure path that loses no run silently:
 *
 * - the schedule (in a group of its own) invokes the function asynchronously through a role that may
 *   only invoke that function and send to the dead-letter queue, and that only schedules of this
 *   account's group may assume (confused-deputy protection);
 * - if the invocation itself fails, Scheduler retries it and then sends the event to the dead-letter
 *   queue (SQS, SQS-managed encryption);
 * - if the run fails, Lambda retries it and then sends the event, with the error, to the same queue
 *   (on-failure destination);
 * - an alarm fires as soon as the queue holds a message, another when the function failed within the
 *   errors period; both notify the alarm topic.
 *
 * With `count`, every one of these resources exists only when the count is 1; references between them
 * then address their single instance (`[0]`).
 */
export class ScheduledFunction extends Construct {
  readonly scheduleGroup: SchedulerScheduleGroup;
  readonly schedule: SchedulerSchedule;
  /** Role EventBridge Scheduler assumes to invoke the function. */
  readonly schedulerRole: IamRole;
  /** What the scheduler role may do: invoke the function, send to the dead-letter queue. */
  readonly schedulerRolePolicy: IamRolePolicy;
  readonly deadLetterQueue: SqsQueue;
  /** ARN of the dead-letter queue (of its single instance when counted). */
  readonly deadLetterQueueArn: string;
  /** The function role's permission to send to the dead-letter queue. */
  readonly deadLetterPolicy: IamRolePolicy;
  readonly eventInvokeConfig: LambdaFunctionEventInvokeConfig;
  readonly deadLetterAlarm: CloudwatchMetricAlarm;
  readonly errorsAlarm: CloudwatchMetricAlarm;

  constructor(scope: Construct, id: string, props: ScheduledFunctionProps) {
    super(scope, id);
    const { settings, count } = props;
    const fn = props.function;
    /** An attribute of a resource of this job: of its single instance when the job is counted. */
    const attribute = (element: TerraformResource | TerraformDataSource, name: string, plain: string): string =>
      count === undefined ? plain : onlyInstance(element, name);

    this.deadLetterQueue = new SqsQueue(this, 'dlq', {
      count,
      name: `${props.name}-dlq`,
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: settings.deadLetterRetentionSeconds,
    });
    const queueArn = attribute(this.deadLetterQueue, 'arn', this.deadLetterQueue.arn);
    this.deadLetterQueueArn = queueArn;

    // A policy of its own, so that the invoke config can wait for it: Lambda checks that the function's
    // role may send to the destination when the config is written.
    const deadLetterDocument = new DataAwsIamPolicyDocument(this, 'dead-letter-document', {
      count,
      statement: toPolicyDocumentStatements([{ actions: ['sqs:SendMessage'], resources: [queueArn] }]),
    });
    this.deadLetterPolicy = new IamRolePolicy(this, 'dead-letter', {
      count,
      name: 'dead-letter',
      role: fn.role.id,
      policy: attribute(deadLetterDocument, 'json', deadLetterDocument.json),
    });
    this.eventInvokeConfig = new LambdaFunctionEventInvokeConfig(this, 'async', {
      count,
      functionName: fn.functionName,
      maximumRetryAttempts: settings.lambdaMaximumRetryAttempts,
      maximumEventAgeInSeconds: settings.maximumEventAgeSeconds,
      destinationConfig: { onFailure: { destination: queueArn } },
      dependsOn: [this.deadLetterPolicy],
    });

    this.scheduleGroup = new SchedulerScheduleGroup(this, 'schedule-group', { count, name: props.scheduleGroupName });
    const assume = new DataAwsIamPolicyDocument(this, 'scheduler-assume-role', {
      count,
      statement: [{
        effect: 'Allow',
        actions: ['sts:AssumeRole'],
        principals: [{ type: 'Service', identifiers: ['scheduler.amazonaws.com'] }],
        // Only schedules of this account's group may use the role (confused-deputy protection).
        condition: [
          { test: 'StringEquals', variable: 'aws:SourceAccount', values: [props.accountId] },
          { test: 'ArnEquals', variable: 'aws:SourceArn', values: [attribute(this.scheduleGroup, 'arn', this.scheduleGroup.arn)] },
        ],
      }],
    });
    this.schedulerRole = new IamRole(this, 'scheduler-role', {
      count,
      namePrefix: props.roleNamePrefix,
      description: `EventBridge Scheduler: runs the ${props.name} schedule ${props.cadence}`,
      assumeRolePolicy: attribute(assume, 'json', assume.json),
    });
    const schedulerDocument = new DataAwsIamPolicyDocument(this, 'scheduler-policy', {
      count,
      statement: toPolicyDocumentStatements([
        { actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] },
        { actions: ['sqs:SendMessage'], resources: [queueArn] },
      ]),
    });
    this.schedulerRolePolicy = new IamRolePolicy(this, 'scheduler-role-policy', {
      count,
      name: 'invoke-function',
      role: attribute(this.schedulerRole, 'id', this.schedulerRole.id),
      policy: attribute(schedulerDocument, 'json', schedulerDocument.json),
    });

    this.schedule = new SchedulerSchedule(this, 'schedule', {
      count,
      name: props.name,
      groupName: attribute(this.scheduleGroup, 'name', this.scheduleGroup.name),
      description: props.description,
      scheduleExpression: props.scheduleExpression,
      scheduleExpressionTimezone: 'UTC',
      flexibleTimeWindow: { mode: 'OFF' },
      target: {
        arn: fn.functionArn,
        roleArn: attribute(this.schedulerRole, 'arn', this.schedulerRole.arn),
        input: props.input ?? '{}',
        retryPolicy: {
          maximumRetryAttempts: settings.schedulerMaximumRetryAttempts,
          maximumEventAgeInSeconds: settings.maximumEventAgeSeconds,
        },
        deadLetterConfig: { arn: queueArn },
      },
      // The first run needs the role's permissions and the failure path in place.
      dependsOn: [this.schedulerRolePolicy, this.eventInvokeConfig, ...(props.scheduleDependsOn ?? [])],
    });

    this.deadLetterAlarm = queueNotEmptyAlarm(this, 'dlq-alarm', {
      alarmName: `${props.name}-dlq-not-empty`,
      alarmDescription: props.deadLetterAlarmDescription,
      queueName: attribute(this.deadLetterQueue, 'name', this.deadLetterQueue.name),
      alarmTopicArn: props.alarmTopicArn,
    });
    this.errorsAlarm = functionErrorsAlarm(this, 'errors-alarm', {
      alarmName: props.errorsAlarmName ?? `${props.name}-errors`,
      alarmDescription: props.errorsAlarmDescription,
      functionName: fn.functionName,
      periodSeconds: props.errorsAlarmPeriodSeconds ?? 3600,
      alarmTopicArn: props.alarmTopicArn,
    });
    if (count !== undefined) {
      this.deadLetterAlarm.count = count;
      this.errorsAlarm.count = count;
    }
  }
}

export interface HourlyScheduledFunctionProps extends Omit<ScheduledFunctionProps, 'scheduleExpression' | 'cadence' | 'settings' | 'errorsAlarmPeriodSeconds'> {
  /** Minute past each hour (0–59, UTC) at which the function runs (may be a Terraform expression). @default 0 */
  readonly minute?: number;
  /** Retries and retention. @default {@link HOURLY_SCHEDULE_DEFAULTS} */
  readonly settings?: Partial<HourlyScheduleSettings>;
}

/**
 * A {@link ScheduledFunction} run every hour, at a minute past the hour, whose errors alarm looks at
 * the last hour.
 */
export class HourlyScheduledFunction extends ScheduledFunction {
  constructor(scope: Construct, id: string, props: HourlyScheduledFunctionProps) {
    const minute = Token.asString(props.minute ?? 0);
    super(scope, id, {
      ...props,
      scheduleExpression: `cron(${minute} * * * ? *)`,
      cadence: 'every hour',
      settings: { ...HOURLY_SCHEDULE_DEFAULTS, ...props.settings },
      errorsAlarmPeriodSeconds: 3600,
    });
  }
}
