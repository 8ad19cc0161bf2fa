import { CloudwatchEventBus } from '@cdktf/provider-aws/lib/cloudwatch-event-bus';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { Op, Token } from 'cdktf';
import { Construct } from 'constructs';
import { AGREEMENT_EVENT_SOURCE } from '../../core/marketplace/notification-parsers';
import type { AwsEnvironment } from '../aws-environment';
import { BundledFunction } from '../bundled-function/bundled-function';
import { grantKmsKeyUse } from '../iam/kms-grant';
import type { PolicyStatement } from '../iam/policy-statement';
import type { PublicRoute } from '../metered-api/metered-api';
import { HourlyScheduledFunction } from '../scheduling/hourly-scheduled-function';
import type { UsageTable } from '../usage-aggregation/usage-table';
import type { UsageLake } from '../usage-lake/usage-lake';
import { DeadLetterQueue } from './dead-letter-queue';
import { EventFunctionTarget } from './event-function-target';
import { FinalUsageQueue } from './final-usage-queue';
import { MarketplaceOnboarding } from './onboarding';
import { SubscriptionNotifications } from './subscription-notifications';
import { TenantTable } from './tenant-table';
import { readListingConfigFile } from '../../config/marketplace-config-file';
import { functionErrorsAlarm } from '../alarms/function-errors-alarm';

/**
 * Where the metering function publishes its metrics (Powertools Metrics, embedded metric format): the
 * namespace, and the `service` dimension Powertools adds to every metric (the function's service name).
 */
export const METERING_METRICS = {
  namespace: 'SaaSMetering',
  dimensions: { service: 'marketplace-metering' },
  /** Usage hours Marketplace refused because the customer is not subscribed (final: never resent). */
  customerNotSubscribed: 'CustomerNotSubscribed',
  /** Age, in whole hours, of the oldest usage hour held back in the last run (0 when none). */
  oldestUnsentHourAge: 'OldestUnsentHourAgeHours',
  /** Records Marketplace refused on their own (e.g. timestamp out of bounds, unknown dimension). */
  recordsRejected: 'RecordsRejected',
} as const;

/** Path of the registration page (the listing's fulfilment URL) on the metered API. */
export const REGISTRATION_PATH = ['marketplace', 'register'] as const;

/** Fixed settings of the Marketplace functions. */
export const MARKETPLACE_SETTINGS = {
  meteringTimeoutSeconds: 300,
  notificationTimeoutSeconds: 30,
  /**
   * The final-usage function runs one Athena query and one tenant's records. Its timeout sets the
   * queue's visibility timeout (6×): 300 s lets a failed first try (15 minutes after the notification)
   * be retried 30 minutes later, still inside Marketplace's hour.
   */
  finalUsageTimeoutSeconds: 300,
  finalUsageMemorySizeMb: 512,
  /** SaaS metering, ResolveCustomer and the Marketplace notifications are served in us-east-1. */
  marketplaceRegion: 'us-east-1',
} as const;

export interface MarketplaceProps {
  /** Prefix of every resource name (may be a Terraform variable). */
  readonly namePrefix: string;
  /** Account, region and partition of the stack. */
  readonly aws: AwsEnvironment;
  /** Days to keep the functions' logs. */
  readonly logRetentionDays: number;
  /**
   * The usage table the metering function reads unsent usage hours from and marks them sent in, and the
   * final-usage function records an unsubscribing tenant's last usage in and sends it from.
   */
  readonly usageTable: UsageTable;
  /**
   * The usage lake the final-usage function queries (Athena workgroup, Glue database, bucket; Lake
   * Formation grants when the catalog is governed by it) for the usage not aggregated yet.
   */
  readonly lake: UsageLake;
  /**
   * Customer-managed KMS key of the lake (it encrypts the usage table, and the tenant table too), or an
   * empty string (may be a Terraform expression) for AWS-owned keys.
   */
  readonly kmsKeyArn: string;
  /** Refuse to delete the tenant table (may be a Terraform variable). @default true */
  readonly tenantTableDeletionProtection?: boolean;
  /**
   * ARNs of the legacy AWS Marketplace SNS topics to subscribe the notification queue to (a Terraform
   * list variable; may be empty).
   */
  readonly snsTopicArns: string[];
  /** Minute past each hour (0–59, UTC) at which metering runs: after the aggregation (may be a Terraform expression). @default 15 */
  readonly meteringScheduleMinute?: number;
  /** Alarm when the oldest unsent usage hour is this many hours old (may be a Terraform variable). @default 3 */
  readonly unsentUsageAlarmHours?: number;
  /** Reserved (and maximum) concurrency of the public registration function; -1 for none (may be a Terraform variable). @default 10 */
  readonly registrationReservedConcurrency?: number;
  /** SNS topic the alarms notify. */
  readonly alarmTopicArn: string;
}

