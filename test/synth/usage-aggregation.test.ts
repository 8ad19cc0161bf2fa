import * as fs from 'node:fs';
import * as path from 'node:path';
import { usageTableDefinition } from '../../adapters/dynamodb/usage-table-definition';
import { PROJECT_ROOT } from '../../modules/project-paths';
import { resourceNamed, resourcesOfType, synthStack, type SynthesizedStack } from '../support/synth';

const { parsed: stack } = synthStack();

type Statement = { effect: string; actions: string[]; resources: string[]; principals?: { type: string; identifiers: string[] }[]; condition?: { test: string; variable: string; values: string[] }[] };

/** The statements of a policy document referenced as `${data.aws_iam_policy_document.<name>.json}`. */
function documentStatements(synth: SynthesizedStack, reference: string): Statement[] {
  const name = reference.replace(/^\$\{data\.aws_iam_policy_document\.([^.]+)\.json\}$/, '$1');
  return (synth.data.aws_iam_policy_document[name] as { statement: Statement[] }).statement;
}

/** Statements of the inline policies attached to a role (including count-switched ones). */
function roleStatements(synth: SynthesizedStack, roleName: string): Statement[] {
  return Object.values(resourcesOfType(synth, 'aws_iam_role_policy'))
    .filter((p) => p.role === `\${aws_iam_role.${roleName}.id}`)
    .flatMap((p) => documentStatements(synth, p.policy as string));
}

const ref = (type: string, name: string, attribute: string) => `\${${type}.${name}.${attribute}}`;

const [tableName, table] = resourceNamed(stack, 'aws_dynamodb_table', 'usage-table');
const [functionName, aggregator] = resourceNamed(stack, 'aws_lambda_function', 'aggregator');
const [queueName, queue] = resourceNamed(stack, 'aws_sqs_queue', 'usage-aggregation_hourly_dlq');
const [topicName, topic] = resourceNamed(stack, 'aws_sns_topic', 'alarms');
const [, schedule] = resourceNamed(stack, 'aws_scheduler_schedule', 'usage-aggregation');
const target = schedule.target as Record<string, unknown>;
const functionArn = ref('aws_lambda_function', functionName, 'arn');
const queueArn = ref('aws_sqs_queue', queueName, 'arn');
const tableArn = ref('aws_dynamodb_table', tableName, 'arn');
const aggregatorRole = (aggregator.role as string).replace(/^\$\{aws_iam_role\.([^.]+)\.arn\}$/, '$1');

describe('usage table', () => {
  it('is named after the prefix, on demand, keyed by pk and sk', () => {
    expect(table).toMatchObject({ name: '${var.name_prefix}-usage', billing_mode: 'PAY_PER_REQUEST', hash_key: 'pk', range_key: 'sk' });
    expect(table.attribute).toEqual(expect.arrayContaining([{ name: 'pk', type: 'S' }, { name: 'sk', type: 'S' }, { name: 'pendingHour', type: 'S' }]));
    expect(table.attribute).toHaveLength(3);
    expect(table.ttl).toBeUndefined();
  });

  it('has the keys and index the DynamoDB adapter creates for local runs', () => {
    const definition = usageTableDefinition('t');
    const keyOf = (schema: { AttributeName?: string; KeyType?: string }[] | undefined, type: string) => schema?.find((k) => k.KeyType === type)?.AttributeName;
    expect(table.hash_key).toBe(keyOf(definition.KeySchema, 'HASH'));
    expect(table.range_key).toBe(keyOf(definition.KeySchema, 'RANGE'));
    expect(table.attribute).toEqual(expect.arrayContaining((definition.AttributeDefinitions ?? []).map((a) => ({ name: a.AttributeName, type: a.AttributeType }))));
    expect(table.global_secondary_index).toEqual((definition.GlobalSecondaryIndexes ?? []).map((index) => ({
      name: index.IndexName,
      hash_key: keyOf(index.KeySchema, 'HASH'),
      range_key: keyOf(index.KeySchema, 'RANGE'),
      projection_type: index.Projection?.ProjectionType,
    })));
  });

  it('has the sparse pending-by-hour index (pendingHour, pk) projecting every attribute', () => {
    expect(table.global_secondary_index).toEqual([{ name: 'pending-by-hour', hash_key: 'pendingHour', range_key: 'pk', projection_type: 'ALL' }]);
  });

  it('keeps point-in-time recovery and is protected from deletion by the variable', () => {
    expect(table.point_in_time_recovery).toEqual({ enabled: true });
    expect(table.deletion_protection_enabled).toBe('${var.usage_table_deletion_protection}');
    expect(stack.variable.usage_table_deletion_protection).toMatchObject({ type: 'bool', default: true });
  });

  it('is encrypted with the AWS-owned key by default and with the lake key when one is configured', () => {
    expect(table.server_side_encryption).toEqual({
      enabled: '${(length(var.lake_kms_key_arn) >= 1)}',
      kms_key_arn: '${(length(var.lake_kms_key_arn) >= 1) ? var.lake_kms_key_arn : null}',
    });
  });
});

