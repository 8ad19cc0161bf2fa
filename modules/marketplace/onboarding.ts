import { CloudwatchEventApiDestination } from '@cdktf/provider-aws/lib/cloudwatch-event-api-destination';
import { CloudwatchEventConnection } from '@cdktf/provider-aws/lib/cloudwatch-event-connection';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { Fn, Token } from 'cdktf';
import { Construct } from 'constructs';
import { CONTROL_PLANE_EVENT_SOURCE } from '../../adapters/eventbridge/eventbridge-event-publisher';
import { DETAIL_TYPES } from '../../core/marketplace/subscription-effects';
import { BundledFunction } from '../bundled-function/bundled-function';
import { isNonEmpty } from '../terraform-expressions';
import { DeadLetterQueue } from './dead-letter-queue';
import { EVENT_TARGET_RETRY, EventFunctionTarget } from './event-function-target';
import { onlyInstance } from './terraform-references';

/** The detail-type of the event published when a subscriber has registered (the name of the AWS Marketplace serverless SaaS integration quick start). */
export const NEW_SUBSCRIBER_DETAIL_TYPE = DETAIL_TYPES.newSubscriber;

/** Header that carries the onboarding API key. */
export const ONBOARDING_API_KEY_HEADER = 'x-api-key';

/**
 * What the onboarding API receives: the fields of the AWS Marketplace SaaS quick start's onboarding rule, taken from the published
 * detail (`core/marketplace/subscription-effects.ts`); the customer is identified by our tenant id.
 */
export const ONBOARDING_INPUT_PATHS = {
  tenantName: '$.detail.companyName',
  tenantEmail: '$.detail.contactEmail',
  tenantPhone: '$.detail.contactPhone',
  customerId: '$.detail.tenantId',
  tenantTier: '$.detail.tenantTier',
} as const;

/** The body POSTed to the onboarding API (EventBridge replaces each `<name>` with its JSON-escaped value). */
export const ONBOARDING_INPUT_TEMPLATE = `{${Object.keys(ONBOARDING_INPUT_PATHS).map((name) => `"${name}": "<${name}>"`).join(', ')}}`;

export interface MarketplaceOnboardingProps {
  /** Prefix of every resource name (may be a Terraform variable). */
  readonly namePrefix: string;
  /** Name of the bus the Marketplace integration publishes to. */
  readonly eventBusName: string;
  /** Days to keep the onboarding function's logs. */
  readonly logRetentionDays: number;
  /** The Cognito user pool the built-in onboarding creates users in: its id. */
  readonly userPoolId: string;
  /** …and its ARN (the function may manage users of this pool only). */
  readonly userPoolArn: string;
  /**
   * HTTPS endpoint of the control plane's onboarding API, or an empty string (a Terraform variable) for
   * the built-in `tenant-onboarding` function.
   */
  readonly onboardingUrl: string;
  /** API key sent in the `x-api-key` header to the onboarding API (a sensitive Terraform variable). */
  readonly onboardingApiKey: string;
  /** SNS topic the alarm notifies. */
  readonly alarmTopicArn: string;
  /** The account the stack deploys to (the API destination role may only be assumed for its rule). */
  readonly accountId: string;
}

/**
 * Onboarding of new subscribers: a rule on the Marketplace bus for `New AWS Marketplace Subscriber`
 * events (source `saas-metering.marketplace`), switched (Terraform `count`) by whether an onboarding URL is configured:
 *
 * - URL set: the event goes to the control plane's onboarding API through an EventBridge API
 *   destination (connection with API-key auth in the `x-api-key` header), reshaped by an input
 *   transformer as the AWS Marketplace SaaS quick start does, with a role that may only invoke that destination;
 * - URL empty: the built-in `tenant-onboarding` function creates the tenant's first user in the
 *   Cognito user pool. The function always exists (idle while the URL is set); only its wiring is switched.
 *
 * Either way, delivery is retried for a day and then dead-lettered (a failed run of the function too),
 * and the dead-letter queue's alarm fires.
 */
export class MarketplaceOnboarding extends Construct {
  readonly rule: CloudwatchEventRule;
  readonly deadLetterQueue: DeadLetterQueue;
  readonly onboardingFunction: BundledFunction;
  readonly functionTarget: EventFunctionTarget;
  readonly connection: CloudwatchEventConnection;
  readonly apiDestination: CloudwatchEventApiDestination;
  readonly apiDestinationRole: IamRole;
  readonly apiDestinationTarget: CloudwatchEventTarget;

