import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { CloudBackend, Fn, LocalBackend, NamedCloudWorkspace, Op, TerraformOutput, TerraformStack, Token } from 'cdktf';
import { Construct } from 'constructs';
import { AlarmTopic } from '../alarms/alarm-topic';
import type { AppConfig } from '../app-config';
import { lookUpAwsEnvironment } from '../aws-environment';
import { CostAllocation } from '../cost-allocation/cost-allocation';
import { DATA_EXPORTS_REGION } from '../cost-allocation/cost-export';
import { Marketplace, meteringMinuteAfter } from '../marketplace/marketplace';
import { MeteredApi } from '../metered-api/metered-api';
import { UsageAggregation } from '../usage-aggregation/usage-aggregation';
import { UsageIngestion } from '../usage-ingestion/usage-ingestion';
import { UsageLake } from '../usage-lake/usage-lake';
import { StackVariables } from './stack-variables';

/**
 * The whole metering system as one Terraform stack: the metered API, the usage lake, the ingestion
 * path between them, the hourly usage aggregation, the AWS Marketplace integration (subscriptions,
 * registration page, metering, onboarding), the inputs and exports of tenant cost allocation (CUR 2.0
 * export, CloudZero telemetry, both off by default) and the alarm topic. Every operator setting is a
 * variable of this stack.
 */
export class MeteringStack extends TerraformStack {
  readonly variables: StackVariables;
  readonly api: MeteredApi;
  readonly lake: UsageLake;
  readonly ingestion: UsageIngestion;
  readonly alarms: AlarmTopic;
  readonly aggregation: UsageAggregation;
  readonly marketplace: Marketplace;
  readonly costAllocation: CostAllocation;

