import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaEventSourceMapping } from '@cdktf/provider-aws/lib/lambda-event-source-mapping';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueuePolicy } from '@cdktf/provider-aws/lib/sqs-queue-policy';
import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import { CONTROL_PLANE_EVENT_SOURCE } from '../../adapters/eventbridge/eventbridge-event-publisher';
import { DETAIL_TYPES } from '../../core/marketplace/subscription-effects';
import type { BundledFunction } from '../bundled-function/bundled-function';
import { toPolicyDocumentStatements } from '../iam/policy-statement';
import { DeadLetterQueue } from './dead-letter-queue';
import { EVENT_TARGET_RETRY } from './event-function-target';

/** The detail-type of the event published when a buyer unsubscribes: their final usage must be sent. */
export const UNSUBSCRIBE_PENDING_DETAIL_TYPE = DETAIL_TYPES.unsubscribePending;

/** Settings of the final-usage queue and its consumer. */
export const FINAL_USAGE_QUEUE_SETTINGS = {
  /**
   * Seconds a message stays invisible after it is sent: 900, the SQS maximum, so that the ingestion
   * path's buffering (Firehose, then the transform: 120 s with the default variables) has passed and
   * the lake holds the tenant's usage up to the notification before the function queries it.
   */
  delaySeconds: 900,
  /** Receives before a message goes to the dead-letter queue. */
  maxReceiveCount: 3,
  /** One unsubscribe per invocation: each runs its own Athena queries. */
  batchSize: 1,
  /** 4 days (the SQS default): time to fix a failing dependency before the message is dead-lettered by age. */
  messageRetentionSeconds: 345_600,
} as const;

export interface FinalUsageQueueProps {
  /** Prefix of every resource name (may be a Terraform variable). */
  readonly namePrefix: string;
  /** The Marketplace bus, where the lifecycle functions publish `AWS Marketplace Unsubscribe Pending`. */
  readonly eventBusName: string;
  /** The function that sends the final usage (SQS event source, one message per batch, partial batch failures). */
  readonly handler: BundledFunction;
  /** Timeout of the handler, seconds: the queue hides a received message six times as long. */
  readonly handlerTimeoutSeconds: number;
  /** SNS topic the dead-letter alarm notifies. */
  readonly alarmTopicArn: string;
}

/**
 * The path of an unsubscribe to the final-usage function: a rule on the Marketplace bus for the
 * `AWS Marketplace Unsubscribe Pending` events we publish → an SQS delay queue (15 minutes, so that the
 * buffered usage reaches the lake first; SQS-managed encryption; a queue policy lets only this rule
 * send) → the function, one message at a time, reporting a failed message (partial batch response).
 *
 * One dead-letter queue, whose alarm fires, receives both what EventBridge could not deliver to the
 * queue after a day of retries (the target's dead-letter queue; its policy allows this rule only) and
 * what the function failed on 3 times (the queue's redrive policy).
 */
export class FinalUsageQueue extends Construct {
  readonly rule: CloudwatchEventRule;
  readonly deadLetterQueue: DeadLetterQueue;
  readonly queue: SqsQueue;
  readonly queueArn: string;
  readonly queueUrl: string;
  readonly queuePolicy: SqsQueuePolicy;
  readonly target: CloudwatchEventTarget;
  readonly eventSourceMapping: LambdaEventSourceMapping;

  constructor(scope: Construct, id: string, props: FinalUsageQueueProps) {
    super(scope, id);
    const name = `${props.namePrefix}-marketplace-final-usage`;

    this.rule = new CloudwatchEventRule(this, 'rule', {
      name,
      description: 'A buyer unsubscribed through AWS Marketplace: send their final usage',
      eventBusName: props.eventBusName,
      // Only the events the Marketplace functions publish (their source), of this detail-type.
      eventPattern: JSON.stringify({ source: [CONTROL_PLANE_EVENT_SOURCE], 'detail-type': [UNSUBSCRIBE_PENDING_DETAIL_TYPE] }),
    });
    this.deadLetterQueue = new DeadLetterQueue(this, 'dlq', {
      name: `${name}-dlq`,
      alarmDescription: 'The final usage of an unsubscribing AWS Marketplace buyer could not be sent (the event could not be queued for a day, or the function failed on it 3 times): the event is in the dead-letter queue. Fix the cause and redrive it to the final-usage queue quickly: Marketplace refuses records older than 6 hours.',
      alarmTopicArn: props.alarmTopicArn,
      eventRuleArns: [this.rule.arn],
    });

    this.queue = new SqsQueue(this, 'queue', {
      name,
      sqsManagedSseEnabled: true,
      delaySeconds: FINAL_USAGE_QUEUE_SETTINGS.delaySeconds,
      messageRetentionSeconds: FINAL_USAGE_QUEUE_SETTINGS.messageRetentionSeconds,
      // AWS's advice for a Lambda event source: at least six times the function's timeout.
      visibilityTimeoutSeconds: props.handlerTimeoutSeconds * 6,
      redrivePolicy: Fn.jsonencode({ deadLetterTargetArn: this.deadLetterQueue.queueArn, maxReceiveCount: FINAL_USAGE_QUEUE_SETTINGS.maxReceiveCount }),
    });
    this.queueArn = this.queue.arn;
    this.queueUrl = this.queue.url;

    // EventBridge sends with its service principal: only for this rule.
    const queuePolicyDocument = new DataAwsIamPolicyDocument(this, 'queue-policy-document', {
      statement: [{
        sid: 'UnsubscribePendingRuleOnly',
        effect: 'Allow',
        principals: [{ type: 'Service', identifiers: ['events.amazonaws.com'] }],
        actions: ['sqs:SendMessage'],
        resources: [this.queue.arn],
        condition: [{ test: 'ArnEquals', variable: 'aws:SourceArn', values: [this.rule.arn] }],
      }],
    });
    this.queuePolicy = new SqsQueuePolicy(this, 'queue-policy', { queueUrl: this.queue.url, policy: queuePolicyDocument.json });

    this.target = new CloudwatchEventTarget(this, 'target', {
      rule: this.rule.name,
      eventBusName: props.eventBusName,
      targetId: 'marketplace-final-usage-queue',
      arn: this.queue.arn,
      retryPolicy: { ...EVENT_TARGET_RETRY },
      deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
      // EventBridge delivers only once the queue policy lets the rule send.
      dependsOn: [this.queuePolicy],
    });

    const consume = new DataAwsIamPolicyDocument(this, 'consume-document', {
      statement: toPolicyDocumentStatements([{
        actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
        resources: [this.queue.arn],
      }]),
    });
    const consumePolicy = new IamRolePolicy(this, 'consume', { name: 'consume-final-usage', role: props.handler.role.id, policy: consume.json });
    this.eventSourceMapping = new LambdaEventSourceMapping(this, 'event-source', {
      eventSourceArn: this.queue.arn,
      functionName: props.handler.functionArn,
      batchSize: FINAL_USAGE_QUEUE_SETTINGS.batchSize,
      functionResponseTypes: ['ReportBatchItemFailures'],
      // Lambda checks the role's permissions on the queue when the mapping is created.
      dependsOn: [consumePolicy],
    });
  }
}