  constructor(scope: Construct, id: string, props: MarketplaceOnboardingProps) {
    super(scope, id);
    const usesApi = isNonEmpty(props.onboardingUrl);
    const apiCount = Token.asNumber(Fn.conditional(usesApi, 1, 0));
    const functionCount = Token.asNumber(Fn.conditional(usesApi, 0, 1));

    this.rule = new CloudwatchEventRule(this, 'rule', {
      name: `${props.namePrefix}-onboard-new-subscriber`,
      description: 'A buyer subscribed through AWS Marketplace and registered: onboard the tenant',
      eventBusName: props.eventBusName,
      // Only the events the Marketplace functions publish (their source), of this detail-type.
      eventPattern: JSON.stringify({ source: [CONTROL_PLANE_EVENT_SOURCE], 'detail-type': [NEW_SUBSCRIBER_DETAIL_TYPE] }),
    });
    this.deadLetterQueue = new DeadLetterQueue(this, 'dlq', {
      name: `${props.namePrefix}-marketplace-onboarding-dlq`,
      alarmDescription: 'A new AWS Marketplace subscriber could not be onboarded (the onboarding API or function kept failing for a day, or the run failed after its retries): the event is in the dead-letter queue. Onboard the tenant from it, fix the cause.',
      alarmTopicArn: props.alarmTopicArn,
      eventRuleArns: [this.rule.arn],
    });

    // Built-in onboarding.
    this.onboardingFunction = new BundledFunction(this, 'tenant-onboarding', {
      entry: 'tenant-onboarding',
      functionName: `${props.namePrefix}-tenant-onboarding`,
      description: 'New AWS Marketplace subscriber: creates the tenant\'s first user in the Cognito user pool',
      logRetentionDays: props.logRetentionDays,
      timeoutSeconds: 30,
      environment: { USER_POOL_ID: props.userPoolId },
      policyStatements: [{ actions: ['cognito-idp:AdminCreateUser', 'cognito-idp:AdminGetUser'], resources: [props.userPoolArn] }],
    });
    this.functionTarget = new EventFunctionTarget(this, 'function-target', {
      rule: this.rule,
      function: this.onboardingFunction,
      deadLetterQueue: this.deadLetterQueue,
      targetId: 'tenant-onboarding',
      count: functionCount,
    });

    // The control plane's onboarding API.
    this.connection = new CloudwatchEventConnection(this, 'connection', {
      count: apiCount,
      name: `${props.namePrefix}-onboarding-api`,
      description: 'The control plane\'s onboarding API (API key)',
      authorizationType: 'API_KEY',
      authParameters: { apiKey: { key: ONBOARDING_API_KEY_HEADER, value: props.onboardingApiKey } },
      lifecycle: {
        precondition: [{
          condition: isNonEmpty(props.onboardingApiKey),
          errorMessage: 'onboarding_api_key must be set when onboarding_url is: the onboarding API is called with it in the x-api-key header.',
        }],
      },
    });
    this.apiDestination = new CloudwatchEventApiDestination(this, 'api-destination', {
      count: apiCount,
      name: `${props.namePrefix}-onboarding-api`,
      description: 'POST new AWS Marketplace subscribers to the control plane\'s onboarding API',
      connectionArn: onlyInstance(this.connection, 'arn'),
      invocationEndpoint: props.onboardingUrl,
      httpMethod: 'POST',
      invocationRateLimitPerSecond: 10,
    });
    // Only EventBridge, and only for this account's onboarding rule (confused-deputy protection).
    const assume = new DataAwsIamPolicyDocument(this, 'api-destination-assume-role', {
      statement: [{
        effect: 'Allow',
        actions: ['sts:AssumeRole'],
        principals: [{ type: 'Service', identifiers: ['events.amazonaws.com'] }],
        condition: [
          { test: 'StringEquals', variable: 'aws:SourceAccount', values: [props.accountId] },
          { test: 'ArnEquals', variable: 'aws:SourceArn', values: [this.rule.arn] },
        ],
      }],
    });
    this.apiDestinationRole = new IamRole(this, 'api-destination-role', {
      count: apiCount,
      namePrefix: 'events-onboarding-',
      description: 'EventBridge: POSTs new AWS Marketplace subscribers to the onboarding API',
      assumeRolePolicy: assume.json,
    });
    const invoke = new DataAwsIamPolicyDocument(this, 'api-destination-policy', {
      count: apiCount,
      statement: [{ effect: 'Allow', actions: ['events:InvokeApiDestination'], resources: [onlyInstance(this.apiDestination, 'arn')] }],
    });
    const invokePolicy = new IamRolePolicy(this, 'api-destination-role-policy', {
      count: apiCount,
      name: 'invoke-onboarding-api',
      role: onlyInstance(this.apiDestinationRole, 'id'),
      policy: onlyInstance(invoke, 'json'),
    });
    this.apiDestinationTarget = new CloudwatchEventTarget(this, 'api-destination-target', {
      count: apiCount,
      rule: this.rule.name,
      eventBusName: props.eventBusName,
      targetId: 'onboarding-api',
      arn: onlyInstance(this.apiDestination, 'arn'),
      roleArn: onlyInstance(this.apiDestinationRole, 'arn'),
      inputTransformer: { inputPaths: { ...ONBOARDING_INPUT_PATHS }, inputTemplate: ONBOARDING_INPUT_TEMPLATE },
      retryPolicy: { ...EVENT_TARGET_RETRY },
      deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
      dependsOn: [invokePolicy],
    });
  }
}