/** What {@link Marketplace.addOnboarding} needs besides the construct's own props. */
export interface MarketplaceOnboardingOptions {
  /** The tenant user pool (of the metered API): its id. */
  readonly userPoolId: string;
  /** …and its ARN. */
  readonly userPoolArn: string;
  /** The control plane's onboarding API (HTTPS), or an empty string (Terraform variable) for the built-in function. */
  readonly onboardingUrl: string;
  /** API key for the onboarding API (sensitive Terraform variable). */
  readonly onboardingApiKey: string;
}

/**
 * The AWS Marketplace integration of a SaaS listing:
 *
 * - the **tenant table** (`<prefix>-tenants`): who each Marketplace customer is, their state, their
 *   contact details, and the registration page's sessions (TTL);
 * - the **Marketplace bus** (`<prefix>-marketplace`), to which the functions publish the control-plane
 *   events (`New AWS Marketplace Subscriber`, unsubscribe, end of subscription, …);
 * - **subscription lifecycle**: the legacy SNS notifications through an SQS queue to
 *   `marketplace-subscriptions`, and the EventBridge agreement events (`aws.agreement-marketplace`,
 *   default bus) to `marketplace-agreement-events`;
 * - the **registration page** `marketplace-registration`, to expose on the metered API without
 *   authorizer as {@link registrationRoute} (`POST /marketplace/register`, the listing's fulfilment
 *   URL), with reserved concurrency to bound abuse;
 * - **metering**: `marketplace-metering` every hour after the aggregation (BatchMeterUsage), with the
 *   failure path of {@link HourlyScheduledFunction}, and alarms on refused customers and on usage that
 *   stays unsent;
 * - **final usage**: on `AWS Marketplace Unsubscribe Pending` (published to the Marketplace bus),
 *   `marketplace-final-usage` queries the lake for the tenant's usage not aggregated yet and sends it
 *   (BatchMeterUsage), through a 15-minute delay queue ({@link FinalUsageQueue}) so that the buffered
 *   usage has reached the lake;
 * - **onboarding** of new subscribers, added by {@link addOnboarding} once the user pool exists.
 *
 * Every queue has a dead-letter queue and every dead-letter queue an alarm on the alarm topic.
 *
 * Region: AWS Marketplace sends the agreement events to the default bus of us-east-1 only; deployed
 * elsewhere, the agreement rule receives nothing (the SNS notifications, subscribed in the topics'
 * region, and the metering calls, made to us-east-1, still work).
 */
