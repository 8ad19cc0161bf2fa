/**
 * Tenant cost allocation in the synthesized stack: the CloudZero export (secret, function, daily
 * schedule with its failure path), the CUR 2.0 export (bucket, bucket policy, export in us-east-1) and
 * the CUR table, each switched by its variable. The switches are evaluated by the real Terraform CLI
 * (offline: only variables and outputs are planned), so "nothing is created when disabled" is checked
 * on the expressions Terraform will compute, not on their text.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { renderSqlTemplate } from '../../core/lake/sql-template';
import { CLOUDZERO_API_URL } from '../../core/cost/cloudzero-telemetry';
import { TENANT_METRICS_NAMESPACE } from '../../modules/bundled-function/bundled-function';
import { CLOUDZERO_EXPORT_SCHEDULE } from '../../modules/cost-allocation/cost-allocation';
import { CUR_COLUMNS, CUR_PARTITION_KEY, CUR_TABLE, curExportQuery } from '../../modules/cost-allocation/cur-table';
import { PROJECT_ROOT } from '../../modules/project-paths';
import { readSqlFile } from '../../sql/sql-files';
import { documentStatements, ref, resourceNamed, resourcesOfType, synthStack } from '../support/synth';
import { terraform } from '../support/terraform-cli';

const { parsed: stack } = synthStack();

type Statement = { effect: string; actions: string[]; resources: string[]; principals?: { type: string; identifiers: string[] }[]; condition?: { test: string; variable: string; values: string[] }[]; sid?: string };

const CLOUDZERO_COUNT = '${var.cloudzero_export_enabled ? 1 : 0}';
const COST_EXPORT_COUNT = '${var.cost_export_enabled ? 1 : 0}';
const instance = (type: string, name: string, attribute: string) => `\${${type}.${name}[0].${attribute}}`;
/** The name of a resource a `${type.name.attr}` or `${type.name[0].attr}` reference points to. */
const nameIn = (reference: unknown) => String(reference).replace(/^\$\{(?:data\.)?[a-z0-9_]+\.([^.[]+)(?:\[0\])?\.[a-z_]+\}$/, '$1');

const [functionName, exportFunction] = resourceNamed(stack, 'aws_lambda_function', 'cost-telemetry-export');
const functionRole = nameIn(exportFunction.role);
const [secretName, secret] = resourceNamed(stack, 'aws_secretsmanager_secret', 'cloudzero-api-key');
const [queueName, queue] = resourceNamed(stack, 'aws_sqs_queue', 'cost-allocation_daily_dlq');
const [, schedule] = resourceNamed(stack, 'aws_scheduler_schedule', 'cost-allocation_daily');
const [groupName, scheduleGroup] = resourceNamed(stack, 'aws_scheduler_schedule_group', 'cost-allocation_daily');
const [schedulerRoleName, schedulerRole] = resourceNamed(stack, 'aws_iam_role', 'cost-allocation_daily_scheduler-role');
const [bucketName, bucket] = resourceNamed(stack, 'aws_s3_bucket', 'cost-allocation_cost-export_bucket');
const [, bucketPolicy] = resourceNamed(stack, 'aws_s3_bucket_policy', 'cost-allocation_cost-export');
const [exportName, dataExport] = resourceNamed(stack, 'aws_bcmdataexports_export', 'cost-allocation');
const [, curTable] = resourceNamed(stack, 'aws_glue_catalog_table', 'cost-allocation_cur-table');
const [topicName] = resourceNamed(stack, 'aws_sns_topic', 'alarms');
const functionArn = ref('aws_lambda_function', functionName, 'arn');
const queueArn = instance('aws_sqs_queue', queueName, 'arn');
const bucketArn = instance('aws_s3_bucket', bucketName, 'arn');
const account = '${data.aws_caller_identity.current-account.account_id}';
const partition = '${data.aws_partition.current-partition.partition}';

/** The inline policies of a role: name → count and statements. */
function rolePolicies(roleName: string): Map<string, { count: unknown; statements: Statement[] }> {
  const policies = new Map<string, { count: unknown; statements: Statement[] }>();
  for (const policy of Object.values(resourcesOfType(stack, 'aws_iam_role_policy'))) {
    if (nameIn(policy.role) !== roleName) continue;
    policies.set(policy.name as string, { count: policy.count, statements: documentStatements(stack, policy.policy as string) as Statement[] });
  }
  return policies;
}

/** The four functions that write tenant metrics, by their log groups. */
const consumptionGroups = ['metered-api_random-strings', 'usage-ingestion_usage-events', 'usage-aggregation_aggregator', 'marketplace_marketplace-metering']
  .map((fragment) => resourceNamed(stack, 'aws_cloudwatch_log_group', `${fragment}_logs`)[0]);

describe('the CloudZero export function', () => {
  const variables = (exportFunction.environment as { variables: Record<string, string> }).variables;

  it('runs functions/cost-telemetry-export for up to 10 minutes, told where the key, the lake and the tenant metrics are', () => {
    expect(exportFunction).toMatchObject({ function_name: '${var.name_prefix}-cost-telemetry-export', timeout: 600, memory_size: 512 });
    expect(variables).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: 'cost-telemetry-export',
      CLOUDZERO_SECRET_ARN: `\${var.cloudzero_export_enabled ? aws_secretsmanager_secret.${secretName}[0].arn : ""}`,
      CLOUDZERO_API_URL: '${var.cloudzero_api_url}',
      TELEMETRY_STREAM_PREFIX: '${var.telemetry_stream_prefix}',
      ATHENA_WORKGROUP: expect.stringMatching(/^\$\{aws_athena_workgroup\.usage-lake_workgroup_[A-F0-9]+\.name\}$/),
      USAGE_DATABASE: expect.stringMatching(/^\$\{aws_glue_catalog_database\.usage-lake_database_[A-F0-9]+\.name\}$/),
      CONSUMPTION_LOG_GROUPS: consumptionGroups.map((group) => ref('aws_cloudwatch_log_group', group, 'name')).join(','),
      POWERTOOLS_METRICS_NAMESPACE: TENANT_METRICS_NAMESPACE,
    });
  });

  it('reads the tenant metrics under the namespace the functions of those log groups write them to', () => {
    for (const group of consumptionGroups) {
      const writer = Object.values(resourcesOfType(stack, 'aws_lambda_function'))
        .find((fn) => (fn.logging_config as { log_group: string }).log_group === ref('aws_cloudwatch_log_group', group, 'name'));
      expect([group, (writer?.environment as { variables: Record<string, string> } | undefined)?.variables.POWERTOOLS_METRICS_NAMESPACE])
        .toEqual([group, variables.POWERTOOLS_METRICS_NAMESPACE]);
    }
  });

  it('starts with that environment (the handler reads and checks it at cold start)', () => {
    // Terraform values stand in for what apply resolves: variables by their defaults, resources by names.
    const resolved = Object.fromEntries(Object.entries(variables).map(([key, value]) => {
      const text = value
        .replace(/\$\{var\.([a-z0-9_]+)\}/g, (_, name: string) => String(stack.variable[name].default))
        .replace(/\$\{var\.cloudzero_export_enabled \? [^}]+\}/, 'arn:aws:secretsmanager:us-east-1:123456789012:secret:saas-metering/cloudzero-api-key-AbCdEf')
        .replace(/\$\{aws_[a-z_]+\.([^.]+)\.name\}/g, (_, name: string) => `resolved-${name}`);
      return [key, text];
    }));
    const saved = { ...process.env };
    Object.assign(process.env, resolved);
    try {
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const handler = require('../../functions/cost-telemetry-export/index') as typeof import('../../functions/cost-telemetry-export/index');
        const settings = handler.exportSettings(process.env);
        expect(settings).toMatchObject({ apiUrl: CLOUDZERO_API_URL, granularity: 'DAILY', operation: 'replace', mapping: { streamPrefix: 'saas-metering' } });
        expect(settings.secretId).toMatch(/cloudzero-api-key/);
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { consumptionLogGroups } = require('../../functions/commons/consumption-sources') as typeof import('../../functions/commons/consumption-sources');
      expect(consumptionLogGroups(resolved.CONSUMPTION_LOG_GROUPS)).toHaveLength(4);
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });

  it('has a role that holds exactly its permissions, each switched with the export but its own logs', () => {
    const policies = rolePolicies(functionRole);
    expect([...policies.keys()].sort()).toEqual(['cloudzero-api-key', 'consumption-logs', 'dead-letter', 'kms', 'lake-queries', 'logs']);

    const logGroup = resourceNamed(stack, 'aws_cloudwatch_log_group', 'cost-allocation_cost-telemetry-export')[0];
    expect(policies.get('logs')).toEqual({ count: undefined, statements: [expect.objectContaining({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${ref('aws_cloudwatch_log_group', logGroup, 'arn')}:*`] })] });

    expect(policies.get('cloudzero-api-key')).toEqual({
      count: CLOUDZERO_COUNT,
      statements: [expect.objectContaining({ effect: 'Allow', actions: ['secretsmanager:GetSecretValue'], resources: [instance('aws_secretsmanager_secret', secretName, 'arn')] })],
    });

    const groupArns = consumptionGroups.flatMap((group) => [ref('aws_cloudwatch_log_group', group, 'arn'), `${ref('aws_cloudwatch_log_group', group, 'arn')}:*`]);
    expect(policies.get('consumption-logs')).toEqual({
      count: CLOUDZERO_COUNT,
      statements: [
        expect.objectContaining({ actions: ['logs:StartQuery'], resources: groupArns }),
        expect.objectContaining({ actions: ['logs:GetQueryResults', 'logs:StopQuery'], resources: ['*'] }),
      ],
    });

    // Reads the lake as the aggregator does: its grants are the lake's query statements plus the usage table.
    const [aggregatorName, aggregator] = resourceNamed(stack, 'aws_lambda_function', 'usage-aggregation_aggregator');
    expect(aggregatorName).toBeDefined();
    const aggregatorGrants = rolePolicies(nameIn(aggregator.role)).get('grants')!.statements.filter((s) => !s.actions.some((a) => a.startsWith('dynamodb:')));
    const lakeQueries = policies.get('lake-queries')!;
    expect(lakeQueries.count).toBe(CLOUDZERO_COUNT);
    expect(lakeQueries.statements).toEqual(aggregatorGrants);
    expect(lakeQueries.statements.flatMap((s) => s.actions).filter((a) => !/^(athena:(Start|Get|Stop)Query|glue:Get|s3:(Get|List|PutObject$))/.test(a))).toEqual([]);
    // Writes only query results, nothing of the lake's tables.
    const writes = lakeQueries.statements.filter((s) => s.actions.includes('s3:PutObject'));
    expect(writes.flatMap((s) => s.resources)).toEqual([expect.stringMatching(/\/athena-results\/\*$/)]);

    expect(policies.get('kms')).toEqual({
      count: '${(var.cloudzero_export_enabled && (length(var.lake_kms_key_arn) >= 1)) ? 1 : 0}',
      statements: [expect.objectContaining({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: ['${var.lake_kms_key_arn}'] })],
    });
    expect(policies.get('dead-letter')).toEqual({ count: CLOUDZERO_COUNT, statements: [expect.objectContaining({ actions: ['sqs:SendMessage'], resources: [queueArn] })] });

    const attachments = Object.values(resourcesOfType(stack, 'aws_iam_role_policy_attachment')).filter((a) => nameIn(a.role) === functionRole);
    expect(attachments).toEqual([]);
  });

  it('is granted Lake Formation SELECT and DESCRIBE only when both the export and Lake Formation are on', () => {
    const grants = Object.entries(resourcesOfType(stack, 'aws_lakeformation_permissions')).filter(([name]) => name.startsWith('cost-allocation_export-grants'));
    expect(grants.map(([, g]) => [g.count, g.permissions])).toEqual([
      ['${(var.cloudzero_export_enabled && var.lake_formation_enabled) ? 1 : 0}', ['DESCRIBE']],
      ['${(var.cloudzero_export_enabled && var.lake_formation_enabled) ? 1 : 0}', ['SELECT', 'DESCRIBE']],
    ]);
    for (const [, grant] of grants) expect(grant.principal).toBe(ref('aws_iam_role', functionRole, 'arn'));
  });
});

describe('the CloudZero API key secret', () => {
  it('is created without a value, named after the prefix, encrypted with the lake key when one is set', () => {
    expect(secret).toMatchObject({
      count: CLOUDZERO_COUNT,
      name: '${var.name_prefix}/cloudzero-api-key',
      kms_key_id: '${(length(var.lake_kms_key_arn) >= 1) ? var.lake_kms_key_arn : null}',
      recovery_window_in_days: 7,
    });
    expect(resourcesOfType(stack, 'aws_secretsmanager_secret_version')).toEqual({});
  });

  it('is readable by the export function alone', () => {
    const readers = Object.values(resourcesOfType(stack, 'aws_iam_role_policy'))
      .filter((policy) => documentStatements(stack, policy.policy as string).some((s) => s.resources.includes(instance('aws_secretsmanager_secret', secretName, 'arn'))))
      .map((policy) => nameIn(policy.role));
    expect(readers).toEqual([functionRole]);
  });

  it('is an output, empty when the export is disabled', () => {
    expect(stack.output.CloudZeroApiKeySecretArn.value).toBe(`\${var.cloudzero_export_enabled ? aws_secretsmanager_secret.${secretName}[0].arn : ""}`);
  });
});

describe('the daily schedule', () => {
  const target = schedule.target as Record<string, unknown>;

  it(`runs the function once a day (${CLOUDZERO_EXPORT_SCHEDULE}, UTC), in a group of its own`, () => {
    expect(schedule).toMatchObject({
      count: CLOUDZERO_COUNT,
      name: '${var.name_prefix}-cost-telemetry-export',
      schedule_expression: 'cron(30 2 * * ? *)',
      schedule_expression_timezone: 'UTC',
      flexible_time_window: { mode: 'OFF' },
      group_name: instance('aws_scheduler_schedule_group', groupName, 'name'),
    });
    expect(scheduleGroup).toMatchObject({ count: CLOUDZERO_COUNT, name: '${var.name_prefix}-cost' });
    // Minute 30 of hour 2, every day of every month, any weekday, every year: once a day.
    expect(/^cron\((\d+) (\d+) \* \* \? \*\)$/.exec(schedule.schedule_expression as string)?.slice(1)).toEqual(['30', '2']);
    expect(target).toMatchObject({
      arn: functionArn,
      input: '{}',
      role_arn: instance('aws_iam_role', schedulerRoleName, 'arn'),
      retry_policy: { maximum_retry_attempts: 3, maximum_event_age_in_seconds: 21_600 },
      dead_letter_config: { arn: queueArn },
    });
  });

  it('waits for the lake table it reads and for its failure path', () => {
    expect(schedule.depends_on).toEqual(expect.arrayContaining([
      expect.stringMatching(/^aws_lambda_invocation\.usage-lake_access-log-table_/),
      expect.stringMatching(/^aws_lambda_function_event_invoke_config\.cost-allocation_daily_async_/),
      expect.stringMatching(/^aws_iam_role_policy\.cost-allocation_daily_scheduler-role-policy_/),
    ]));
  });

  it('assumes a role only schedules of this account\'s group may use, allowed to invoke the function and send to the queue', () => {
    expect(schedulerRole.count).toBe(CLOUDZERO_COUNT);
    const [trust] = documentStatements(stack, schedulerRole.assume_role_policy as string) as Statement[];
    expect(trust.principals).toEqual([{ type: 'Service', identifiers: ['scheduler.amazonaws.com'] }]);
    expect(trust.condition).toEqual([
      { test: 'StringEquals', variable: 'aws:SourceAccount', values: [account] },
      { test: 'ArnEquals', variable: 'aws:SourceArn', values: [instance('aws_scheduler_schedule_group', groupName, 'arn')] },
    ]);
    const policies = rolePolicies(schedulerRoleName);
    expect([...policies.keys()]).toEqual(['invoke-function']);
    expect(policies.get('invoke-function')!.statements.map((s) => [s.actions, s.resources])).toEqual([
      [['lambda:InvokeFunction'], [functionArn]],
      [['sqs:SendMessage'], [queueArn]],
    ]);
  });

  it('has a dead-letter queue for runs that could not be invoked or failed after Lambda\'s retries, and alarms on it and on errors', () => {
    expect(queue).toMatchObject({ count: CLOUDZERO_COUNT, name: '${var.name_prefix}-cost-telemetry-export-dlq', sqs_managed_sse_enabled: true, message_retention_seconds: 1_209_600 });
    const [, invokeConfig] = resourceNamed(stack, 'aws_lambda_function_event_invoke_config', 'cost-allocation_daily');
    expect(invokeConfig).toMatchObject({
      count: CLOUDZERO_COUNT,
      function_name: ref('aws_lambda_function', functionName, 'function_name'),
      maximum_retry_attempts: 2,
      maximum_event_age_in_seconds: 21_600,
      destination_config: { on_failure: { destination: queueArn } },
    });
    const [, queueAlarm] = resourceNamed(stack, 'aws_cloudwatch_metric_alarm', 'cost-allocation_daily_dlq-alarm');
    expect(queueAlarm).toMatchObject({
      count: CLOUDZERO_COUNT,
      alarm_name: '${var.name_prefix}-cost-telemetry-export-dlq-not-empty',
      namespace: 'AWS/SQS',
      metric_name: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: instance('aws_sqs_queue', queueName, 'name') },
      alarm_actions: [ref('aws_sns_topic', topicName, 'arn')],
    });
    const [, errorsAlarm] = resourceNamed(stack, 'aws_cloudwatch_metric_alarm', 'cost-allocation_daily_errors-alarm');
    expect(errorsAlarm).toMatchObject({
      count: CLOUDZERO_COUNT,
      alarm_name: '${var.name_prefix}-cost-telemetry-export-errors',
      namespace: 'AWS/Lambda',
      metric_name: 'Errors',
      dimensions: { FunctionName: ref('aws_lambda_function', functionName, 'function_name') },
      period: 3600,
      alarm_actions: [ref('aws_sns_topic', topicName, 'arn')],
    });
  });
});

describe('the CUR 2.0 data export', () => {
  const [exportConfig] = dataExport.export as Record<string, unknown>[];

  it('is created through a provider configured for us-east-1, whatever the stack\'s region', () => {
    expect(dataExport.provider).toBe('aws.us_east_1');
    const providers = stack.provider.aws as { alias?: string; region: string; default_tags?: unknown }[];
    const usEast1 = providers.find((p) => p.alias === 'us_east_1');
    expect(usEast1).toMatchObject({ region: 'us-east-1' });
    // Tagged like every other resource.
    expect(usEast1?.default_tags).toEqual(providers.find((p) => p.alias === undefined)?.default_tags);
  });

  it('selects the CUR table\'s columns, one line per resource and day, as Parquet that each refresh overwrites', () => {
    expect(dataExport.count).toBe(COST_EXPORT_COUNT);
    expect(exportConfig.name).toBe('${var.name_prefix}-cur2');
    const [query] = exportConfig.data_query as { query_statement: string; table_configurations: Record<string, Record<string, string>> }[];
    expect(query.query_statement).toBe(curExportQuery());
    expect(query.query_statement).toBe(`SELECT ${CUR_COLUMNS.map((c) => c.name).join(', ')} FROM COST_AND_USAGE_REPORT`);
    expect(query.table_configurations).toEqual({
      COST_AND_USAGE_REPORT: {
        TIME_GRANULARITY: 'DAILY',
        INCLUDE_RESOURCES: 'TRUE',
        INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY: 'FALSE',
        INCLUDE_SPLIT_COST_ALLOCATION_DATA: 'FALSE',
        BILLING_VIEW_ARN: `arn:${partition}:billing::${account}:billingview/primary`,
      },
    });
    const [destination] = exportConfig.destination_configurations as { s3_destination: Record<string, unknown>[] }[];
    expect(destination.s3_destination).toEqual([{
      s3_bucket: instance('aws_s3_bucket', bucketName, 'bucket'),
      s3_prefix: 'cur2',
      s3_region: '${data.aws_region.current-region.region}',
      s3_output_configurations: [{ overwrite: 'OVERWRITE_REPORT', format: 'PARQUET', compression: 'PARQUET', output_type: 'CUSTOM' }],
    }]);
    expect(exportConfig.refresh_cadence).toEqual([{ frequency: 'SYNCHRONOUS' }]);
    // Data Exports checks the bucket policy when the export is created.
    expect(dataExport.depends_on).toEqual([expect.stringMatching(/^aws_s3_bucket_policy\.cost-allocation_cost-export_bucket-policy_/)]);
    expect(stack.output.CostExportArn.value).toBe(`\${var.cost_export_enabled ? aws_bcmdataexports_export.${exportName}[0].id : ""}`);
  });

  it('delivers into a bucket of its own: private, TLS only, SSE-S3, versioned, replaced versions kept 7 days', () => {
    expect(bucket).toMatchObject({ count: COST_EXPORT_COUNT, bucket_prefix: '${var.name_prefix}-cur-', force_destroy: false });
    const companion = (type: string) => {
      const [, resource] = resourceNamed(stack, type, 'cost-allocation_cost-export');
      expect(resource).toMatchObject({ count: COST_EXPORT_COUNT, bucket: instance('aws_s3_bucket', bucketName, 'id') });
      return resource;
    };
    expect(companion('aws_s3_bucket_public_access_block')).toMatchObject({ block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true });
    expect(companion('aws_s3_bucket_ownership_controls')).toMatchObject({ rule: { object_ownership: 'BucketOwnerEnforced' } });
    expect(companion('aws_s3_bucket_server_side_encryption_configuration')).toMatchObject({ rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: 'AES256' } }] });
    expect(companion('aws_s3_bucket_versioning')).toMatchObject({ versioning_configuration: { status: 'Enabled' } });
    expect(companion('aws_s3_bucket_lifecycle_configuration')).toMatchObject({ rule: [expect.objectContaining({ status: 'Enabled', noncurrent_version_expiration: [{ noncurrent_days: 7 }] })] });
  });

  it('lets only the Data Exports services of this account\'s exports write, and refuses plain HTTP', () => {
    expect(bucketPolicy).toMatchObject({ count: COST_EXPORT_COUNT, bucket: instance('aws_s3_bucket', bucketName, 'id') });
    const statements = documentStatements(stack, bucketPolicy.policy as string) as Statement[];
    expect(statements).toEqual([
      expect.objectContaining({
        sid: 'DenyInsecureTransport',
        effect: 'Deny',
        actions: ['s3:*'],
        principals: [{ type: '*', identifiers: ['*'] }],
        condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
      }),
      {
        sid: 'AllowDataExportsDelivery',
        effect: 'Allow',
        actions: ['s3:PutObject', 's3:GetBucketPolicy'],
        resources: [bucketArn, `${bucketArn}/*`],
        principals: [{ type: 'Service', identifiers: ['billingreports.amazonaws.com', 'bcm-data-exports.amazonaws.com'] }],
        condition: [
          { test: 'StringLike', variable: 'aws:SourceAccount', values: [account] },
          {
            test: 'StringLike',
            variable: 'aws:SourceArn',
            values: [`arn:${partition}:cur:us-east-1:${account}:definition/*`, `arn:${partition}:bcm-data-exports:us-east-1:${account}:export/*`],
          },
        ],
      },
    ]);
    // Nothing else may be granted to a service or to anyone.
    expect(statements.filter((s) => s.effect === 'Allow')).toHaveLength(1);
  });
});

describe('the CUR table', () => {
  const dataLocation = `s3://${instance('aws_s3_bucket', bucketName, 'bucket')}/cur2/\${var.name_prefix}-cur2/data/`;
  const ddl = readSqlFile('ddl/cur2_cost_and_usage.sql');
  const descriptor = curTable.storage_descriptor as Record<string, unknown>;

  it('is an external Parquet table of the usage database over the export\'s data folder', () => {
    expect(curTable).toMatchObject({ count: COST_EXPORT_COUNT, name: CUR_TABLE, table_type: 'EXTERNAL_TABLE' });
    expect(curTable.database_name).toMatch(/^\$\{aws_glue_catalog_database\.usage-lake_database_[A-F0-9]+\.name\}$/);
    expect(descriptor).toMatchObject({
      location: dataLocation,
      input_format: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      output_format: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      ser_de_info: { serialization_library: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
    });
    expect(stack.output.CostTable.value).toBe('${var.cost_export_enabled ? "cur2_cost_and_usage" : ""}');
  });

  it('has the columns cost allocation reads, in CUR 2.0\'s names and types', () => {
    expect((descriptor.columns as { name: string; type: string }[]).map((c) => [c.name, c.type])).toEqual([
      ['line_item_usage_start_date', 'timestamp'],
      ['line_item_product_code', 'string'],
      ['line_item_resource_id', 'string'],
      ['line_item_unblended_cost', 'double'],
      ['line_item_currency_code', 'string'],
      ['resource_tags', 'map<string,string>'],
    ]);
    expect(curTable.partition_keys).toEqual([CUR_PARTITION_KEY]);
  });

  it('projects its billing_period partitions (months from 2023-11 to now) onto the export\'s BILLING_PERIOD= folders', () => {
    expect(curTable.parameters).toEqual({
      EXTERNAL: 'TRUE',
      classification: 'parquet',
      'projection.enabled': 'true',
      'projection.billing_period.type': 'date',
      'projection.billing_period.format': 'yyyy-MM',
      'projection.billing_period.interval': '1',
      'projection.billing_period.interval.unit': 'MONTHS',
      'projection.billing_period.range': '2023-11,NOW',
      // `$${…}` is Terraform's escape: Glue receives Athena's placeholder ${billing_period}.
      'storage.location.template': `${dataLocation}BILLING_PERIOD=$\${billing_period}/`,
    });
  });

  it('matches sql/ddl/cur2_cost_and_usage.sql: columns, partition key, location and table properties', () => {
    const location = 's3://bucket/cur2/export/data/';
    const sql = renderSqlTemplate(ddl, { database: 'usage_db', table: CUR_TABLE, location });
    expect(sql).toMatch(/^CREATE EXTERNAL TABLE IF NOT EXISTS `usage_db`\.`cur2_cost_and_usage` \(/);
    const body = /\(\n([\s\S]*?)\n\)\nPARTITIONED BY \(`([a-z_]+)` ([a-z]+)\)\nSTORED AS PARQUET\nLOCATION '([^']+)'\nTBLPROPERTIES \(\n([\s\S]*?)\n\)$/.exec(sql);
    expect(body).not.toBeNull();
    const [, columnLines, partitionName, partitionType, sqlLocation, propertyLines] = body!;
    const columns = columnLines.split('\n').map((line) => /^ {2}`([a-z_]+)` ([a-z<>,]+?),?$/.exec(line)?.slice(1));
    expect(columns).toEqual((descriptor.columns as { name: string; type: string }[]).map((c) => [c.name, c.type]));
    expect({ name: partitionName, type: partitionType }).toEqual({ name: CUR_PARTITION_KEY.name, type: CUR_PARTITION_KEY.type });
    expect(sqlLocation).toBe(location);
    const properties = Object.fromEntries(propertyLines.split('\n').map((line) => /^ {2}'([^']+)' = '([^']*)',?$/.exec(line)!.slice(1)));
    const glue = Object.fromEntries(Object.entries(curTable.parameters as Record<string, string>)
      .filter(([key]) => key.startsWith('projection.') || key.startsWith('storage.'))
      .map(([key, value]) => [key, value.replace(dataLocation, location).replace('$${', '${')]));
    expect(properties).toEqual(glue);
  });

  it('is the table the cost line query reads', () => {
    expect(readSqlFile('queries/daily_cost_lines.sql')).toMatch(new RegExp(`FROM ${CUR_TABLE}\\b`));
  });
});

describe('switches', () => {
  /** Every resource and data source of cost allocation: `[address, count]`. */
  const switched = [
    ...Object.entries(stack.resource).flatMap(([type, resources]) => Object.entries(resources).map(([name, r]): [string, unknown] => [`${type}.${name}`, r.count])),
    ...Object.entries(stack.data).flatMap(([type, sources]) => Object.entries(sources).map(([name, d]): [string, unknown] => [`data.${type}.${name}`, d.count])),
  ].filter(([address]) => address.includes('.cost-allocation_'));

  /** What exists whatever the variables say: the bundled function, its role, log group and log permission. */
  const ALWAYS = [
    /^aws_lambda_function\.cost-allocation_cost-telemetry-export_function_/,
    /^aws_iam_role\.cost-allocation_cost-telemetry-export_role_/,
    /^aws_cloudwatch_log_group\.cost-allocation_cost-telemetry-export_logs_/,
    /^aws_iam_role_policy\.cost-allocation_cost-telemetry-export_role-policy-logs_/,
    /^data\.aws_iam_policy_document\.cost-allocation_cost-telemetry-export_(assume-role|policy-logs)_/,
  ];
  const always = switched.filter(([address]) => ALWAYS.some((pattern) => pattern.test(address)));
  const counted = switched.filter(([address]) => !ALWAYS.some((pattern) => pattern.test(address)));
  let dir: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-cost-switches-'));
    // Only the variables and one output per count: Terraform evaluates them without any provider.
    const output = Object.fromEntries(counted.map(([, count], index) => [`count_${index}`, { value: count }]));
    fs.writeFileSync(path.join(dir, 'main.tf.json'), JSON.stringify({ variable: stack.variable, output }));
    const init = terraform(dir, ['init', '-backend=false', '-input=false']);
    expect(init.output).toContain('Terraform has been successfully initialized');
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** The count of every switched resource for these variable values. */
  function countsWith(values: Record<string, unknown>): Map<string, number> {
    fs.writeFileSync(path.join(dir, 'test.tfvars.json'), JSON.stringify(values));
    const apply = terraform(dir, ['apply', '-auto-approve', '-input=false', '-var-file=test.tfvars.json']);
    expect(apply.output).not.toMatch(/Error/);
    expect(apply.code).toBe(0);
    const outputs = JSON.parse(terraform(dir, ['output', '-json']).output) as Record<string, { value: number }>;
    return new Map(counted.map(([address], index) => [address, outputs[`count_${index}`].value]));
  }
  const existing = (counts: Map<string, number>) => [...counts].filter(([, count]) => count === 1).map(([address]) => address);
  const CLOUDZERO = /cost-allocation_(cloudzero-api-key|daily_|export-grants|cost-telemetry-export_(role-)?policy-)/;
  const COST_EXPORT = /cost-allocation_(cost-export_|cur-table_)/;

  it('switches everything else with a count', () => {
    // The function, its role, log group, log permission and the two documents behind them.
    expect(always).toHaveLength(6);
    for (const [address, count] of always) expect([address, count]).toEqual([address, undefined]);
    expect(counted.length).toBeGreaterThan(25);
    for (const [address, count] of counted) expect([address, typeof count]).toEqual([address, 'string']);
  });

  it('creates nothing of either export with the defaults', () => {
    const counts = countsWith({});
    expect(counts.size).toBe(counted.length);
    expect(existing(counts)).toEqual([]);
  });

  it('creates the CloudZero export alone with cloudzero_export_enabled (the KMS grant with a lake key, Lake Formation grants with Lake Formation)', () => {
    const plain = existing(countsWith({ cloudzero_export_enabled: true }));
    expect(plain.length).toBeGreaterThan(10);
    expect(plain.filter((address) => !CLOUDZERO.test(address))).toEqual([]);
    expect(plain.filter((address) => /kms|export-grants/.test(address))).toEqual([]);
    const governed = existing(countsWith({ cloudzero_export_enabled: true, lake_formation_enabled: true, lake_kms_key_arn: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' }));
    expect(governed.filter((address) => !plain.includes(address)).sort()).toEqual([
      expect.stringMatching(/^aws_iam_role_policy\.cost-allocation_cost-telemetry-export_role-policy-kms_/),
      expect.stringMatching(/^aws_lakeformation_permissions\.cost-allocation_export-grants_database_/),
      expect.stringMatching(/^aws_lakeformation_permissions\.cost-allocation_export-grants_tables_/),
      expect.stringMatching(/^data\.aws_iam_policy_document\.cost-allocation_cost-telemetry-export_policy-kms_/),
    ]);
    // Without the CloudZero export, neither the key nor Lake Formation creates anything here.
    expect(existing(countsWith({ lake_formation_enabled: true, lake_kms_key_arn: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' }))).toEqual([]);
  });

  it('creates the CUR export, its bucket and the table alone with cost_export_enabled', () => {
    const created = existing(countsWith({ cost_export_enabled: true }));
    expect(created.length).toBe(10);
    expect(created.filter((address) => !COST_EXPORT.test(address))).toEqual([]);
    expect(created).toEqual(expect.arrayContaining([
      expect.stringMatching(/^aws_bcmdataexports_export\./),
      expect.stringMatching(/^aws_s3_bucket\./),
      expect.stringMatching(/^aws_s3_bucket_policy\./),
      expect.stringMatching(/^aws_glue_catalog_table\./),
    ]));
  });
});

describe('variables', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-cost-variables-'));
    fs.writeFileSync(path.join(dir, 'main.tf.json'), JSON.stringify({ variable: stack.variable }));
    terraform(dir, ['init', '-backend=false', '-input=false']);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const planWith = (values: Record<string, unknown>) => {
    fs.writeFileSync(path.join(dir, 'test.tfvars.json'), JSON.stringify(values));
    return terraform(dir, ['plan', '-input=false', '-var-file=test.tfvars.json']);
  };

  it('are off by default, with the public CloudZero API and the saas-metering stream prefix', () => {
    expect(stack.variable.cloudzero_export_enabled).toMatchObject({ type: 'bool', default: false });
    expect(stack.variable.cost_export_enabled).toMatchObject({ type: 'bool', default: false });
    expect(stack.variable.cloudzero_api_url).toMatchObject({ type: 'string', default: 'https://api.cloudzero.com' });
    expect(stack.variable.telemetry_stream_prefix).toMatchObject({ type: 'string', default: 'saas-metering' });
    expect(fs.readFileSync(path.join(PROJECT_ROOT, 'terraform.tfvars.example'), 'utf8')).toMatch(/^cloudzero_export_enabled = false$/m);
  });

  it('accept an https API URL and a prefix of stream-name characters (or none)', () => {
    for (const values of [{ cloudzero_api_url: 'https://api.eu.cloudzero.example/v2', telemetry_stream_prefix: 'acme-prod.metering_1' }, { telemetry_stream_prefix: '' }]) {
      const plan = planWith(values);
      expect(plan.output).not.toMatch(/Error/);
      expect(plan.code).toBe(0);
    }
  });

  it.each([
    [{ cloudzero_api_url: 'http://api.cloudzero.com' }, 'cloudzero_api_url must be an https:// URL.'],
    [{ cloudzero_api_url: 'https://api cloudzero.com' }, 'cloudzero_api_url must be an https:// URL.'],
    [{ telemetry_stream_prefix: 'saas/metering' }, 'telemetry_stream_prefix may hold only letters'],
    [{ telemetry_stream_prefix: 'x'.repeat(201) }, 'telemetry_stream_prefix may hold only letters'],
  ])('refuse %j', (values, message) => {
    const plan = planWith(values);
    expect(plan.code).not.toBe(0);
    expect(plan.output.replace(/\s+/g, ' ')).toContain(message);
  });
});