describe('aggregator function', () => {
  it('runs usage-aggregator for up to 10 minutes with 512 MB, told where the table, workgroup and lake are', () => {
    expect(aggregator).toMatchObject({ function_name: '${var.name_prefix}-usage-aggregator', timeout: 600, memory_size: 512 });
    const variables = (aggregator.environment as { variables: Record<string, string> }).variables;
    expect(variables).toMatchObject({
      USAGE_TABLE: ref('aws_dynamodb_table', tableName, 'name'),
      ATHENA_WORKGROUP: expect.stringMatching(/^\$\{aws_athena_workgroup\.[^.]+\.name\}$/),
      USAGE_DATABASE: expect.stringMatching(/^\$\{aws_glue_catalog_database\.[^.]+\.name\}$/),
      ACCESS_LOG_TABLE: 'access_logs',
      INGESTION_DELAY_SECONDS: '${(var.firehose_buffering_interval_seconds + var.transform_buffer_interval_seconds)}',
    });
  });

  it('sets every environment variable the handler requires at cold start', () => {
    const source = fs.readFileSync(path.join(PROJECT_ROOT, 'functions', 'usage-aggregator', 'index.ts'), 'utf8');
    const required = [
      ...[...source.matchAll(/requiredEnvironment\(\s*process\.env\s*,\s*\[([^\]]*)\]/g)].flatMap((m) => [...m[1].matchAll(/'([A-Z0-9_]+)'/g)].map((n) => n[1])),
      ...[...source.matchAll(/process\.env\.([A-Z0-9_]+)/g)].map((m) => m[1]),
    ];
    expect(required.length).toBeGreaterThan(0);
    const variables = (aggregator.environment as { variables: Record<string, string> }).variables;
    for (const name of required) expect(Object.keys(variables)).toContain(name);
  });

  describe('role', () => {
    const statements = roleStatements(stack, aggregatorRole);
    const withAction = (action: string) => statements.filter((s) => s.actions.includes(action));

    it('allows only named actions on named resources', () => {
      expect(statements.length).toBeGreaterThan(0);
      for (const statement of statements) {
        expect(statement.effect).toBe('Allow');
        for (const action of statement.actions) expect(action).not.toMatch(/\*/);
        for (const resource of statement.resources) expect(resource).not.toBe('*');
      }
    });

    it('uses Athena only in the usage workgroup', () => {
      const athena = statements.filter((s) => s.actions.some((a) => a.startsWith('athena:')));
      expect(athena).toHaveLength(1);
      expect(athena[0].actions.sort()).toEqual(['athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StartQueryExecution', 'athena:StopQueryExecution']);
      expect(athena[0].resources).toEqual([expect.stringMatching(/^\$\{aws_athena_workgroup\.[^.]+\.arn\}$/)]);
    });

    it('reads the catalog of the usage database only', () => {
      const glue = statements.filter((s) => s.actions.some((a) => a.startsWith('glue:')));
      expect(glue).toHaveLength(1);
      expect(glue[0].actions.sort()).toEqual(['glue:GetDatabase', 'glue:GetPartitions', 'glue:GetTable']);
      expect(glue[0].resources).toHaveLength(3);
      expect(glue[0].resources[0]).toMatch(/:catalog$/);
      expect(glue[0].resources[1]).toMatch(/:database\/\$\{aws_glue_catalog_database\.[^.]+\.name\}$/);
      expect(glue[0].resources[2]).toMatch(/:table\/\$\{aws_glue_catalog_database\.[^.]+\.name\}\/\*$/);
    });

    it('reads the table files, writes only query results, and never deletes from the lake', () => {
      const bucket = expect.stringMatching(/^\$\{aws_s3_bucket\.[^.]+\.arn\}$/);
      expect(withAction('s3:ListBucket')).toEqual([expect.objectContaining({ resources: [bucket] })]);
      const reads = withAction('s3:GetObject').flatMap((s) => s.resources);
      expect(reads.map((r) => r.replace(/^\$\{[^}]+\}/, '<bucket>')).sort()).toEqual(['<bucket>/athena-results/*', '<bucket>/tables/*']);
      expect(withAction('s3:PutObject').flatMap((s) => s.resources)).toEqual([expect.stringMatching(/\/athena-results\/\*$/)]);
      expect(statements.flatMap((s) => s.actions).filter((a) => /^s3:(Delete|Abort)/.test(a))).toEqual([]);
    });

    it('reads and writes items of the usage table and its indexes, nothing else in DynamoDB', () => {
      const dynamo = statements.filter((s) => s.actions.some((a) => a.startsWith('dynamodb:')));
      expect(dynamo).toHaveLength(1);
      expect(dynamo[0].actions.sort()).toEqual(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
      expect(dynamo[0].resources).toEqual([tableArn, `${tableArn}/index/*`]);
    });

    it('may send failed runs to the dead-letter queue only', () => {
      expect(withAction('sqs:SendMessage')).toEqual([expect.objectContaining({ resources: [queueArn] })]);
    });

    it('uses the lake KMS key only when one is configured', () => {
      const kms = Object.values(resourcesOfType(stack, 'aws_iam_role_policy'))
        .filter((p) => p.role === `\${aws_iam_role.${aggregatorRole}.id}` && p.name === 'kms');
      expect(kms).toHaveLength(1);
      expect(kms[0].count).toBe('${(length(var.lake_kms_key_arn) >= 1) ? 1 : 0}');
      expect(documentStatements(stack, kms[0].policy as string)[0].resources).toEqual(['${var.lake_kms_key_arn}']);
    });

    it('gets Lake Formation SELECT and DESCRIBE only when the catalog is governed by it', () => {
      const grants = Object.values(resourcesOfType(stack, 'aws_lakeformation_permissions'))
        .filter((g) => g.principal === ref('aws_iam_role', aggregatorRole, 'arn'));
      expect(grants.map((g) => (g.permissions as string[]).sort())).toEqual(expect.arrayContaining([['DESCRIBE'], ['DESCRIBE', 'SELECT']]));
      for (const grant of grants) expect(grant.count).toBe('${var.lake_formation_enabled ? 1 : 0}');
    });
  });
});

