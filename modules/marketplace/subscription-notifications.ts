import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaEventSourceMapping } from '@cdktf/provider-aws/lib/lambda-event-source-mapping';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueuePolicy } from '@cdktf/provider-aws/lib/sqs-queue-policy';
import { Fn, Op, TerraformIterator, Token } from 'cdktf';
import { Construct } from 'constructs';
import type { BundledFunction } from '../bundled-function/bundled-function';
import { toPolicyDocumentStatements } from '../iam/policy-statement';
import { DeadLetterQueue } from './dead-letter-queue';
import { onlyInstance } from './terraform-references';

/** Settings of the notification queue and its consumer. */
export const NOTIFICATION_QUEUE_SETTINGS = {
  /** Receives before a message goes to the dead-letter queue (a notification whose tenant is not registered yet is deferred this often). */
  maxReceiveCount: 5,
  /** Messages per invocation of the subscriptions function. */
  batchSize: 10,
  /** 4 days (the SQS default): time for the subscription to be registered. */
  messageRetentionSeconds: 345_600,
} as const;

export interface SubscriptionNotificationsProps {
  /** Prefix of every resource name (may be a Terraform variable). */
  readonly namePrefix: string;
  /**
   * ARNs of the AWS Marketplace SNS topics to subscribe the queue to (a Terraform list variable): the
   * queue takes messages from these topics only.
   */
  readonly topicArns: string[];
  /** The function that handles batches of notifications (SQS event source, partial batch failures). */
  readonly handler: BundledFunction;
  /** Timeout of the handler, seconds: the queue hides a received message six times as long. */
  readonly handlerTimeoutSeconds: number;
  /** SNS topic the dead-letter alarm notifies. */
  readonly alarmTopicArn: string;
}

/**
 * The legacy AWS Marketplace subscription notifications: SNS topic(s) of AWS Marketplace → an SQS queue
 * (SQS-managed encryption; a queue policy lets only the configured topics send) → the subscriptions
 * function in batches of 10, which reports the messages it could not handle (partial batch response)
 * so that only those are received again; after 5 receives a message goes to the dead-letter queue,
 * whose alarm fires.
 *
 * The Marketplace topics live in us-east-1 in an AWS account of AWS Marketplace: each subscription is
 * created in the topic's own region (taken from its ARN), as SNS requires for a cross-region
 * subscription, by this account (the queue's owner). SNS sends the envelope (raw delivery off): the
 * handler reads the topic ARN and message id from it.
 */
export class SubscriptionNotifications extends Construct {
  readonly queue: SqsQueue;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly deadLetterQueue: DeadLetterQueue;
  readonly eventSourceMapping: LambdaEventSourceMapping;
  readonly subscriptions: SnsTopicSubscription;

  constructor(scope: Construct, id: string, props: SubscriptionNotificationsProps) {
    super(scope, id);
    this.deadLetterQueue = new DeadLetterQueue(this, 'dlq', {
      name: `${props.namePrefix}-marketplace-notifications-dlq`,
      alarmDescription: 'An AWS Marketplace subscription notification could not be handled after 5 attempts (unknown tenant, invalid message or a failing dependency): it is in the dead-letter queue. Inspect it, fix the cause and redrive it to the notification queue.',
      alarmTopicArn: props.alarmTopicArn,
    });

    this.queue = new SqsQueue(this, 'queue', {
      name: `${props.namePrefix}-marketplace-notifications`,
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: NOTIFICATION_QUEUE_SETTINGS.messageRetentionSeconds,
      // AWS's advice for a Lambda event source: at least six times the function's timeout.
      visibilityTimeoutSeconds: props.handlerTimeoutSeconds * 6,
      redrivePolicy: Fn.jsonencode({ deadLetterTargetArn: this.deadLetterQueue.queueArn, maxReceiveCount: NOTIFICATION_QUEUE_SETTINGS.maxReceiveCount }),
    });
    this.queueUrl = this.queue.url;
    this.queueArn = this.queue.arn;

    // Only the configured Marketplace topics may send; no policy at all while there are none.
    const hasTopics = Token.asNumber(Fn.conditional(Op.gte(Fn.lengthOf(props.topicArns), 1), 1, 0));
    const queuePolicy = new DataAwsIamPolicyDocument(this, 'queue-policy-document', {
      count: hasTopics,
      statement: [{
        sid: 'MarketplaceTopicsOnly',
        effect: 'Allow',
        principals: [{ type: 'Service', identifiers: ['sns.amazonaws.com'] }],
        actions: ['sqs:SendMessage'],
        resources: [this.queue.arn],
        condition: [{ test: 'ArnEquals', variable: 'aws:SourceArn', values: props.topicArns }],
      }],
    });
    const policy = new SqsQueuePolicy(this, 'queue-policy', {
      count: hasTopics,
      queueUrl: this.queue.url,
      policy: onlyInstance(queuePolicy, 'json'),
    });

    const topics = TerraformIterator.fromList(props.topicArns);
    this.subscriptions = new SnsTopicSubscription(this, 'subscription', {
      forEach: topics,
      // SNS creates a cross-region subscription only in the topic's region: the 4th field of its ARN.
      region: Fn.element(Fn.split(':', topics.value), 3),
      topicArn: topics.value,
      protocol: 'sqs',
      endpoint: this.queue.arn,
      rawMessageDelivery: false,
      // SNS delivers only once the queue policy lets the topic send.
      dependsOn: [policy],
    });

    const consume = new DataAwsIamPolicyDocument(this, 'consume-document', {
      statement: toPolicyDocumentStatements([{
        actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
        resources: [this.queue.arn],
      }]),
    });
    const consumePolicy = new IamRolePolicy(this, 'consume', { name: 'consume-notifications', role: props.handler.role.id, policy: consume.json });
    this.eventSourceMapping = new LambdaEventSourceMapping(this, 'event-source', {
      eventSourceArn: this.queue.arn,
      functionName: props.handler.functionArn,
      batchSize: NOTIFICATION_QUEUE_SETTINGS.batchSize,
      functionResponseTypes: ['ReportBatchItemFailures'],
      // Lambda checks the role's permissions on the queue when the mapping is created.
      dependsOn: [consumePolicy],
    });
  }
}
