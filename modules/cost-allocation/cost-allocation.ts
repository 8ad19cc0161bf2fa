import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
import { Fn, type TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { CLOUDZERO_API_URL } from '../../core/cost/cloudzero-telemetry';
import type { AwsEnvironment } from '../aws-environment';
import { BundledFunction } from '../bundled-function/bundled-function';
import type { PolicyStatement } from '../iam/policy-statement';
import { onlyInstance } from '../marketplace/terraform-references';
import { DAILY_SCHEDULE_DEFAULTS, ScheduledFunction } from '../scheduling/hourly-scheduled-function';
import { isNonEmpty } from '../terraform-expressions';
import { LakeFormationGrants } from '../usage-lake/lake-formation-grants';
import type { UsageLake } from '../usage-lake/usage-lake';
import { CostExport } from './cost-export';
import { CUR_TABLE, CurTable } from './cur-table';
import { bothTrue, countWhen, grantWhen, whenEnabled } from './feature-switch';

/** A CloudWatch log group whose EMF tenant metrics count as tenant consumption. */
export interface ConsumptionLogGroup {
  readonly name: string;
  readonly arn: string;
}

export interface CostAllocationProps {
  /** Prefix of every resource name (may be a Terraform variable). */
  readonly namePrefix: string;
  /** Account, region and partition of the stack. */
  readonly aws: AwsEnvironment;
  /** The usage lake: the export function queries it, and the CUR table joins its database. */
  readonly lake: UsageLake;
  /** Whether the Glue catalog is governed by Lake Formation (may be a Terraform variable). */
  readonly lakeFormationEnabled: boolean;
  /** Days to keep the export function's logs. */
  readonly logRetentionDays: number;
  /** SNS topic the alarms notify. */
  readonly alarmTopicArn: string;
  /**
   * Export tenant consumption to CloudZero every day: the API key secret, the schedule with its
   * dead-letter queue and alarms, and the function's permissions (may be a Terraform variable).
   * @default false
   */
  readonly cloudZeroExportEnabled?: boolean;
  /** CloudZero API base URL. @default https://api.cloudzero.com */
  readonly cloudZeroApiUrl?: string;
  /** Prefix of the CloudZero telemetry stream names, `<prefix>.<stream>`; empty for bare names. @default 'saas-metering' */
  readonly telemetryStreamPrefix?: string;
  /** When the export runs (EventBridge Scheduler expression, UTC). @default {@link CLOUDZERO_EXPORT_SCHEDULE} */
  readonly cloudZeroSchedule?: string;
  /**
   * Log groups of the functions that write tenant metrics (EMF, functions/commons/tenant-metrics.ts),
   * which the export sums with Logs Insights. Every bundled function writes them under the same
   * namespace (`POWERTOOLS_METRICS_NAMESPACE`), the export function included, so it reads that one.
   */
  readonly consumptionLogGroups: readonly ConsumptionLogGroup[];
  /**
   * Create the CUR 2.0 data export, its bucket and the Athena table over it (may be a Terraform
   * variable). @default false
   */
  readonly costExportEnabled?: boolean;
  /** An AWS provider configured for us-east-1: Data Exports exists only there. */
  readonly usEast1Provider: TerraformProvider;
}

/**
 * 02:30 UTC every day: the previous day is closed in the lake by then (Firehose buffers for minutes),
 * and the run keeps clear of the hourly jobs (by default at minutes 10 and 15).
 */
export const CLOUDZERO_EXPORT_SCHEDULE = 'cron(30 2 * * ? *)';

/** Fixed settings of the export function. */
export const COST_TELEMETRY_EXPORT_SETTINGS = {
  /** Logs Insights and Athena queries of a day, then a few requests to CloudZero. */
  timeoutSeconds: 600,
  memorySizeMb: 512,
} as const;

/** Where each input of tenant cost allocation comes from in AWS, and where the CloudZero export goes. */
export class CostAllocation extends Construct {
  /** The CloudZero API key (the operator sets its value). */
  readonly apiKeySecret: SecretsmanagerSecret;
  /** ARN of the API key secret; empty when the CloudZero export is disabled. */
  readonly apiKeySecretArn: string;
  /** The `cost-telemetry-export` function (it exists either way; idle and without permissions when disabled). */
  readonly exportFunction: BundledFunction;
  /** Its daily schedule, dead-letter queue and alarms. */
  readonly daily: ScheduledFunction;
  /** The CUR 2.0 export and its bucket. */
  readonly costExport: CostExport;
  /** ARN of the CUR 2.0 export; empty when the cost export is disabled. */
  readonly costExportArn: string;
  readonly curTable: CurTable;
  /** Name of the CUR table in the usage database; empty when the cost export is disabled. */
  readonly curTableName: string;
  private readonly props: CostAllocationProps;

  constructor(scope: Construct, id: string, props: CostAllocationProps) {
    super(scope, id);
    if (props.consumptionLogGroups.length === 0) {
      throw new Error('CostAllocation: consumptionLogGroups must name at least one log group (the tenant-facing functions\' logs)');
    }
    this.props = props;
    const cloudZero = props.cloudZeroExportEnabled ?? false;
    const costExport = props.costExportEnabled ?? false;

    this.apiKeySecret = this.createApiKeySecret(props, cloudZero);
    this.apiKeySecretArn = whenEnabled(cloudZero, onlyInstance(this.apiKeySecret, 'arn'), '');
    this.exportFunction = this.createExportFunction(props, cloudZero);
    this.daily = new ScheduledFunction(this, 'daily', {
      count: countWhen(cloudZero),
      name: `${props.namePrefix}-cost-telemetry-export`,
      scheduleGroupName: `${props.namePrefix}-cost`,
      roleNamePrefix: 'scheduler-cost-',
      function: this.exportFunction,
      description: 'Every day: export the previous UTC day\'s tenant consumption to CloudZero',
      scheduleExpression: props.cloudZeroSchedule ?? CLOUDZERO_EXPORT_SCHEDULE,
      cadence: 'every day',
      accountId: props.aws.accountId,
      alarmTopicArn: props.alarmTopicArn,
      deadLetterAlarmDescription: 'A daily CloudZero telemetry export could not be invoked or failed after its retries: its event is in the dead-letter queue. Fix the cause (the log names it: often the API key secret), then invoke the function with {"day": "YYYY-MM-DD"} for the missed day.',
      errorsAlarmName: `${props.namePrefix}-cost-telemetry-export-errors`,
      errorsAlarmDescription: 'The CloudZero telemetry export failed at least once in the last hour (Lambda retries a failed run twice).',
      settings: DAILY_SCHEDULE_DEFAULTS,
      // The first run reads the access-log table (the lake's share of consumption).
      scheduleDependsOn: [props.lake.accessLogTableReady],
    });

    this.costExport = new CostExport(this, 'cost-export', {
      count: countWhen(costExport),
      namePrefix: props.namePrefix,
      aws: props.aws,
      usEast1Provider: props.usEast1Provider,
    });
    this.costExportArn = whenEnabled(costExport, this.costExport.exportArn, '');
    this.curTable = new CurTable(this, 'cur-table', {
      count: countWhen(costExport),
      databaseName: props.lake.databaseName,
      dataLocation: this.costExport.dataLocation,
    });
    this.curTableName = whenEnabled(costExport, CUR_TABLE, '');
  }

  /**
   * Statements that let a role query the CUR table through the lake's workgroup (cost allocation run
   * by an operator or a job): the lake's query statements plus reads of the export's files. Valid only
   * where the cost export is enabled; grant the lake's KMS key besides when one is configured.
   */
  costQueryStatements(): PolicyStatement[] {
    return [...this.props.lake.queryStatements(), ...this.costExport.readStatements()];
  }

  /** The secret the operator puts the CloudZero API key in; encrypted with the lake's key when one is set. */
  private createApiKeySecret(props: CostAllocationProps, enabled: boolean): SecretsmanagerSecret {
    const kmsKeyArn = props.lake.kmsKeyArn;
    return new SecretsmanagerSecret(this, 'cloudzero-api-key', {
      count: countWhen(enabled),
      name: `${props.namePrefix}/cloudzero-api-key`,
      description: 'CloudZero API key of the daily telemetry export (scope unit-cost_v1:manage_telemetry_records): the key itself, or {"apiKey": "…"}. Set its value after the deploy.',
      kmsKeyId: Fn.conditional(isNonEmpty(kmsKeyArn), kmsKeyArn, null as unknown as string),
      // A disabled and re-enabled export recreates the secret under the same name: keep the window short.
      recoveryWindowInDays: 7,
    });
  }

  /**
   * The export function, allowed exactly what it calls once enabled: the API key secret, Logs Insights
   * on the consumption log groups, Athena queries of the lake, the lake's key. Disabled, it may only
   * write its logs and nothing invokes it.
   */
  private createExportFunction(props: CostAllocationProps, enabled: boolean): BundledFunction {
    const { lake } = props;
    const fn = new BundledFunction(this, 'cost-telemetry-export', {
      entry: 'cost-telemetry-export',
      functionName: `${props.namePrefix}-cost-telemetry-export`,
      description: 'Daily: exports the previous UTC day\'s tenant consumption (usage lake, tenant metrics) to CloudZero as allocation telemetry',
      logRetentionDays: props.logRetentionDays,
      timeoutSeconds: COST_TELEMETRY_EXPORT_SETTINGS.timeoutSeconds,
      memorySizeMb: COST_TELEMETRY_EXPORT_SETTINGS.memorySizeMb,
      environment: {
        CLOUDZERO_SECRET_ARN: this.apiKeySecretArn,
        CLOUDZERO_API_URL: props.cloudZeroApiUrl ?? CLOUDZERO_API_URL,
        TELEMETRY_STREAM_PREFIX: props.telemetryStreamPrefix ?? 'saas-metering',
        ATHENA_WORKGROUP: lake.workGroupName,
        USAGE_DATABASE: lake.databaseName,
        CONSUMPTION_LOG_GROUPS: props.consumptionLogGroups.map((group) => group.name).join(','),
      },
    });
    const count = countWhen(enabled);
    const roleId = fn.role.id;
    grantWhen(fn, 'cloudzero-api-key', roleId, count, [
      { actions: ['secretsmanager:GetSecretValue'], resources: [onlyInstance(this.apiKeySecret, 'arn')] },
    ]);
    grantWhen(fn, 'consumption-logs', roleId, count, consumptionLogStatements(props.consumptionLogGroups));
    // Athena on the workgroup, Glue and S3 reads of the lake, the query results.
    grantWhen(fn, 'lake-queries', roleId, count, lake.queryStatements());
    // The lake's key (when configured) encrypts the lake, the query results and the secret.
    grantWhen(fn, 'kms', roleId, countWhen(bothTrue(enabled, isNonEmpty(lake.kmsKeyArn) as unknown as boolean)), [
      { actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [lake.kmsKeyArn] },
    ]);
    new LakeFormationGrants(this, 'export-grants', {
      enabled: bothTrue(enabled, props.lakeFormationEnabled),
      principalArn: fn.role.arn,
      databaseName: lake.databaseName,
      databasePermissions: ['DESCRIBE'],
      tablePermissions: ['SELECT', 'DESCRIBE'],
    });
    return fn;
  }
}

/**
 * Logs Insights on the consumption log groups. `logs:StartQuery` names the log groups it reads (the
 * log-group resource type, given with and without the `:*` suffix IAM matches for log groups);
 * `logs:GetQueryResults` and `logs:StopQuery` take only a query id and support no resource type, so
 * IAM accepts them only on "*" (Service Authorization Reference, Amazon CloudWatch Logs).
 */
export function consumptionLogStatements(groups: readonly ConsumptionLogGroup[]): PolicyStatement[] {
  return [
    { actions: ['logs:StartQuery'], resources: groups.flatMap((group) => [group.arn, `${group.arn}:*`]) },
    { actions: ['logs:GetQueryResults', 'logs:StopQuery'], resources: ['*'] },
  ];
}