describe('hourly schedule', () => {
  it('runs at the configured minute of every hour, UTC, without a flexible window', () => {
    expect(schedule.schedule_expression).toBe('cron(${var.aggregation_schedule_minute} * * * ? *)');
    expect(schedule.schedule_expression_timezone).toBe('UTC');
    expect(schedule.flexible_time_window).toEqual({ mode: 'OFF' });
    expect(stack.variable.aggregation_schedule_minute).toMatchObject({ type: 'number', default: 10 });
  });

  it('invokes the aggregator with an empty event, retries, and dead-letters what it cannot deliver', () => {
    expect(target).toMatchObject({
      arn: functionArn,
      input: '{}',
      retry_policy: { maximum_retry_attempts: 3, maximum_event_age_in_seconds: 3600 },
      dead_letter_config: { arn: queueArn },
    });
  });

  it('waits for the access-log table before its first run', () => {
    expect(schedule.depends_on).toEqual(expect.arrayContaining([expect.stringMatching(/^aws_lambda_invocation\.usage-lake_access-log-table/)]));
  });

  describe('execution role', () => {
    const roleName = (target.role_arn as string).replace(/^\$\{aws_iam_role\.([^.]+)\.arn\}$/, '$1');

    it('may only invoke the aggregator and send to the dead-letter queue', () => {
      const statements = roleStatements(stack, roleName);
      expect(statements.map(({ effect, actions, resources }) => ({ effect, actions, resources }))).toEqual([
        { effect: 'Allow', actions: ['lambda:InvokeFunction'], resources: [functionArn] },
        { effect: 'Allow', actions: ['sqs:SendMessage'], resources: [queueArn] },
      ]);
    });

    it('can be assumed only by EventBridge Scheduler for the schedules of this group and account', () => {
      const role = resourcesOfType(stack, 'aws_iam_role')[roleName];
      const [trust] = documentStatements(stack, role.assume_role_policy as string);
      expect(trust.principals).toEqual([{ type: 'Service', identifiers: ['scheduler.amazonaws.com'] }]);
      const [groupName] = resourceNamed(stack, 'aws_scheduler_schedule_group', 'usage-aggregation');
      expect(trust.condition).toEqual(expect.arrayContaining([
        { test: 'StringEquals', variable: 'aws:SourceAccount', values: [expect.stringMatching(/aws_caller_identity/)] },
        { test: 'ArnEquals', variable: 'aws:SourceArn', values: [ref('aws_scheduler_schedule_group', groupName, 'arn')] },
      ]));
      expect(schedule.group_name).toBe(ref('aws_scheduler_schedule_group', groupName, 'name'));
    });
  });
});

