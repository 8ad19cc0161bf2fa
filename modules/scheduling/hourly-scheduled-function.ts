import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaFunctionEventInvokeConfig } from '@cdktf/provider-aws/lib/lambda-function-event-invoke-config';
import { SchedulerSchedule } from '@cdktf/provider-aws/lib/scheduler-schedule';
import { SchedulerScheduleGroup } from '@cdktf/provider-aws/lib/scheduler-schedule-group';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { Token, type ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import type { BundledFunction } from '../bundled-function/bundled-function';
import { toPolicyDocumentStatements } from '../iam/policy-statement';
import { queueNotEmptyAlarm } from '../alarms/queue-not-empty-alarm';
import { functionErrorsAlarm } from '../alarms/function-errors-alarm';

/** Retry and retention settings of an hourly job (see {@link HourlyScheduledFunction}). */
export interface HourlyScheduleSettings {
  /** Scheduler retries of a failed invocation request (throttling, service errors). */
  readonly schedulerMaximumRetryAttempts: number;
  /** Lambda retries of a run that failed (asynchronous invocation), 0 to 2. */
  readonly lambdaMaximumRetryAttempts: number;
  /** A run that has not started within this many seconds is dropped to the dead-letter queue; the next run covers it. */
  readonly maximumEventAgeSeconds: number;
  /** How long the dead-letter queue keeps a message, seconds. */
  readonly deadLetterRetentionSeconds: number;
}

/** Default settings of an hourly job. */
export const HOURLY_SCHEDULE_DEFAULTS: HourlyScheduleSettings = {
  schedulerMaximumRetryAttempts: 3,
  lambdaMaximumRetryAttempts: 2,
  /** An hour's run that has not started within an hour is dropped (to the dead-letter queue). */
  maximumEventAgeSeconds: 3600,
  /** 14 days, the SQS maximum. */
  deadLetterRetentionSeconds: 1_209_600,
} as const;

export interface HourlyScheduledFunctionProps {
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
  /** Minute past each hour (0–59, UTC) at which the function runs (may be a Terraform expression). @default 0 */
  readonly minute?: number;
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
  /** What must exist before the first run (the schedule waits for it). @default none */
  readonly scheduleDependsOn?: ITerraformDependable[];
  /** Retries and retention. @default {@link HOURLY_SCHEDULE_DEFAULTS} */
  readonly settings?: Partial<HourlyScheduleSettings>;
}

/**
 * A function run every hour by EventBridge Scheduler, with a failure path that loses no run silently:
 *
 * - the schedule (in a group of its own) invokes the function asynchronously through a role that may
 *   only invoke that function and send to the dead-letter queue, and that only schedules of this
 *   account's group may assume (confused-deputy protection);
 * - if the invocation itself fails, Scheduler retries it and then sends the event to the dead-letter
 *   queue (SQS, SQS-managed encryption);
 * - if the run fails, Lambda retries it and then sends the event, with the error, to the same queue
 *   (on-failure destination);
 * - an alarm fires as soon as the queue holds a message, another when the function failed in the last
 *   hour; both notify the alarm topic.
 */
export class HourlyScheduledFunction extends Construct {
  readonly scheduleGroup: SchedulerScheduleGroup;
  readonly schedule: SchedulerSchedule;
  /** Role EventBridge Scheduler assumes to invoke the function. */
  readonly schedulerRole: IamRole;
  /** What the scheduler role may do: invoke the function, send to the dead-letter queue. */
  readonly schedulerRolePolicy: IamRolePolicy;
  readonly deadLetterQueue: SqsQueue;
  readonly deadLetterQueueArn: string;
  /** The function role's permission to send to the dead-letter queue. */
  readonly deadLetterPolicy: IamRolePolicy;
  readonly eventInvokeConfig: LambdaFunctionEventInvokeConfig;
  readonly deadLetterAlarm: CloudwatchMetricAlarm;
  readonly errorsAlarm: CloudwatchMetricAlarm;

  constructor(scope: Construct, id: string, props: HourlyScheduledFunctionProps) {
    super(scope, id);
    const settings = { ...HOURLY_SCHEDULE_DEFAULTS, ...props.settings };
    const fn = props.function;

    this.deadLetterQueue = new SqsQueue(this, 'dlq', {
      name: `${props.name}-dlq`,
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: settings.deadLetterRetentionSeconds,
    });
    this.deadLetterQueueArn = this.deadLetterQueue.arn;

    // A policy of its own, so that the invoke config can wait for it: Lambda checks that the function's
    // role may send to the destination when the config is written.
    const deadLetterDocument = new DataAwsIamPolicyDocument(this, 'dead-letter-document', {
      statement: toPolicyDocumentStatements([{ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.arn] }]),
    });
    this.deadLetterPolicy = new IamRolePolicy(this, 'dead-letter', {
      name: 'dead-letter',
      role: fn.role.id,
      policy: deadLetterDocument.json,
    });
    this.eventInvokeConfig = new LambdaFunctionEventInvokeConfig(this, 'async', {
      functionName: fn.functionName,
      maximumRetryAttempts: settings.lambdaMaximumRetryAttempts,
      maximumEventAgeInSeconds: settings.maximumEventAgeSeconds,
      destinationConfig: { onFailure: { destination: this.deadLetterQueue.arn } },
      dependsOn: [this.deadLetterPolicy],
    });

    this.scheduleGroup = new SchedulerScheduleGroup(this, 'schedule-group', { name: props.scheduleGroupName });
    const assume = new DataAwsIamPolicyDocument(this, 'scheduler-assume-role', {
      statement: [{
        effect: 'Allow',
        actions: ['sts:AssumeRole'],
        principals: [{ type: 'Service', identifiers: ['scheduler.amazonaws.com'] }],
        // Only schedules of this account's group may use the role (confused-deputy protection).
        condition: [
          { test: 'StringEquals', variable: 'aws:SourceAccount', values: [props.accountId] },
          { test: 'ArnEquals', variable: 'aws:SourceArn', values: [this.scheduleGroup.arn] },
        ],
      }],
    });
    this.schedulerRole = new IamRole(this, 'scheduler-role', {
      namePrefix: props.roleNamePrefix,
      description: `EventBridge Scheduler: runs the ${props.name} schedule every hour`,
      assumeRolePolicy: assume.json,
    });
    const schedulerDocument = new DataAwsIamPolicyDocument(this, 'scheduler-policy', {
      statement: toPolicyDocumentStatements([
        { actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] },
        { actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.arn] },
      ]),
    });
    this.schedulerRolePolicy = new IamRolePolicy(this, 'scheduler-role-policy', {
      name: 'invoke-function',
      role: this.schedulerRole.id,
      policy: schedulerDocument.json,
    });

    const minute = Token.asString(props.minute ?? 0);
    this.schedule = new SchedulerSchedule(this, 'schedule', {
      name: props.name,
      groupName: this.scheduleGroup.name,
      description: props.description,
      scheduleExpression: `cron(${minute} * * * ? *)`,
      scheduleExpressionTimezone: 'UTC',
      flexibleTimeWindow: { mode: 'OFF' },
      target: {
        arn: fn.functionArn,
        roleArn: this.schedulerRole.arn,
        input: props.input ?? '{}',
        retryPolicy: {
          maximumRetryAttempts: settings.schedulerMaximumRetryAttempts,
          maximumEventAgeInSeconds: settings.maximumEventAgeSeconds,
        },
        deadLetterConfig: { arn: this.deadLetterQueue.arn },
      },
      // The first run needs the role's permissions and the failure path in place.
      dependsOn: [this.schedulerRolePolicy, this.eventInvokeConfig, ...(props.scheduleDependsOn ?? [])],
    });

    this.deadLetterAlarm = queueNotEmptyAlarm(this, 'dlq-alarm', {
      alarmName: `${props.name}-dlq-not-empty`,
      alarmDescription: props.deadLetterAlarmDescription,
      queueName: this.deadLetterQueue.name,
      alarmTopicArn: props.alarmTopicArn,
    });
    this.errorsAlarm = functionErrorsAlarm(this, 'errors-alarm', {
      alarmName: props.errorsAlarmName ?? `${props.name}-errors`,
      alarmDescription: props.errorsAlarmDescription,
      functionName: fn.functionName,
      periodSeconds: 3600,
      alarmTopicArn: props.alarmTopicArn,
    });
  }
}