export class Marketplace extends Construct {
  readonly tenantTable: TenantTable;
  /** Name of the tenant table (output `TenantTable`). */
  readonly tenantTableName: string;
  readonly eventBus: CloudwatchEventBus;
  /** Name of the Marketplace bus (output `MarketplaceEventBus`). */
  readonly eventBusName: string;
  readonly notifications: SubscriptionNotifications;
  /** URL of the notification queue (output `MarketplaceSubscriptionQueueUrl`). */
  readonly subscriptionQueueUrl: string;
  readonly subscriptionsFunction: BundledFunction;
  readonly agreementRule: CloudwatchEventRule;
  readonly agreementEventsFunction: BundledFunction;
  readonly agreementDeadLetterQueue: DeadLetterQueue;
  readonly agreementTarget: EventFunctionTarget;
  readonly registrationFunction: BundledFunction;
  /** The registration page, for {@link MeteredApiProps.publicRoutes}: `POST /marketplace/register`. */
  readonly registrationRoute: PublicRoute;
  readonly registrationErrorsAlarm: CloudwatchMetricAlarm;
  readonly meteringFunction: BundledFunction;
  readonly metering: HourlyScheduledFunction;
  readonly customerNotSubscribedAlarm: CloudwatchMetricAlarm;
  /** Alarm: Marketplace refused records on their own. */
  readonly rejectedRecordsAlarm: CloudwatchMetricAlarm;
  readonly unsentUsageAlarm: CloudwatchMetricAlarm;
  readonly finalUsageFunction: BundledFunction;
  /** The rule on the Marketplace bus, the delay queue and its dead-letter queue, the event source mapping. */
  readonly finalUsage: FinalUsageQueue;
  readonly finalUsageErrorsAlarm: CloudwatchMetricAlarm;
  /** Set by {@link addOnboarding}. */
  onboarding?: MarketplaceOnboarding;
  private readonly props: MarketplaceProps;