describe('asynchronous invocation', () => {
  const [, config] = resourceNamed(stack, 'aws_lambda_function_event_invoke_config', 'usage-aggregation');

  it('retries a failed run twice within an hour, then sends it to the dead-letter queue', () => {
    expect(config).toMatchObject({
      function_name: ref('aws_lambda_function', functionName, 'function_name'),
      maximum_retry_attempts: 2,
      maximum_event_age_in_seconds: 3600,
      destination_config: { on_failure: { destination: queueArn } },
    });
  });

  it('is written only once the function role may send to the queue', () => {
    const [policyName] = Object.entries(resourcesOfType(stack, 'aws_iam_role_policy'))
      .find(([, p]) => p.role === `\${aws_iam_role.${aggregatorRole}.id}` && documentStatements(stack, p.policy as string).some((s) => s.actions.includes('sqs:SendMessage')))!;
    expect(config.depends_on).toEqual([`aws_iam_role_policy.${policyName}`]);
  });
});

describe('dead-letter queue', () => {
  it('is encrypted with SQS-managed keys and keeps messages 14 days', () => {
    expect(queue).toMatchObject({ name: '${var.name_prefix}-usage-aggregation-dlq', sqs_managed_sse_enabled: true, message_retention_seconds: 1209600 });
  });
});