  constructor(scope: Construct, id: string, config: AppConfig) {
    super(scope, id);
    const vars = (this.variables = new StackVariables(this));

    if (config.backend.kind === 'cloud') {
      new CloudBackend(this, {
        hostname: config.backend.hostname,
        organization: config.backend.organization,
        workspaces: new NamedCloudWorkspace(config.backend.workspace),
      });
    } else {
      new LocalBackend(this, { path: `terraform.${id}.tfstate` });
    }

    // The operator's tags are a map variable: merge them in Terraform (a spread would lose them).
    const tags = Fn.merge([{ Project: 'saas-usage-metering', ManagedBy: 'cdktf', Stack: id }, vars.tags]);
    new AwsProvider(this, 'aws', {
      region: vars.region,
      defaultTags: [{ tags: tags as unknown as Record<string, string> }],
    });
    // AWS Data Exports (the CUR 2.0 export) exists only in us-east-1, whatever the stack's region.
    const usEast1 = new AwsProvider(this, 'aws-us-east-1', {
      alias: 'us_east_1',
      region: DATA_EXPORTS_REGION,
      defaultTags: [{ tags: tags as unknown as Record<string, string> }],
    });

    const aws = lookUpAwsEnvironment(this);

    this.lake = new UsageLake(this, 'usage-lake', {
      namePrefix: vars.namePrefix,
      aws,
      logRetentionDays: vars.logRetentionDays,
      kmsKeyArn: vars.lakeKmsKeyArn,
      failedRecordRetentionDays: vars.failedRecordRetentionDays,
      bytesScannedCutoffPerQuery: vars.athenaBytesScannedCutoff,
      lakeFormationEnabled: vars.lakeFormationEnabled,
      tableOptimizersEnabled: vars.tableOptimizersEnabled,
      dropTablesOnDestroy: vars.dropTablesOnDestroy,
    });

    this.alarms = new AlarmTopic(this, 'alarms', {
      namePrefix: vars.namePrefix,
      aws,
      email: vars.alarmEmail,
    });

    this.aggregation = new UsageAggregation(this, 'usage-aggregation', {
      namePrefix: vars.namePrefix,
      lake: this.lake,
      logRetentionDays: vars.logRetentionDays,
      // A record can wait in the stream's buffer, then in the transform's, before it reaches the table.
      ingestionDelaySeconds: Token.asNumber(Op.add(vars.firehoseBufferingIntervalSeconds, vars.transformBufferIntervalSeconds)),
      scheduleMinute: vars.aggregationScheduleMinute,
      tableDeletionProtection: vars.usageTableDeletionProtection,
      alarmTopicArn: this.alarms.topicArn,
    });

    this.marketplace = new Marketplace(this, 'marketplace', {
      namePrefix: vars.namePrefix,
      aws,
      logRetentionDays: vars.logRetentionDays,
      usageTable: this.aggregation.usageTable,
      lake: this.lake,
      kmsKeyArn: vars.lakeKmsKeyArn,
      tenantTableDeletionProtection: vars.tenantTableDeletionProtection,
      snsTopicArns: vars.marketplaceSnsTopicArns,
      // Metering sends what the aggregation wrote: it runs a few minutes after it, every hour.
      meteringScheduleMinute: meteringMinuteAfter(vars.aggregationScheduleMinute),
      unsentUsageAlarmHours: vars.unsentUsageAlarmHours,
      registrationReservedConcurrency: vars.registrationReservedConcurrency,
      alarmTopicArn: this.alarms.topicArn,
    });

    this.ingestion = new UsageIngestion(this, 'usage-ingestion', {
      namePrefix: vars.namePrefix,
      lake: this.lake,
      logRetentionDays: vars.logRetentionDays,
      bufferingIntervalSeconds: vars.firehoseBufferingIntervalSeconds,
      bufferingSizeMb: vars.firehoseBufferingSizeMb,
      transformBufferSizeMb: vars.transformBufferSizeMb,
      transformBufferIntervalSeconds: vars.transformBufferIntervalSeconds,
    });

    this.api = new MeteredApi(this, 'metered-api', {
      namePrefix: vars.namePrefix,
      stageName: vars.stageName,
      accessLogDestinationArn: this.ingestion.deliveryStreamArn,
      logRetentionDays: vars.logRetentionDays,
      throttleRateLimit: vars.apiThrottleRateLimit,
      throttleBurstLimit: vars.apiThrottleBurstLimit,
      userPoolDeletionProtection: vars.userPoolDeletionProtection,
      // The buyer has no account yet when AWS Marketplace sends them to the registration page.
      publicRoutes: [this.marketplace.registrationRoute],
      tenantRoutes: [this.ingestion.tenantUsageRoute],
      iamRoutes: [this.ingestion.backendUsageRoute],
    });

    this.costAllocation = new CostAllocation(this, 'cost-allocation', {
      namePrefix: vars.namePrefix,
      aws,
      lake: this.lake,
      lakeFormationEnabled: vars.lakeFormationEnabled,
      logRetentionDays: vars.logRetentionDays,
      alarmTopicArn: this.alarms.topicArn,
      cloudZeroExportEnabled: vars.cloudZeroExportEnabled,
      cloudZeroApiUrl: vars.cloudZeroApiUrl,
      telemetryStreamPrefix: vars.telemetryStreamPrefix,
      // The functions that write tenant metrics (EMF): the tenant-facing ones (invocations, duration)
      // and those that spend DynamoDB capacity on tenants' items.
      consumptionLogGroups: [this.api.randomStrings, this.ingestion.usageEvents, this.aggregation.aggregator, this.marketplace.meteringFunction]
        .map((fn) => ({ name: fn.logGroup.name, arn: fn.logGroup.arn })),
      costExportEnabled: vars.costExportEnabled,
      usEast1Provider: usEast1,
    });

    this.marketplace.addOnboarding({
      userPoolId: this.api.userPool.userPoolId,
      userPoolArn: this.api.userPool.userPoolArn,
      onboardingUrl: vars.onboardingUrl,
      onboardingApiKey: vars.onboardingApiKey,
    });

    new TerraformOutput(this, 'UserPoolId', { value: this.api.userPool.userPoolId, description: 'Cognito user pool of the tenant users' });
    new TerraformOutput(this, 'UserPoolClientId', { value: this.api.userPool.clientId, description: 'App client id for sign-in (no secret)' });
    new TerraformOutput(this, 'RestApiEndpoint', { value: this.api.endpointUrl, description: 'Invoke URL of the metered API stage' });
    new TerraformOutput(this, 'AccessLogDeliveryStream', { value: this.ingestion.deliveryStream.name, description: 'Firehose stream receiving the access logs' });
    new TerraformOutput(this, 'UsageEventsUrl', { value: this.api.routeUrl(this.ingestion.tenantUsageRoute.pathParts), description: 'POST usage events here with a tenant user\'s ID token' });
    new TerraformOutput(this, 'BackendUsageEventsUrl', { value: this.api.routeUrl(this.ingestion.backendUsageRoute.pathParts), description: 'POST usage events here from a backend, SigV4-signed (execute-api), naming each event\'s tenant' });
    new TerraformOutput(this, 'BackendCallerPolicyArn', { value: this.api.backendCallerPolicyArn, description: 'Managed policy to attach to a backend role that reports usage through BackendUsageEventsUrl' });
    new TerraformOutput(this, 'LakeBucket', { value: this.lake.bucket.bucketName, description: 'S3 bucket of the usage lake' });
    new TerraformOutput(this, 'UsageDatabase', { value: this.lake.databaseName, description: 'Glue database of the usage tables' });
    new TerraformOutput(this, 'AthenaWorkGroup', { value: this.lake.workGroupName, description: 'Athena workgroup for usage queries' });
    new TerraformOutput(this, 'UsageTable', { value: this.aggregation.tableName, description: 'DynamoDB table of the hourly usage per tenant and dimension' });
    new TerraformOutput(this, 'TenantTable', { value: this.marketplace.tenantTableName, description: 'DynamoDB table of the AWS Marketplace tenants (registry and registration sessions)' });
    new TerraformOutput(this, 'MarketplaceEventBus', { value: this.marketplace.eventBusName, description: 'EventBridge bus of the subscription lifecycle events for the control plane (New AWS Marketplace Subscriber, …)' });
    new TerraformOutput(this, 'MarketplaceRegistrationUrl', { value: this.api.routeUrl(this.marketplace.registrationRoute.pathParts), description: 'Fulfilment URL to enter in the AWS Marketplace listing: the registration page' });
    new TerraformOutput(this, 'MarketplaceSubscriptionQueueUrl', { value: this.marketplace.subscriptionQueueUrl, description: 'SQS queue receiving the legacy AWS Marketplace SNS notifications' });
    new TerraformOutput(this, 'CloudZeroApiKeySecretArn', { value: this.costAllocation.apiKeySecretArn, description: 'Secrets Manager secret to put the CloudZero API key in (cloudzero_export_enabled); empty when the export is disabled' });
    new TerraformOutput(this, 'CostExportArn', { value: this.costAllocation.costExportArn, description: 'The CUR 2.0 data export, in us-east-1 (cost_export_enabled); empty when disabled' });
    new TerraformOutput(this, 'CostTable', { value: this.costAllocation.curTableName, description: 'Athena table of the CUR 2.0 export in the usage database (cost_export_enabled); empty when disabled' });
    new TerraformOutput(this, 'AlarmTopicArn', { value: this.alarms.topicArn, description: 'SNS topic the alarms notify (subscribe to it, or set alarm_email)' });
  }
}