  constructor(scope: Construct, id: string, props: MarketplaceProps) {
    super(scope, id);
    // The metering function bundles config/marketplace.json: an invalid one fails synth here.
    readListingConfigFile();
    this.props = props;
    const prefix = props.namePrefix;

    this.tenantTable = new TenantTable(this, 'tenant-table', {
      tableName: `${prefix}-tenants`,
      kmsKeyArn: props.kmsKeyArn,
      deletionProtection: props.tenantTableDeletionProtection ?? true,
    });
    this.tenantTableName = this.tenantTable.tableName;

    this.eventBus = new CloudwatchEventBus(this, 'event-bus', {
      name: `${prefix}-marketplace`,
      description: 'AWS Marketplace subscription lifecycle events for the SaaS control plane (onboarding, offboarding)',
    });
    this.eventBusName = this.eventBus.name;

    // Subscription lifecycle, legacy: SNS → SQS → function.
    this.subscriptionsFunction = this.lifecycleFunction('marketplace-subscriptions', 'Legacy AWS Marketplace SNS notifications (through SQS): subscription lifecycle of the tenants');
    this.notifications = new SubscriptionNotifications(this, 'notifications', {
      namePrefix: prefix,
      topicArns: props.snsTopicArns,
      handler: this.subscriptionsFunction,
      handlerTimeoutSeconds: MARKETPLACE_SETTINGS.notificationTimeoutSeconds,
      alarmTopicArn: props.alarmTopicArn,
    });
    this.subscriptionQueueUrl = this.notifications.queueUrl;

    // Subscription lifecycle, current: EventBridge agreement events on the default bus.
    this.agreementEventsFunction = this.lifecycleFunction('marketplace-agreement-events', 'AWS Marketplace agreement events (EventBridge): subscription lifecycle of the tenants');
    this.agreementRule = new CloudwatchEventRule(this, 'agreement-rule', {
      name: `${prefix}-marketplace-agreement-events`,
      description: 'AWS Marketplace agreement and licence events of our listings (default bus)',
      eventPattern: JSON.stringify({ source: [AGREEMENT_EVENT_SOURCE] }),
    });
    this.agreementDeadLetterQueue = new DeadLetterQueue(this, 'agreement-dlq', {
      name: `${prefix}-marketplace-agreement-events-dlq`,
      alarmDescription: 'An AWS Marketplace agreement event could not be delivered or handled (unknown tenant, invalid event, a failing dependency) after its retries: it is in the dead-letter queue. Inspect it, fix the cause and apply it again.',
      alarmTopicArn: props.alarmTopicArn,
      eventRuleArns: [this.agreementRule.arn],
    });
    this.agreementTarget = new EventFunctionTarget(this, 'agreement-target', {
      rule: this.agreementRule,
      function: this.agreementEventsFunction,
      deadLetterQueue: this.agreementDeadLetterQueue,
      targetId: 'marketplace-agreement-events',
    });

    this.registrationFunction = this.createRegistration();
    this.registrationRoute = { pathParts: REGISTRATION_PATH, httpMethod: 'POST', function: this.registrationFunction };
    this.registrationErrorsAlarm = functionErrorsAlarm(this, 'registration-errors-alarm', {
      alarmName: `${prefix}-marketplace-registration-errors`,
      alarmDescription: 'The AWS Marketplace registration page failed (an unhandled error, not a refused token): buyers may be unable to register. See the function\'s logs.',
      functionName: this.registrationFunction.functionName,
      periodSeconds: 300,
      alarmTopicArn: props.alarmTopicArn,
    });

    this.meteringFunction = this.createMeteringFunction();
    this.metering = new HourlyScheduledFunction(this, 'metering', {
      name: `${prefix}-marketplace-metering`,
      scheduleGroupName: `${prefix}-marketplace`,
      roleNamePrefix: 'scheduler-metering-',
      function: this.meteringFunction,
      description: 'Every hour, after the aggregation: send the unsent usage hours to AWS Marketplace (BatchMeterUsage)',
      minute: props.meteringScheduleMinute ?? 15,
      accountId: props.aws.accountId,
      alarmTopicArn: props.alarmTopicArn,
      deadLetterAlarmDescription: 'An hourly AWS Marketplace metering run could not be invoked or failed after its retries: its event is in the dead-letter queue. Usage stays pending and the next run sends it while Marketplace still accepts it (6 hours): fix the cause quickly.',
      errorsAlarmDescription: 'The AWS Marketplace metering function failed at least once in the last hour (Lambda retries a failed run twice; records are resent unchanged, never billed twice).',
    });
    const metric = { namespace: METERING_METRICS.namespace, dimensions: { ...METERING_METRICS.dimensions }, period: 3600, evaluationPeriods: 1, treatMissingData: 'notBreaching', alarmActions: [props.alarmTopicArn] };
    this.customerNotSubscribedAlarm = new CloudwatchMetricAlarm(this, 'customer-not-subscribed-alarm', {
      ...metric,
      alarmName: `${prefix}-marketplace-customer-not-subscribed`,
      alarmDescription: 'AWS Marketplace refused usage records because the customer is not subscribed (CustomerNotSubscribed): that usage is not billed. Check the tenant\'s subscription state in the tenant table and the metering function\'s logs.',
      metricName: METERING_METRICS.customerNotSubscribed,
      statistic: 'Sum',
      threshold: 0,
      comparisonOperator: 'GreaterThanThreshold',
    });
    this.rejectedRecordsAlarm = new CloudwatchMetricAlarm(this, 'rejected-records-alarm', {
      ...metric,
      alarmName: `${prefix}-marketplace-rejected-records`,
      alarmDescription: 'AWS Marketplace refused usage records on their own (timestamp out of bounds, unknown dimension, invalid licence…): they stay unsent. The metering function\'s logs ("usage hour held back", reason "rejected") name the tenant, dimension, hour and Marketplace\'s error.',
      metricName: METERING_METRICS.recordsRejected,
      statistic: 'Sum',
      threshold: 0,
      comparisonOperator: 'GreaterThanThreshold',
    });
    this.unsentUsageAlarm = new CloudwatchMetricAlarm(this, 'unsent-usage-alarm', {
      ...metric,
      alarmName: `${prefix}-marketplace-unsent-usage`,
      alarmDescription: 'A usage hour has been held back from AWS Marketplace for hours (see "usage hour held back" in the metering function\'s logs for the reason): Marketplace refuses records older than 6 hours, after which the usage is carried into a later record.',
      metricName: METERING_METRICS.oldestUnsentHourAge,
      statistic: 'Maximum',
      threshold: props.unsentUsageAlarmHours ?? 3,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
    });

    this.finalUsageFunction = this.createFinalUsageFunction();
    this.finalUsage = new FinalUsageQueue(this, 'final-usage', {
      namePrefix: prefix,
      eventBusName: this.eventBusName,
      handler: this.finalUsageFunction,
      handlerTimeoutSeconds: MARKETPLACE_SETTINGS.finalUsageTimeoutSeconds,
      alarmTopicArn: props.alarmTopicArn,
    });
    this.finalUsageErrorsAlarm = functionErrorsAlarm(this, 'final-usage-errors-alarm', {
      alarmName: `${prefix}-marketplace-final-usage-errors`,
      alarmDescription: 'The AWS Marketplace final-usage function failed (an unhandled error or a timeout): an unsubscribing buyer\'s last usage may be unsent. The message is received again (3 times, then dead-lettered); see the function\'s logs.',
      functionName: this.finalUsageFunction.functionName,
      periodSeconds: 300,
      alarmTopicArn: props.alarmTopicArn,
    });
  }