describe('alarms', () => {
  const topicArn = ref('aws_sns_topic', topicName, 'arn');
  const alarms = Object.entries(resourcesOfType(stack, 'aws_cloudwatch_metric_alarm'));

  it('go to the alarm topic and stay quiet without data', () => {
    expect(alarms.length).toBeGreaterThanOrEqual(2);
    for (const [, alarm] of alarms) {
      expect(alarm.alarm_actions).toEqual([topicArn]);
      expect(alarm.treat_missing_data).toBe('notBreaching');
    }
  });

  it('fire as soon as the dead-letter queue holds a message', () => {
    const [, alarm] = resourceNamed(stack, 'aws_cloudwatch_metric_alarm', 'usage-aggregation_hourly_dlq');
    expect(alarm).toMatchObject({
      namespace: 'AWS/SQS',
      metric_name: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: ref('aws_sqs_queue', queueName, 'name') },
      period: 300,
      threshold: 0,
      comparison_operator: 'GreaterThanThreshold',
    });
  });

  it('fire when the aggregator failed in the last hour', () => {
    const [, alarm] = resourceNamed(stack, 'aws_cloudwatch_metric_alarm', 'usage-aggregation_hourly_errors');
    expect(alarm).toMatchObject({
      namespace: 'AWS/Lambda',
      metric_name: 'Errors',
      dimensions: { FunctionName: ref('aws_lambda_function', functionName, 'function_name') },
      statistic: 'Sum',
      period: 3600,
      threshold: 0,
      comparison_operator: 'GreaterThanThreshold',
    });
  });
});

describe('alarm topic', () => {
  it('is encrypted with a key CloudWatch may use (the AWS-managed alias/aws/sns key does not let alarms publish)', () => {
    expect(topic.name).toBe('${var.name_prefix}-alarms');
    const [keyName, key] = resourceNamed(stack, 'aws_kms_key', 'alarms');
    expect(topic.kms_master_key_id).toBe(ref('aws_kms_key', keyName, 'arn'));
    expect(key.enable_key_rotation).toBe(true);
    const statements = documentStatements(stack, key.policy as string);
    const cloudwatch = statements.find((s) => s.principals?.some((p) => p.identifiers.includes('cloudwatch.amazonaws.com')));
    expect(cloudwatch).toMatchObject({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: ['*'] });
    expect(cloudwatch!.condition).toEqual([{ test: 'StringEquals', variable: 'aws:SourceAccount', values: [expect.stringMatching(/aws_caller_identity/)] }]);
  });

  it('subscribes the alarm email only when one is set', () => {
    const [, subscription] = resourceNamed(stack, 'aws_sns_topic_subscription', 'alarms');
    expect(subscription).toMatchObject({
      count: '${(length(var.alarm_email) >= 1) ? 1 : 0}',
      protocol: 'email',
      endpoint: '${var.alarm_email}',
      topic_arn: ref('aws_sns_topic', topicName, 'arn'),
    });
    expect(stack.variable.alarm_email.default).toBe('');
  });
});

describe('state of deployed stacks', () => {
  it('moves the schedule, queue, invoke config, roles and alarms to their addresses in the hourly-job construct', () => {
    const moved = (stack as unknown as { moved: { from: string; to: string }[] }).moved;
    expect(moved).toHaveLength(9);
    for (const { from, to } of moved) {
      const [fromType, fromName] = from.split('.');
      const [toType, toName] = to.split('.');
      expect(toType).toBe(fromType);
      expect(fromName).toMatch(/^usage-aggregation_[a-z-]+_[0-9A-F]{8}$/);
      expect(toName).toMatch(/^usage-aggregation_hourly_/);
      expect(resourcesOfType(stack, toType)[toName]).toBeDefined();
      expect(resourcesOfType(stack, fromType)[fromName]).toBeUndefined();
    }
    expect(moved.map((m) => m.to.split('.')[0]).sort()).toEqual([
      'aws_cloudwatch_metric_alarm', 'aws_cloudwatch_metric_alarm', 'aws_iam_role', 'aws_iam_role_policy', 'aws_iam_role_policy',
      'aws_lambda_function_event_invoke_config', 'aws_scheduler_schedule', 'aws_scheduler_schedule_group', 'aws_sqs_queue',
    ]);
  });
});

describe('outputs', () => {
  it('name the usage table and the alarm topic', () => {
    expect(stack.output.UsageTable.value).toBe(ref('aws_dynamodb_table', tableName, 'name'));
    expect(stack.output.AlarmTopicArn.value).toBe(ref('aws_sns_topic', topicName, 'arn'));
  });

  it('leave nothing undefined in the synthesized stack', () => {
    expect(JSON.stringify(stack)).not.toContain('undefined');
  });
});
