import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueuePolicy } from '@cdktf/provider-aws/lib/sqs-queue-policy';
import { Construct } from 'constructs';
import { queueNotEmptyAlarm } from '../alarms/queue-not-empty-alarm';

/** 14 days, the SQS maximum: time to notice the alarm, fix the cause and redrive. */
export const DEAD_LETTER_RETENTION_SECONDS = 1_209_600;

export interface DeadLetterQueueProps {
  /** Queue name (may be a Terraform expression); the alarm is `<name>-not-empty`. */
  readonly name: string;
  /** What a message in this queue means and what to do (the alarm's description). */
  readonly alarmDescription: string;
  /** SNS topic the alarm notifies. */
  readonly alarmTopicArn: string;
  /**
   * EventBridge rules whose targets may dead-letter events here (ARNs; may be Terraform expressions).
   * EventBridge sends with its service principal, so the queue policy allows it for these rules only.
   * @default none (no queue policy: only principals of the account with IAM permission may send)
   */
  readonly eventRuleArns?: readonly string[];
}

/**
 * A dead-letter queue (SQS, SQS-managed encryption, 14 days) with an alarm that fires as soon as it
 * holds a message, and optionally a queue policy that lets EventBridge dead-letter the events of given
 * rules into it.
 */
export class DeadLetterQueue extends Construct {
  readonly queue: SqsQueue;
  readonly queueArn: string;
  readonly queueUrl: string;
  readonly alarm: CloudwatchMetricAlarm;

  constructor(scope: Construct, id: string, props: DeadLetterQueueProps) {
    super(scope, id);
    this.queue = new SqsQueue(this, 'queue', {
      name: props.name,
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS,
    });
    this.queueArn = this.queue.arn;
    this.queueUrl = this.queue.url;

    if (props.eventRuleArns && props.eventRuleArns.length > 0) {
      const document = new DataAwsIamPolicyDocument(this, 'policy-document', {
        statement: [{
          sid: 'EventBridgeRulesDeadLetters',
          effect: 'Allow',
          principals: [{ type: 'Service', identifiers: ['events.amazonaws.com'] }],
          actions: ['sqs:SendMessage'],
          resources: [this.queue.arn],
          condition: [{ test: 'ArnEquals', variable: 'aws:SourceArn', values: [...props.eventRuleArns] }],
        }],
      });
      new SqsQueuePolicy(this, 'policy', { queueUrl: this.queue.url, policy: document.json });
    }

    this.alarm = queueNotEmptyAlarm(this, 'alarm', {
      alarmName: `${props.name}-not-empty`,
      alarmDescription: props.alarmDescription,
      queueName: this.queue.name,
      alarmTopicArn: props.alarmTopicArn,
    });
  }
}