  /**
   * Adds the onboarding of new subscribers (see {@link MarketplaceOnboarding}): to the control plane's
   * onboarding API when a URL is configured, else to the built-in function that creates the tenant's
   * first user in the given user pool. Call it once, after the metered API (which owns the user pool).
   */
  addOnboarding(options: MarketplaceOnboardingOptions): MarketplaceOnboarding {
    if (this.onboarding) throw new Error('Marketplace: onboarding was added already');
    this.onboarding = new MarketplaceOnboarding(this, 'onboarding', {
      namePrefix: this.props.namePrefix,
      eventBusName: this.eventBusName,
      logRetentionDays: this.props.logRetentionDays,
      alarmTopicArn: this.props.alarmTopicArn,
      accountId: this.props.aws.accountId,
      ...options,
    });
    return this.onboarding;
  }

  /**
   * May read and write tenants (every operation of the tenant registry adapter: get, conditional put,
   * outbox update) and publish to the bus.
   */
  private lifecycleFunction(entry: string, description: string): BundledFunction {
    const fn = new BundledFunction(this, entry, {
      entry,
      functionName: `${this.props.namePrefix}-${entry}`,
      description,
      logRetentionDays: this.props.logRetentionDays,
      timeoutSeconds: MARKETPLACE_SETTINGS.notificationTimeoutSeconds,
      environment: { TENANT_TABLE: this.tenantTableName, EVENT_BUS_NAME: this.eventBusName },
      policyStatements: [
        { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], resources: [this.tenantTable.tableArn] },
        this.publishStatement(),
      ],
    });
    grantKmsKeyUse(fn, 'kms', fn.role.id, this.props.kmsKeyArn);
    return fn;
  }

  /**
   * The registration page: ResolveCustomer, registration sessions and tenants in the tenant table,
   * events to the bus. Public, so its concurrency is reserved (and capped).
   */
  private createRegistration(): BundledFunction {
    const fn = new BundledFunction(this, 'marketplace-registration', {
      entry: 'marketplace-registration',
      functionName: `${this.props.namePrefix}-marketplace-registration`,
      description: 'POST /marketplace/register: the AWS Marketplace registration (fulfilment) page',
      logRetentionDays: this.props.logRetentionDays,
      reservedConcurrentExecutions: this.props.registrationReservedConcurrency ?? 10,
      environment: {
        TENANT_TABLE: this.tenantTableName,
        EVENT_BUS_NAME: this.eventBusName,
        MARKETPLACE_REGION: MARKETPLACE_SETTINGS.marketplaceRegion,
      },
      policyStatements: [
        {
          actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
          resources: [this.tenantTable.tableArn],
        },
        this.publishStatement(),
        // ResolveCustomer supports no resource-level permissions: AWS requires Resource "*".
        { actions: ['aws-marketplace:ResolveCustomer'], resources: ['*'] },
      ],
    });
    grantKmsKeyUse(fn, 'kms', fn.role.id, this.props.kmsKeyArn);
    return fn;
  }

  /** The metering function: unsent usage hours of the usage table, tenants, BatchMeterUsage. */
  private createMeteringFunction(): BundledFunction {
    const { usageTable } = this.props;
    const fn = new BundledFunction(this, 'marketplace-metering', {
      entry: 'marketplace-metering',
      functionName: `${this.props.namePrefix}-marketplace-metering`,
      description: 'Hourly: sends the unsent usage hours to AWS Marketplace (BatchMeterUsage), exactly once',
      logRetentionDays: this.props.logRetentionDays,
      timeoutSeconds: MARKETPLACE_SETTINGS.meteringTimeoutSeconds,
      environment: {
        USAGE_TABLE: usageTable.tableName,
        TENANT_TABLE: this.tenantTableName,
        METRICS_NAMESPACE: METERING_METRICS.namespace,
      },
      policyStatements: [
        // Reads, marks pending and sent, and closes usage hours; clears settled carry markers.
        { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], resources: [usageTable.tableArn] },
        // Reads a series' history and pages through the pending-by-hour index.
        { actions: ['dynamodb:Query'], resources: [usageTable.tableArn, usageTable.indexesArn] },
        { actions: ['dynamodb:GetItem'], resources: [this.tenantTable.tableArn] },
        // BatchMeterUsage supports no resource-level permissions: AWS requires Resource "*".
        { actions: ['aws-marketplace:BatchMeterUsage'], resources: ['*'] },
      ],
    });
    grantKmsKeyUse(fn, 'kms', fn.role.id, this.props.kmsKeyArn);
    return fn;
  }

  /**
   * The final-usage function: the lake through Athena (as the aggregator reads it), the usage table
   * (records the tenant's last measurements and sends them as the metering function does), tenants,
   * BatchMeterUsage. Its queue's consume permissions are granted by {@link FinalUsageQueue}.
   */
  private createFinalUsageFunction(): BundledFunction {
    const { usageTable, lake } = this.props;
    const fn = new BundledFunction(this, 'marketplace-final-usage', {
      entry: 'marketplace-final-usage',
      functionName: `${this.props.namePrefix}-marketplace-final-usage`,
      description: 'AWS Marketplace Unsubscribe Pending: sends the tenant\'s usage not metered yet to AWS Marketplace (BatchMeterUsage)',
      logRetentionDays: this.props.logRetentionDays,
      timeoutSeconds: MARKETPLACE_SETTINGS.finalUsageTimeoutSeconds,
      memorySizeMb: MARKETPLACE_SETTINGS.finalUsageMemorySizeMb,
      environment: {
        USAGE_TABLE: usageTable.tableName,
        TENANT_TABLE: this.tenantTableName,
        ATHENA_WORKGROUP: lake.workGroupName,
        USAGE_DATABASE: lake.databaseName,
        METRICS_NAMESPACE: METERING_METRICS.namespace,
      },
      policyStatements: [
        // Athena on the workgroup, Glue and S3 reads of the lake, the query results.
        ...lake.queryStatements(),
        // Records the last usage hours, marks them pending and sent, closes them, clears carry markers.
        { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], resources: [usageTable.tableArn] },
        // Reads a series' history and pages through the pending-by-hour index.
        { actions: ['dynamodb:Query'], resources: [usageTable.tableArn, usageTable.indexesArn] },
        { actions: ['dynamodb:GetItem'], resources: [this.tenantTable.tableArn] },
        // BatchMeterUsage supports no resource-level permissions: AWS requires Resource "*".
        { actions: ['aws-marketplace:BatchMeterUsage'], resources: ['*'] },
      ],
    });
    // The lake's key (when configured) encrypts the lake, the query results and both tables.
    grantKmsKeyUse(fn, 'kms', fn.role.id, this.props.kmsKeyArn);
    lake.grantLakeFormation('final-usage-grants', fn.role.arn, ['DESCRIBE'], ['SELECT', 'DESCRIBE']);
    return fn;
  }

  private publishStatement(): PolicyStatement {
    return { actions: ['events:PutEvents'], resources: [this.eventBus.arn] };
  }
}

/** Minutes between the start of the hourly aggregation and the start of metering. */
export const METERING_DELAY_MINUTES = 5;

/**
 * The minute of the hour metering runs: {@link METERING_DELAY_MINUTES} after the aggregation, wrapping
 * past the hour (a Terraform expression when the aggregation minute is a variable).
 */
export function meteringMinuteAfter(aggregationMinute: number): number {
  return Token.asNumber(Op.mod(Op.add(aggregationMinute, METERING_DELAY_MINUTES), 60));
}
