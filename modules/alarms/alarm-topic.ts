import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { Fn, Token } from 'cdktf';
import { Construct } from 'constructs';
import type { AwsEnvironment } from '../aws-environment';
import { isNonEmpty } from '../terraform-expressions';

export interface AlarmTopicProps {
  /** Prefix of every resource name (may be a Terraform variable); the topic is `<prefix>-alarms`. */
  readonly namePrefix: string;
  /** Account, region and partition, for the key policy. */
  readonly aws: AwsEnvironment;
  /**
   * Email address subscribed to the topic, or an empty string for none (may be a Terraform variable).
   * AWS sends a confirmation message first: nothing is delivered until the recipient confirms.
   * @default '' (no subscription)
   */
  readonly email?: string;
}

/**
 * The SNS topic every CloudWatch alarm of the stack notifies, optionally with an email subscription.
 *
 * The topic is encrypted at rest with its own customer-managed KMS key, not the AWS-managed
 * `alias/aws/sns`: the policy of the AWS-managed key cannot be changed and does not let CloudWatch
 * call `kms:GenerateDataKey`/`kms:Decrypt`, so an alarm publishing to a topic encrypted with it fails
 * ("CloudWatch Alarms does not have authorization to access the SNS topic encryption key") and no
 * notification is ever sent. The dedicated key lets CloudWatch (of this account only) use it.
 */
export class AlarmTopic extends Construct {
  readonly topic: SnsTopic;
  /** ARN of the topic: alarm actions of later modules point here. */
  readonly topicArn: string;
  /** The topic's KMS key. Another publisher (a function's role) needs kms:GenerateDataKey and kms:Decrypt on it. */
  readonly key: KmsKey;
  readonly keyArn: string;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    const { partition, accountId } = props.aws;

    // A key policy's Resource is always "*" (it means the key the policy is attached to).
    const keyPolicy = new DataAwsIamPolicyDocument(this, 'key-policy', {
      statement: [
        {
          // The default key policy: lets the account's IAM policies govern the key. Without it the key
          // could not be managed (KMS refuses a policy that locks the caller out).
          sid: 'EnableIamPolicies',
          effect: 'Allow',
          principals: [{ type: 'AWS', identifiers: [`arn:${partition}:iam::${accountId}:root`] }],
          actions: ['kms:*'],
          resources: ['*'],
        },
        {
          sid: 'AllowCloudWatchAlarmsToPublish',
          effect: 'Allow',
          principals: [{ type: 'Service', identifiers: ['cloudwatch.amazonaws.com'] }],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: ['*'],
          condition: [{ test: 'StringEquals', variable: 'aws:SourceAccount', values: [accountId] }],
        },
      ],
    });
    this.key = new KmsKey(this, 'key', {
      description: `Encrypts the ${props.namePrefix}-alarms SNS topic (CloudWatch alarm notifications)`,
      enableKeyRotation: true,
      policy: keyPolicy.json,
    });
    this.keyArn = this.key.arn;
    new KmsAlias(this, 'key-alias', { name: `alias/${props.namePrefix}-alarms`, targetKeyId: this.key.keyId });

    this.topic = new SnsTopic(this, 'topic', {
      name: `${props.namePrefix}-alarms`,
      displayName: 'Usage metering alarms',
      kmsMasterKeyId: this.key.arn,
    });
    this.topicArn = this.topic.arn;

    const email = props.email ?? '';
    if (Token.isUnresolved(email) || email.length > 0) {
      new SnsTopicSubscription(this, 'email', {
        count: Token.asNumber(Fn.conditional(isNonEmpty(email), 1, 0)),
        topicArn: this.topic.arn,
        protocol: 'email',
        endpoint: email,
      });
    }
  }
}
