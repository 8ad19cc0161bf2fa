import { TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import { CLOUDZERO_API_URL } from '../../core/cost/cloudzero-telemetry';

/** CloudWatch Logs accepts only these retention periods (days). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/**
 * Everything an operator sets, as Terraform variables declared on the stack (so their names stay plain)
 * with a description, a default and validation. `terraform.tfvars.example` lists each one; a test keeps
 * the two in step.
 */
export class StackVariables {
  readonly region: string;
  readonly namePrefix: string;
  readonly tags: Record<string, string>;
  readonly stageName: string;
  readonly logRetentionDays: number;
  readonly apiThrottleRateLimit: number;
  readonly apiThrottleBurstLimit: number;
  readonly userPoolDeletionProtection: string;
  readonly lakeKmsKeyArn: string;
  readonly failedRecordRetentionDays: number;
  readonly athenaBytesScannedCutoff: number;
  readonly lakeFormationEnabled: boolean;
  readonly tableOptimizersEnabled: boolean;
  readonly dropTablesOnDestroy: boolean;
  readonly firehoseBufferingIntervalSeconds: number;
  readonly firehoseBufferingSizeMb: number;
  readonly transformBufferSizeMb: number;
  readonly transformBufferIntervalSeconds: number;
  readonly usageTableDeletionProtection: boolean;
  readonly aggregationScheduleMinute: number;
  readonly alarmEmail: string;
  readonly tenantTableDeletionProtection: boolean;
  readonly marketplaceSnsTopicArns: string[];
  readonly onboardingUrl: string;
  readonly onboardingApiKey: string;
  readonly unsentUsageAlarmHours: number;
  readonly registrationReservedConcurrency: number;
  readonly cloudZeroExportEnabled: boolean;
  readonly cloudZeroApiUrl: string;
  readonly telemetryStreamPrefix: string;
  readonly costExportEnabled: boolean;

  constructor(scope: Construct) {
    this.region = new TerraformVariable(scope, 'region', {
      type: 'string',
      default: 'us-east-1',
      description: 'AWS region to deploy into. AWS Marketplace runs SaaS metering and its notifications in us-east-1: its EventBridge agreement events reach only a stack deployed there (the SNS notifications and the metering calls work from any region).',
    }).stringValue;

    this.namePrefix = new TerraformVariable(scope, 'name_prefix', {
      type: 'string',
      default: 'saas-metering',
      description: 'Prefix of every resource name: lowercase letters, digits and dashes, 3 to 24 characters, starting with a letter.',
      validation: [{
        condition: '${can(regex("^[a-z][a-z0-9-]{2,23}$", var.name_prefix))}',
        errorMessage: 'name_prefix must be 3 to 24 lowercase letters, digits or dashes, starting with a letter.',
      }],
    }).stringValue;

    this.tags = new TerraformVariable(scope, 'tags', {
      type: 'map(string)',
      default: {},
      description: 'Tags added to every resource (provider default tags), besides Project and ManagedBy.',
    }).value as Record<string, string>;

    this.stageName = new TerraformVariable(scope, 'stage_name', {
      type: 'string',
      default: 'prod',
      description: 'API Gateway stage name of the metered API (part of its URL).',
      validation: [{
        condition: '${can(regex("^[A-Za-z0-9_-]{1,64}$", var.stage_name))}',
        errorMessage: 'stage_name may hold only letters, digits, "-" and "_" (1 to 64).',
      }],
    }).stringValue;

    this.logRetentionDays = new TerraformVariable(scope, 'log_retention_days', {
      type: 'number',
      default: 30,
      description: 'Days to keep CloudWatch logs of every function and service.',
      validation: [{
        condition: `\${contains([${LOG_RETENTION_DAYS.join(', ')}], var.log_retention_days)}`,
        errorMessage: `log_retention_days must be one of the periods CloudWatch Logs accepts: ${LOG_RETENTION_DAYS.join(', ')}.`,
      }],
    }).numberValue;

    this.apiThrottleRateLimit = new TerraformVariable(scope, 'api_throttle_rate_limit', {
      type: 'number',
      default: 100,
      description: 'Steady-state requests per second the metered API stage accepts across its methods.',
      validation: [{ condition: '${var.api_throttle_rate_limit > 0}', errorMessage: 'api_throttle_rate_limit must be positive.' }],
    }).numberValue;

    this.apiThrottleBurstLimit = new TerraformVariable(scope, 'api_throttle_burst_limit', {
      type: 'number',
      default: 200,
      description: 'Requests the metered API stage accepts in a burst above the steady rate.',
      validation: [{ condition: '${var.api_throttle_burst_limit > 0 && floor(var.api_throttle_burst_limit) == var.api_throttle_burst_limit}', errorMessage: 'api_throttle_burst_limit must be a positive whole number.' }],
    }).numberValue;

    this.userPoolDeletionProtection = new TerraformVariable(scope, 'user_pool_deletion_protection', {
      type: 'string',
      default: 'ACTIVE',
      description: 'ACTIVE refuses to delete the Cognito user pool (it holds every tenant user); INACTIVE allows terraform destroy to remove it.',
      validation: [{
        condition: '${contains(["ACTIVE", "INACTIVE"], var.user_pool_deletion_protection)}',
        errorMessage: 'user_pool_deletion_protection must be ACTIVE or INACTIVE.',
      }],
    }).stringValue;

    this.lakeKmsKeyArn = new TerraformVariable(scope, 'lake_kms_key_arn', {
      type: 'string',
      default: '',
      description: 'ARN of a customer-managed KMS key for the usage lake bucket, Athena results, the usage table, the tenant table and the CloudZero API key secret; empty for S3-managed keys (SSE-S3), the DynamoDB AWS-owned key and the Secrets Manager AWS managed key.',
      validation: [{
        condition: '${var.lake_kms_key_arn == "" || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.lake_kms_key_arn))}',
        errorMessage: 'lake_kms_key_arn must be empty or a KMS key ARN.',
      }],
    }).stringValue;

    this.failedRecordRetentionDays = new TerraformVariable(scope, 'failed_record_retention_days', {
      type: 'number',
      default: 30,
      description: 'Days to keep records that failed validation or delivery (under errors/ in the lake bucket) for inspection and replay.',
      validation: [{ condition: '${var.failed_record_retention_days >= 1}', errorMessage: 'failed_record_retention_days must be at least 1.' }],
    }).numberValue;

    this.athenaBytesScannedCutoff = new TerraformVariable(scope, 'athena_bytes_scanned_cutoff', {
      type: 'number',
      default: 10737418240,
      description: 'Largest number of bytes one Athena query in the usage workgroup may scan before Athena cancels it (default 10 GiB; at least 10 MB).',
      validation: [{ condition: '${var.athena_bytes_scanned_cutoff >= 10485760}', errorMessage: 'athena_bytes_scanned_cutoff must be at least 10485760 (10 MB).' }],
    }).numberValue;

    this.lakeFormationEnabled = new TerraformVariable(scope, 'lake_formation_enabled', {
      type: 'bool',
      default: false,
      description: 'Set to true when the Glue Data Catalog is governed by Lake Formation: the stack then grants its roles Lake Formation permissions on the usage database.',
    }).booleanValue as unknown as boolean;

    this.tableOptimizersEnabled = new TerraformVariable(scope, 'table_optimizers_enabled', {
      type: 'bool',
      default: true,
      description: 'Run the Glue table optimizers on the usage tables: compaction of small files, snapshot retention and orphan-file deletion.',
    }).booleanValue as unknown as boolean;

    this.dropTablesOnDestroy = new TerraformVariable(scope, 'drop_tables_on_destroy', {
      type: 'bool',
      default: false,
      description: 'Drop the usage tables when the stack is destroyed. For Iceberg tables Athena DROP TABLE also deletes the table data: leave false unless the usage history may be lost.',
    }).booleanValue as unknown as boolean;

    this.firehoseBufferingIntervalSeconds = new TerraformVariable(scope, 'firehose_buffering_interval_seconds', {
      type: 'number',
      default: 60,
      description: 'Seconds Firehose buffers records before writing them to the Iceberg table (0 to 900): lower means fresher data and more, smaller files.',
      validation: [{ condition: '${var.firehose_buffering_interval_seconds >= 0 && var.firehose_buffering_interval_seconds <= 900}', errorMessage: 'firehose_buffering_interval_seconds must be from 0 to 900.' }],
    }).numberValue;

    this.firehoseBufferingSizeMb = new TerraformVariable(scope, 'firehose_buffering_size_mb', {
      type: 'number',
      default: 128,
      description: 'MiB Firehose buffers before writing to the Iceberg table (1 to 128).',
      validation: [{ condition: '${var.firehose_buffering_size_mb >= 1 && var.firehose_buffering_size_mb <= 128}', errorMessage: 'firehose_buffering_size_mb must be from 1 to 128.' }],
    }).numberValue;

    this.transformBufferSizeMb = new TerraformVariable(scope, 'transform_buffer_size_mb', {
      type: 'number',
      default: 2,
      description: 'MiB of records handed to the transform function per invocation (0.2 to 2). Normalised records can be up to about 2.6 times their input size, so 2 MiB keeps every response within the 6 MB Lambda limit.',
      validation: [{ condition: '${var.transform_buffer_size_mb >= 0.2 && var.transform_buffer_size_mb <= 2}', errorMessage: 'transform_buffer_size_mb must be from 0.2 to 2 (larger batches can exceed the 6 MB Lambda response limit).' }],
    }).numberValue;

    this.transformBufferIntervalSeconds = new TerraformVariable(scope, 'transform_buffer_interval_seconds', {
      type: 'number',
      default: 60,
      description: 'Seconds Firehose waits to fill a transform batch (0 to 900).',
      validation: [{ condition: '${var.transform_buffer_interval_seconds >= 0 && var.transform_buffer_interval_seconds <= 900}', errorMessage: 'transform_buffer_interval_seconds must be from 0 to 900.' }],
    }).numberValue;

    this.usageTableDeletionProtection = new TerraformVariable(scope, 'usage_table_deletion_protection', {
      type: 'bool',
      default: true,
      description: 'Refuse to delete the DynamoDB usage table (it holds the hourly usage that is billed); set to false before a terraform destroy that should remove it.',
    }).booleanValue as unknown as boolean;

    this.aggregationScheduleMinute = new TerraformVariable(scope, 'aggregation_schedule_minute', {
      type: 'number',
      default: 10,
      description: 'Minute past every hour (0 to 59, UTC) at which the hourly usage aggregation runs. Leave the lake a few minutes after the hour for late records (Firehose buffering).',
      validation: [{
        condition: '${var.aggregation_schedule_minute >= 0 && var.aggregation_schedule_minute <= 59 && floor(var.aggregation_schedule_minute) == var.aggregation_schedule_minute}',
        errorMessage: 'aggregation_schedule_minute must be a whole number from 0 to 59.',
      }],
    }).numberValue;

    this.alarmEmail = new TerraformVariable(scope, 'alarm_email', {
      type: 'string',
      default: '',
      description: 'Email address subscribed to the alarm topic (AWS asks it to confirm first); empty for no subscription.',
      validation: [{
        condition: '${var.alarm_email == "" || can(regex("^[^@[:space:]]+@[^@[:space:]]+[.][^@[:space:]]+$", var.alarm_email))}',
        errorMessage: 'alarm_email must be empty or an email address.',
      }],
    }).stringValue;

    this.tenantTableDeletionProtection = new TerraformVariable(scope, 'tenant_table_deletion_protection', {
      type: 'bool',
      default: true,
      description: 'Refuse to delete the DynamoDB tenant table (every AWS Marketplace customer, its identity for metering and its contact details); set to false before a terraform destroy that should remove it.',
    }).booleanValue as unknown as boolean;

    this.marketplaceSnsTopicArns = new TerraformVariable(scope, 'marketplace_sns_topic_arns', {
      type: 'list(string)',
      default: [],
      description: 'SNS topics of the legacy AWS Marketplace subscription notifications to subscribe the notification queue to: for a SaaS listing, arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-<productCode> and, for a contract listing, arn:aws:sns:us-east-1:287250355862:aws-mp-entitlement-notification-<productCode> (the ARNs the AWS Marketplace Management Portal shows for the product). Only these topics may send to the queue. Empty: no SNS subscription (EventBridge agreement events only).',
      validation: [{
        condition: '${alltrue([for arn in var.marketplace_sns_topic_arns : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", arn))])}',
        errorMessage: 'marketplace_sns_topic_arns must hold SNS topic ARNs only (arn:aws:sns:<region>:<account>:<topic>).',
      }],
    }).listValue;

    this.onboardingUrl = new TerraformVariable(scope, 'onboarding_url', {
      type: 'string',
      default: '',
      description: 'HTTPS endpoint of your control plane\'s onboarding API: every "New AWS Marketplace Subscriber" event is POSTed to it (EventBridge API destination, header x-api-key: onboarding_api_key) as {tenantName, tenantEmail, tenantPhone, customerId, tenantTier}. Empty: the built-in tenant-onboarding function creates the first user of the tenant in the Cognito user pool instead.',
      validation: [{
        condition: '${var.onboarding_url == "" || can(regex("^https://[^[:space:]]+$", var.onboarding_url))}',
        errorMessage: 'onboarding_url must be empty or an https:// URL.',
      }],
    }).stringValue;

    this.onboardingApiKey = new TerraformVariable(scope, 'onboarding_api_key', {
      type: 'string',
      default: '',
      sensitive: true,
      description: 'API key sent as the x-api-key header to onboarding_url (required when onboarding_url is set; EventBridge keeps it in a Secrets Manager secret of the connection). Set it outside version control: TF_VAR_onboarding_api_key or a sensitive workspace variable.',
    }).stringValue;

    this.unsentUsageAlarmHours = new TerraformVariable(scope, 'unsent_usage_alarm_hours', {
      type: 'number',
      default: 3,
      description: 'Alarm when a usage hour still unsent to AWS Marketplace is this many hours old (1 to 5): Marketplace refuses records older than 6 hours, and metering sends the last 5 hours only.',
      validation: [{
        condition: '${var.unsent_usage_alarm_hours >= 1 && var.unsent_usage_alarm_hours <= 5 && floor(var.unsent_usage_alarm_hours) == var.unsent_usage_alarm_hours}',
        errorMessage: 'unsent_usage_alarm_hours must be a whole number from 1 to 5.',
      }],
    }).numberValue;

    this.registrationReservedConcurrency = new TerraformVariable(scope, 'registration_reserved_concurrency', {
      type: 'number',
      default: 10,
      description: 'Concurrent executions reserved for (and limiting) the public AWS Marketplace registration page function, so that a flood of requests cannot take the account\'s concurrency: 1 to 1000, or -1 for no reservation (for accounts whose concurrency quota is too small to reserve any).',
      validation: [{
        condition: '${var.registration_reserved_concurrency == -1 || (var.registration_reserved_concurrency >= 1 && var.registration_reserved_concurrency <= 1000 && floor(var.registration_reserved_concurrency) == var.registration_reserved_concurrency)}',
        errorMessage: 'registration_reserved_concurrency must be -1 or a whole number from 1 to 1000.',
      }],
    }).numberValue;

    this.cloudZeroExportEnabled = new TerraformVariable(scope, 'cloudzero_export_enabled', {
      type: 'bool',
      default: false,
      description: 'Export each day\'s tenant consumption to CloudZero as allocation telemetry (the cost-telemetry-export function, daily at 02:30 UTC). Creates the Secrets Manager secret <name_prefix>/cloudzero-api-key without a value: put the CloudZero API key in it after the deploy.',
    }).booleanValue as unknown as boolean;

    this.cloudZeroApiUrl = new TerraformVariable(scope, 'cloudzero_api_url', {
      type: 'string',
      default: CLOUDZERO_API_URL,
      description: 'Base URL of the CloudZero API the telemetry export sends to.',
      validation: [{
        condition: '${can(regex("^https://[^[:space:]/]+(/[^[:space:]]*)?$", var.cloudzero_api_url))}',
        errorMessage: 'cloudzero_api_url must be an https:// URL.',
      }],
    }).stringValue;

    this.telemetryStreamPrefix = new TerraformVariable(scope, 'telemetry_stream_prefix', {
      type: 'string',
      default: 'saas-metering',
      description: 'Prefix of the CloudZero telemetry stream names (<prefix>.api_requests, …): letters, digits, "_", "." or "-", at most 200; empty for the bare stream names. Stacks that send to the same CloudZero organization need different prefixes.',
      validation: [{
        condition: '${can(regex("^[A-Za-z0-9_.-]{0,200}$", var.telemetry_stream_prefix))}',
        errorMessage: 'telemetry_stream_prefix may hold only letters, digits, "_", "." and "-" (at most 200).',
      }],
    }).stringValue;

    this.costExportEnabled = new TerraformVariable(scope, 'cost_export_enabled', {
      type: 'bool',
      default: false,
      description: 'Create the AWS Cost and Usage Report (CUR 2.0 data export, daily, per resource, Parquet) into a bucket of its own, and the Athena table cur2_cost_and_usage over it in the usage database. The export is created in us-east-1 (the only region of AWS Data Exports) whatever the stack\'s region; the deploying principal needs the Data Exports permissions (bcm-data-exports:CreateExport, GetExport, UpdateExport, DeleteExport).',
    }).booleanValue as unknown as boolean;
  }
}
