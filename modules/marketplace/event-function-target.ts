import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaFunctionEventInvokeConfig } from '@cdktf/provider-aws/lib/lambda-function-event-invoke-config';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { Construct } from 'constructs';
import type { BundledFunction } from '../bundled-function/bundled-function';
import { toPolicyDocumentStatements } from '../iam/policy-statement';
import type { DeadLetterQueue } from './dead-letter-queue';

/**
 * How EventBridge retries delivering an event to a target: for up to a day (the EventBridge maximums),
 * with exponential back-off, before the event goes to the target's dead-letter queue.
 */
export const EVENT_TARGET_RETRY = { maximumEventAgeInSeconds: 86_400, maximumRetryAttempts: 185 } as const;

/** Lambda's retries of a failed asynchronous run of an event-driven function, and how long an event may wait. */
export const EVENT_FUNCTION_ASYNC = { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 21_600 } as const;

export interface EventFunctionTargetProps {
  /** The rule whose events the function receives. */
  readonly rule: CloudwatchEventRule;
  /** The function. Its role is granted `sqs:SendMessage` on the dead-letter queue. */
  readonly function: BundledFunction;
  /** Where events go that could not be delivered (EventBridge) or whose run failed after Lambda's retries. Its policy must allow the rule. */
  readonly deadLetterQueue: DeadLetterQueue;
  /** Target id within the rule. */
  readonly targetId: string;
  /**
   * `count` of the target and the invoke permission (a Terraform expression that is 0 or 1), to switch
   * the function on and off. @default always present
   */
  readonly count?: number;
}

/**
 * Connects an EventBridge rule to a function with a failure path that loses nothing silently: the target
 * retries delivery for a day and then dead-letters the event; Lambda may be invoked by EventBridge for
 * this rule only; a run that fails is retried twice by Lambda and then sent, with its error, to the same
 * dead-letter queue (on-failure destination), whose alarm fires.
 */
export class EventFunctionTarget extends Construct {
  readonly target: CloudwatchEventTarget;
  readonly permission: LambdaPermission;
  readonly eventInvokeConfig: LambdaFunctionEventInvokeConfig;

  constructor(scope: Construct, id: string, props: EventFunctionTargetProps) {
    super(scope, id);
    const fn = props.function;
    const dlqArn = props.deadLetterQueue.queueArn;

    this.permission = new LambdaPermission(this, 'invoke', {
      count: props.count,
      statementId: 'AllowEventBridgeRule',
      action: 'lambda:InvokeFunction',
      functionName: fn.functionName,
      principal: 'events.amazonaws.com',
      sourceArn: props.rule.arn,
    });

    // A policy of its own, so that the invoke config can wait for it: Lambda checks that the function's
    // role may send to the destination when the config is written.
    const document = new DataAwsIamPolicyDocument(this, 'dead-letter-document', {
      statement: toPolicyDocumentStatements([{ actions: ['sqs:SendMessage'], resources: [dlqArn] }]),
    });
    const policy = new IamRolePolicy(this, 'dead-letter', { name: 'dead-letter', role: fn.role.id, policy: document.json });
    this.eventInvokeConfig = new LambdaFunctionEventInvokeConfig(this, 'async', {
      functionName: fn.functionName,
      maximumRetryAttempts: EVENT_FUNCTION_ASYNC.maximumRetryAttempts,
      maximumEventAgeInSeconds: EVENT_FUNCTION_ASYNC.maximumEventAgeInSeconds,
      destinationConfig: { onFailure: { destination: dlqArn } },
      dependsOn: [policy],
    });

    this.target = new CloudwatchEventTarget(this, 'target', {
      count: props.count,
      rule: props.rule.name,
      eventBusName: props.rule.eventBusName,
      targetId: props.targetId,
      arn: fn.functionArn,
      retryPolicy: { ...EVENT_TARGET_RETRY },
      deadLetterConfig: { arn: dlqArn },
      dependsOn: [this.permission, this.eventInvokeConfig],
    });
  }
}
