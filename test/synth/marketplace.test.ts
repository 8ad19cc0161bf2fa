import * as fs from 'node:fs';
import * as path from 'node:path';
import { tenantTableDefinition } from '../../adapters/dynamodb/dynamodb-tenant-registry';
import { CONTROL_PLANE_EVENT_SOURCE } from '../../adapters/eventbridge/eventbridge-event-publisher';
import { METERING_METRICS } from '../../modules/marketplace/marketplace';
import { ONBOARDING_INPUT_PATHS } from '../../modules/marketplace/onboarding';
import { PROJECT_ROOT } from '../../modules/project-paths';
import { resourceNamed, resourcesOfType, synthStack, type SynthesizedStack } from '../support/synth';

const { parsed: stack } = synthStack();

type Condition = { test: string; variable: string; values: string[] | string };
type Statement = { sid?: string; effect: string; actions: string[]; resources: string[]; principals?: { type: string; identifiers: string[] }[]; condition?: Condition[] };

const ref = (type: string, name: string, attribute: string) => `\${${type}.${name}.${attribute}}`;
/** `${type.name[0].attribute}`: a reference to the single instance of a counted resource. */
const ref0 = (type: string, name: string, attribute: string) => `\${${type}.${name}[0].${attribute}}`;

/** The statements of a policy document referenced as `${data.aws_iam_policy_document.<name>[0]?.json}`. */
function documentStatements(synth: SynthesizedStack, reference: string): Statement[] {
  const name = reference.replace(/^\$\{data\.aws_iam_policy_document\.([^.[]+)(\[0\])?\.json\}$/, '$1');
  return (synth.data.aws_iam_policy_document[name] as { statement: Statement[] }).statement;
}

/** The role of a function, by the entry in its resource name. */
function functionNamed(fragment: string): { name: string; fn: Record<string, unknown>; role: string } {
  const [name, fn] = resourceNamed(stack, 'aws_lambda_function', fragment);
  return { name, fn, role: (fn.role as string).replace(/^\$\{aws_iam_role\.([^.]+)\.arn\}$/, '$1') };
}

/** Statements of the inline policies attached to a role (including count-switched ones). */
function roleStatements(roleName: string): Statement[] {
  return Object.values(resourcesOfType(stack, 'aws_iam_role_policy'))
    .filter((p) => p.role === `\${aws_iam_role.${roleName}.id}` || p.role === `\${aws_iam_role.${roleName}[0].id}`)
    .flatMap((p) => documentStatements(stack, p.policy as string));
}

/** Action → resources, over every statement of a role (order-independent). */
function grants(roleName: string): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const statement of roleStatements(roleName)) {
    expect(statement.effect).toBe('Allow');
    for (const action of statement.actions) result[action] = [...(result[action] ?? []), ...statement.resources].sort();
  }
  return result;
}

const [topicName] = resourceNamed(stack, 'aws_sns_topic', 'alarms');
const topicArn = ref('aws_sns_topic', topicName, 'arn');
const [tenantTableName, tenantTable] = resourceNamed(stack, 'aws_dynamodb_table', 'tenant-table');
const tenantTableArn = ref('aws_dynamodb_table', tenantTableName, 'arn');
const [usageTableName] = resourceNamed(stack, 'aws_dynamodb_table', 'usage-table');
const usageTableArn = ref('aws_dynamodb_table', usageTableName, 'arn');
const [busName, bus] = resourceNamed(stack, 'aws_cloudwatch_event_bus', 'marketplace');
const busArn = ref('aws_cloudwatch_event_bus', busName, 'arn');
const [queueName, queue] = resourceNamed(stack, 'aws_sqs_queue', 'marketplace_notifications_queue');
const queueArn = ref('aws_sqs_queue', queueName, 'arn');
const kmsGrant = ['${var.lake_kms_key_arn}'];

const metering = functionNamed('marketplace-metering');
const registration = functionNamed('marketplace-registration');
const subscriptions = functionNamed('marketplace-subscriptions');
const agreementEvents = functionNamed('marketplace-agreement-events');
const onboarding = functionNamed('tenant-onboarding');
const finalUsage = functionNamed('marketplace-final-usage');
const aggregator = functionNamed('usage-aggregation_aggregator');
const marketplaceFunctions = { metering, registration, subscriptions, agreementEvents, onboarding, finalUsage };

/** The only resources AWS requires as "*" (actions without resource-level permissions), and the roles that may use them. */
const STAR_RESOURCE_EXCEPTIONS: Record<string, string[]> = {
  'aws-marketplace:BatchMeterUsage': [metering.role, finalUsage.role].sort(),
  'aws-marketplace:ResolveCustomer': [registration.role],
};

/**
 * Resources that may end in a wildcard: the indexes of a table, a log group's streams, and (for the
 * roles that query the lake) the Glue tables of the usage database and the lake's tables and query
 * results prefixes.
 */
const WILDCARD_RESOURCE = /\/index\/\*$|:\*$|:table\/\$\{aws_glue_catalog_database\.[^.]+\.name\}\/\*$|^\$\{aws_s3_bucket\.[^.]+\.arn\}\/(tables|athena-results)\/\*$/;

/** The DynamoDB actions an adapter's code calls (document-client commands), e.g. `dynamodb:GetItem`. */
function dynamoActionsOf(...adapters: string[]): string[] {
  const actions = {
    Get: 'dynamodb:GetItem', Put: 'dynamodb:PutItem', Update: 'dynamodb:UpdateItem', Delete: 'dynamodb:DeleteItem',
    Query: 'dynamodb:Query', Scan: 'dynamodb:Scan', BatchGet: 'dynamodb:BatchGetItem', BatchWrite: 'dynamodb:BatchWriteItem',
    TransactGet: 'dynamodb:TransactGetItems', TransactWrite: 'dynamodb:TransactWriteItems',
  } as Record<string, string>;
  const found = adapters.flatMap((adapter) => {
    const source = fs.readFileSync(path.join(PROJECT_ROOT, 'adapters', 'dynamodb', `${adapter}.ts`), 'utf8');
    return [...source.matchAll(/new ([A-Za-z]+)Command\(/g)].map((m) => {
      expect(actions[m[1]]).toBeDefined();
      return actions[m[1]];
    });
  });
  return [...new Set(found)].sort();
}

/** The actions a role is granted on a resource. */
function actionsOn(roleName: string, resource: string): string[] {
  return Object.entries(grants(roleName)).filter(([, resources]) => resources.includes(resource)).map(([action]) => action).sort();
}

/** The dead-letter queue a function's failed runs go to (its on-failure destination), and its alarm. */
function deadLetterQueueOf(functionName: string): string {
  const [, config] = Object.entries(resourcesOfType(stack, 'aws_lambda_function_event_invoke_config'))
    .find(([, c]) => c.function_name === ref('aws_lambda_function', functionName, 'function_name'))!;
  return (config.destination_config as { on_failure: { destination: string } }).on_failure.destination;
}

describe('tenant table', () => {
  it('is on demand, keyed by pk and sk as the tenant registry expects', () => {
    expect(tenantTable).toMatchObject({ name: '${var.name_prefix}-tenants', billing_mode: 'PAY_PER_REQUEST', hash_key: 'pk', range_key: 'sk' });
    const definition = tenantTableDefinition('t');
    expect(tenantTable.attribute).toEqual((definition.AttributeDefinitions ?? []).map((a) => ({ name: a.AttributeName, type: a.AttributeType })));
    expect(tenantTable.hash_key).toBe(definition.KeySchema?.find((k) => k.KeyType === 'HASH')?.AttributeName);
    expect(tenantTable.range_key).toBe(definition.KeySchema?.find((k) => k.KeyType === 'RANGE')?.AttributeName);
  });

  it('expires registration sessions and token records through TTL on expiresAt', () => {
    expect(tenantTable.ttl).toEqual({ attribute_name: 'expiresAt', enabled: true });
  });

  it('keeps point-in-time recovery, is encrypted (the lake key when configured) and protected by the variable', () => {
    expect(tenantTable.point_in_time_recovery).toEqual({ enabled: true });
    expect(tenantTable.server_side_encryption).toEqual({
      enabled: '${(length(var.lake_kms_key_arn) >= 1)}',
      kms_key_arn: '${(length(var.lake_kms_key_arn) >= 1) ? var.lake_kms_key_arn : null}',
    });
    expect(tenantTable.deletion_protection_enabled).toBe('${var.tenant_table_deletion_protection}');
    expect(stack.variable.tenant_table_deletion_protection).toMatchObject({ type: 'bool', default: true });
  });
});

describe('Marketplace event bus', () => {
  it('is a custom bus the Marketplace functions publish to', () => {
    expect(bus.name).toBe('${var.name_prefix}-marketplace');
    for (const { fn } of [registration, subscriptions, agreementEvents]) {
      expect((fn.environment as { variables: Record<string, string> }).variables.EVENT_BUS_NAME).toBe(ref('aws_cloudwatch_event_bus', busName, 'name'));
    }
  });
});

describe('queues', () => {
  const queues = Object.entries(resourcesOfType(stack, 'aws_sqs_queue'));

  it('are all encrypted with SQS-managed keys', () => {
    expect(queues.length).toBeGreaterThanOrEqual(6);
    for (const [, q] of queues) expect(q.sqs_managed_sse_enabled).toBe(true);
  });

  it('the notification queue redrives to its dead-letter queue after 5 receives, and hides a message 6 times the handler timeout', () => {
    const [dlqName, dlq] = resourceNamed(stack, 'aws_sqs_queue', 'marketplace_notifications_dlq');
    expect(queue.name).toBe('${var.name_prefix}-marketplace-notifications');
    expect(queue.redrive_policy).toBe(`\${jsonencode({"deadLetterTargetArn" = aws_sqs_queue.${dlqName}.arn, "maxReceiveCount" = 5})}`);
    expect(dlq).toMatchObject({ name: '${var.name_prefix}-marketplace-notifications-dlq', message_retention_seconds: 1209600 });
    expect(queue.visibility_timeout_seconds).toBeGreaterThanOrEqual(6 * (subscriptions.fn.timeout as number));
  });

  it('every dead-letter queue has an alarm on its visible messages, notifying the alarm topic', () => {
    const deadLetterQueues = queues.filter(([, q]) => /-dlq$/.test(q.name as string));
    expect(deadLetterQueues.map(([, q]) => q.name).sort()).toEqual([
      '${var.name_prefix}-cost-telemetry-export-dlq',
      '${var.name_prefix}-marketplace-agreement-events-dlq',
      '${var.name_prefix}-marketplace-final-usage-dlq',
      '${var.name_prefix}-marketplace-metering-dlq',
      '${var.name_prefix}-marketplace-notifications-dlq',
      '${var.name_prefix}-marketplace-onboarding-dlq',
      '${var.name_prefix}-usage-aggregation-dlq',
    ]);
    const alarms = Object.values(resourcesOfType(stack, 'aws_cloudwatch_metric_alarm'));
    for (const [name] of deadLetterQueues) {
      // A switchable queue (count) is referenced with its index, and its alarm exists exactly when it does.
      const queueRefs = [ref('aws_sqs_queue', name, 'name'), `\${aws_sqs_queue.${name}[0].name}`];
      const alarm = alarms.find((a) => queueRefs.includes((a.dimensions as Record<string, string> | undefined)?.QueueName ?? ''));
      const queue = deadLetterQueues.find(([n]) => n === name)![1];
      expect(alarm?.count).toBe(queue.count);
      expect(alarm).toMatchObject({ namespace: 'AWS/SQS', metric_name: 'ApproximateNumberOfMessagesVisible', threshold: 0, comparison_operator: 'GreaterThanThreshold', alarm_actions: [topicArn] });
    }
  });
});

describe('legacy SNS notifications', () => {
  it('subscribe the queue to every topic of the variable, in the topic\'s region, with the SNS envelope', () => {
    const [, subscription] = resourceNamed(stack, 'aws_sns_topic_subscription', 'marketplace');
    expect(subscription).toMatchObject({
      for_each: '${toset(var.marketplace_sns_topic_arns)}',
      topic_arn: '${each.value}',
      region: '${element(split(":", each.value), 3)}',
      protocol: 'sqs',
      endpoint: queueArn,
      raw_message_delivery: false,
    });
  });

  it('come from a validated list variable, empty by default, that names the Marketplace topics', () => {
    const variable = stack.variable.marketplace_sns_topic_arns as { type: string; default: unknown; description: string; validation: unknown[] };
    expect(variable).toMatchObject({ type: 'list(string)', default: [] });
    expect(variable.description).toContain('arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-<productCode>');
    expect(variable.description).toContain('aws-mp-entitlement-notification-<productCode>');
    expect(variable.validation).toHaveLength(1);
  });

  it('may be sent to the queue only by the configured topics (the policy exists only when there are topics)', () => {
    const [policyName, policy] = resourceNamed(stack, 'aws_sqs_queue_policy', 'marketplace_notifications');
    expect(policy.count).toBe('${(length(var.marketplace_sns_topic_arns) >= 1) ? 1 : 0}');
    expect(policy.queue_url).toBe(ref('aws_sqs_queue', queueName, 'url'));
    const documentName = (policy.policy as string).replace(/^\$\{data\.aws_iam_policy_document\.([^.[]+)\[0\]\.json\}$/, '$1');
    expect(stack.data.aws_iam_policy_document[documentName].count).toBe(policy.count);
    expect(documentStatements(stack, policy.policy as string)).toEqual([{
      sid: 'MarketplaceTopicsOnly',
      effect: 'Allow',
      principals: [{ type: 'Service', identifiers: ['sns.amazonaws.com'] }],
      actions: ['sqs:SendMessage'],
      resources: [queueArn],
      condition: [{ test: 'ArnEquals', variable: 'aws:SourceArn', values: '${var.marketplace_sns_topic_arns}' }],
    }]);
    const [, subscription] = resourceNamed(stack, 'aws_sns_topic_subscription', 'marketplace');
    expect(subscription.depends_on).toEqual([`aws_sqs_queue_policy.${policyName}`]);
  });

  it('reach marketplace-subscriptions in batches of 10 with partial batch failures', () => {
    const [, mapping] = resourceNamed(stack, 'aws_lambda_event_source_mapping', 'notifications');
    expect(mapping).toMatchObject({
      event_source_arn: queueArn,
      function_name: ref('aws_lambda_function', subscriptions.name, 'arn'),
      batch_size: 10,
      function_response_types: ['ReportBatchItemFailures'],
    });
    expect(mapping.depends_on).toEqual([expect.stringMatching(/^aws_iam_role_policy\.marketplace_notifications_consume/)]);
  });
});

describe('EventBridge agreement events', () => {
  const [ruleName, rule] = resourceNamed(stack, 'aws_cloudwatch_event_rule', 'agreement');
  const ruleArn = ref('aws_cloudwatch_event_rule', ruleName, 'arn');
  const [, target] = resourceNamed(stack, 'aws_cloudwatch_event_target', 'agreement');
  const dlqArn = deadLetterQueueOf(agreementEvents.name);

  it('are matched on the default bus by source aws.agreement-marketplace', () => {
    expect(JSON.parse(rule.event_pattern as string)).toEqual({ source: ['aws.agreement-marketplace'] });
    expect(rule.event_bus_name).toBeUndefined();
  });

  it('go to marketplace-agreement-events, retried for a day, then to a dead-letter queue', () => {
    expect(target).toMatchObject({
      rule: ref('aws_cloudwatch_event_rule', ruleName, 'name'),
      arn: ref('aws_lambda_function', agreementEvents.name, 'arn'),
      retry_policy: { maximum_retry_attempts: 185, maximum_event_age_in_seconds: 86400 },
      dead_letter_config: { arn: dlqArn },
    });
    expect(dlqArn).toMatch(/marketplace_agreement-dlq_queue/);
  });

  it('may invoke the function for this rule only', () => {
    const permission = Object.values(resourcesOfType(stack, 'aws_lambda_permission')).find((p) => p.function_name === ref('aws_lambda_function', agreementEvents.name, 'function_name'));
    expect(permission).toMatchObject({ principal: 'events.amazonaws.com', action: 'lambda:InvokeFunction', source_arn: ruleArn });
    expect(permission!.count).toBeUndefined();
  });

  it('failed runs are retried by Lambda, then kept in the same dead-letter queue, which only this rule may feed', () => {
    const [, config] = Object.entries(resourcesOfType(stack, 'aws_lambda_function_event_invoke_config'))
      .find(([, c]) => c.function_name === ref('aws_lambda_function', agreementEvents.name, 'function_name'))!;
    expect(config).toMatchObject({ maximum_retry_attempts: 2, destination_config: { on_failure: { destination: dlqArn } } });
    const [, policy] = resourceNamed(stack, 'aws_sqs_queue_policy', 'agreement-dlq');
    expect(documentStatements(stack, policy.policy as string)).toEqual([expect.objectContaining({
      principals: [{ type: 'Service', identifiers: ['events.amazonaws.com'] }],
      actions: ['sqs:SendMessage'],
      resources: [dlqArn],
      condition: [{ test: 'ArnEquals', variable: 'aws:SourceArn', values: [ruleArn] }],
    })]);
  });
});

describe('onboarding', () => {
  const [ruleName, rule] = resourceNamed(stack, 'aws_cloudwatch_event_rule', 'onboarding');
  const [, functionTarget] = resourceNamed(stack, 'aws_cloudwatch_event_target', 'onboarding_function-target');
  const [, apiTarget] = resourceNamed(stack, 'aws_cloudwatch_event_target', 'onboarding_api-destination-target');
  const [connectionName, connection] = resourceNamed(stack, 'aws_cloudwatch_event_connection', 'onboarding');
  const [destinationName, destination] = resourceNamed(stack, 'aws_cloudwatch_event_api_destination', 'onboarding');
  const [dlqName] = resourceNamed(stack, 'aws_sqs_queue', 'marketplace_onboarding_dlq');
  const dlqArn = ref('aws_sqs_queue', dlqName, 'arn');
  const usesApi = '${(length(var.onboarding_url) >= 1) ? 1 : 0}';
  const usesFunction = '${(length(var.onboarding_url) >= 1) ? 0 : 1}';

  it('listens on the Marketplace bus for New AWS Marketplace Subscriber events we publish', () => {
    expect(rule.event_bus_name).toBe(ref('aws_cloudwatch_event_bus', busName, 'name'));
    expect(JSON.parse(rule.event_pattern as string)).toEqual({ source: [CONTROL_PLANE_EVENT_SOURCE], 'detail-type': ['New AWS Marketplace Subscriber'] });
  });

  it('is switched by onboarding_url: the API destination when set, the built-in function when empty', () => {
    expect(stack.variable.onboarding_url).toMatchObject({ type: 'string', default: '' });
    expect(stack.variable.onboarding_api_key).toMatchObject({ type: 'string', default: '', sensitive: true });
    for (const counted of [apiTarget, connection, destination, resourceNamed(stack, 'aws_iam_role', 'onboarding_api-destination-role')[1], resourceNamed(stack, 'aws_iam_role_policy', 'onboarding_api-destination-role-policy')[1]]) {
      expect(counted.count).toBe(usesApi);
    }
    expect(functionTarget.count).toBe(usesFunction);
    const permission = Object.values(resourcesOfType(stack, 'aws_lambda_permission')).find((p) => p.function_name === ref('aws_lambda_function', onboarding.name, 'function_name'));
    expect(permission).toMatchObject({ count: usesFunction, principal: 'events.amazonaws.com', source_arn: ref('aws_cloudwatch_event_rule', ruleName, 'arn') });
  });

  it('calls the onboarding API with the API key in x-api-key, and refuses a URL without a key', () => {
    expect(connection).toMatchObject({ authorization_type: 'API_KEY', auth_parameters: { api_key: { key: 'x-api-key', value: '${var.onboarding_api_key}' } } });
    expect(connection.lifecycle).toEqual({ precondition: [{ condition: '${(length(var.onboarding_api_key) >= 1)}', error_message: expect.stringContaining('onboarding_api_key must be set') }] });
    expect(destination).toMatchObject({ invocation_endpoint: '${var.onboarding_url}', http_method: 'POST', connection_arn: ref0('aws_cloudwatch_event_connection', connectionName, 'arn') });
  });

  it('reshapes the event for the onboarding API as the AWS Marketplace SaaS quick start does', () => {
    const transformer = apiTarget.input_transformer as { input_paths: Record<string, string>; input_template: string };
    expect(transformer.input_paths).toEqual({
      tenantName: '$.detail.companyName',
      tenantEmail: '$.detail.contactEmail',
      tenantPhone: '$.detail.contactPhone',
      customerId: '$.detail.tenantId',
      tenantTier: '$.detail.tenantTier',
    });
    expect(ONBOARDING_INPUT_PATHS).toEqual(transformer.input_paths);
    // Once EventBridge fills the placeholders, the body is JSON with one field per variable.
    const filled = transformer.input_template.replace(/<([A-Za-z]+)>/g, (_, name: string) => `value of ${name}`);
    expect(Object.keys(JSON.parse(filled)).sort()).toEqual(Object.keys(transformer.input_paths).sort());
  });

  it('uses a role EventBridge may assume that may only invoke that API destination', () => {
    const [roleName, role] = resourceNamed(stack, 'aws_iam_role', 'onboarding_api-destination-role');
    expect(apiTarget.role_arn).toBe(ref0('aws_iam_role', roleName, 'arn'));
    expect(apiTarget.arn).toBe(ref0('aws_cloudwatch_event_api_destination', destinationName, 'arn'));
    const [trust] = documentStatements(stack, role.assume_role_policy as string);
    expect(trust.principals).toEqual([{ type: 'Service', identifiers: ['events.amazonaws.com'] }]);
    expect(roleStatements(roleName)).toEqual([{ effect: 'Allow', actions: ['events:InvokeApiDestination'], resources: [ref0('aws_cloudwatch_event_api_destination', destinationName, 'arn')] }]);
  });

  it('retries either target for a day, then dead-letters the event; a failed run of the function too', () => {
    for (const target of [apiTarget, functionTarget]) {
      expect(target).toMatchObject({ rule: ref('aws_cloudwatch_event_rule', ruleName, 'name'), retry_policy: { maximum_retry_attempts: 185, maximum_event_age_in_seconds: 86400 }, dead_letter_config: { arn: dlqArn } });
    }
    expect(functionTarget.arn).toBe(ref('aws_lambda_function', onboarding.name, 'arn'));
    expect(deadLetterQueueOf(onboarding.name)).toBe(dlqArn);
  });

  it('gives the built-in function the user pool and the right to create and read its users only', () => {
    const [poolName] = resourceNamed(stack, 'aws_cognito_user_pool', 'user-pool');
    expect((onboarding.fn.environment as { variables: Record<string, string> }).variables.USER_POOL_ID).toBe(ref('aws_cognito_user_pool', poolName, 'id'));
    expect(grants(onboarding.role)).toMatchObject({
      'cognito-idp:AdminCreateUser': [ref('aws_cognito_user_pool', poolName, 'arn')],
      'cognito-idp:AdminGetUser': [ref('aws_cognito_user_pool', poolName, 'arn')],
    });
  });
});

describe('registration page', () => {
  it('has its concurrency reserved (and capped) by the variable', () => {
    expect(registration.fn.reserved_concurrent_executions).toBe('${var.registration_reserved_concurrency}');
    expect(stack.variable.registration_reserved_concurrency).toMatchObject({ type: 'number', default: 10 });
  });

  it('resolves customers in us-east-1 and raises an alarm when it fails', () => {
    expect((registration.fn.environment as { variables: Record<string, string> }).variables.MARKETPLACE_REGION).toBe('us-east-1');
    const [, alarm] = resourceNamed(stack, 'aws_cloudwatch_metric_alarm', 'registration-errors');
    expect(alarm).toMatchObject({ namespace: 'AWS/Lambda', metric_name: 'Errors', dimensions: { FunctionName: ref('aws_lambda_function', registration.name, 'function_name') }, threshold: 0, alarm_actions: [topicArn] });
  });

  it('is the fulfilment URL output', () => {
    expect(stack.output.MarketplaceRegistrationUrl.value).toMatch(/^\$\{aws_api_gateway_stage\.[^.]+\.invoke_url\}\/marketplace\/register$/);
  });
});

describe('metering', () => {
  const [, schedule] = resourceNamed(stack, 'aws_scheduler_schedule', 'marketplace_metering');
  const [groupName] = resourceNamed(stack, 'aws_scheduler_schedule_group', 'marketplace_metering');
  const dlqArn = deadLetterQueueOf(metering.name);

  it('runs every hour, five minutes after the aggregation, in a schedule group of its own', () => {
    expect(schedule).toMatchObject({
      name: '${var.name_prefix}-marketplace-metering',
      schedule_expression: 'cron(${((var.aggregation_schedule_minute + 5) % 60)} * * * ? *)',
      schedule_expression_timezone: 'UTC',
      flexible_time_window: { mode: 'OFF' },
      group_name: ref('aws_scheduler_schedule_group', groupName, 'name'),
    });
    const [, aggregation] = resourceNamed(stack, 'aws_scheduler_schedule', 'usage-aggregation');
    expect(aggregation.schedule_expression).toBe('cron(${var.aggregation_schedule_minute} * * * ? *)');
  });

  it('has the failure path of the hourly jobs: scheduler retries, Lambda retries, one dead-letter queue', () => {
    expect(schedule.target).toMatchObject({
      arn: ref('aws_lambda_function', metering.name, 'arn'),
      input: '{}',
      retry_policy: { maximum_retry_attempts: 3, maximum_event_age_in_seconds: 3600 },
      dead_letter_config: { arn: dlqArn },
    });
    expect(dlqArn).toMatch(/marketplace_metering_dlq/);
    const [, errors] = resourceNamed(stack, 'aws_cloudwatch_metric_alarm', 'marketplace_metering_errors');
    expect(errors).toMatchObject({ alarm_name: '${var.name_prefix}-marketplace-metering-errors', metric_name: 'Errors', dimensions: { FunctionName: ref('aws_lambda_function', metering.name, 'function_name') } });
  });

  it('publishes its metrics where the alarms read them (Powertools: namespace and service dimension)', () => {
    const variables = (metering.fn.environment as { variables: Record<string, string> }).variables;
    expect(variables.METRICS_NAMESPACE).toBe(METERING_METRICS.namespace);
    expect(variables.POWERTOOLS_SERVICE_NAME).toBe('marketplace-metering');
    const source = fs.readFileSync(path.join(PROJECT_ROOT, 'functions', 'marketplace-metering', 'index.ts'), 'utf8');
    expect(source).toMatch(/new Metrics\(\{[^}]*serviceName: 'marketplace-metering'/);
    expect(source).toContain(`'${METERING_METRICS.customerNotSubscribed}'`);
    expect(source).toContain(`'${METERING_METRICS.oldestUnsentHourAge}'`);
    expect(source).toContain(`'${METERING_METRICS.recordsRejected}'`);
  });

  it('raises an alarm when Marketplace refuses records on their own', () => {
    const [, alarm] = resourceNamed(stack, 'aws_cloudwatch_metric_alarm', 'rejected-records');
    expect(alarm).toMatchObject({ namespace: 'SaaSMetering', metric_name: 'RecordsRejected', dimensions: { service: 'marketplace-metering' }, statistic: 'Sum', threshold: 0, comparison_operator: 'GreaterThanThreshold', alarm_actions: [topicArn] });
  });

  it('raises an alarm when Marketplace refuses a customer as not subscribed', () => {
    const [, alarm] = resourceNamed(stack, 'aws_cloudwatch_metric_alarm', 'customer-not-subscribed');
    expect(alarm).toMatchObject({
      namespace: 'SaaSMetering',
      metric_name: 'CustomerNotSubscribed',
      dimensions: { service: 'marketplace-metering' },
      statistic: 'Sum',
      threshold: 0,
      comparison_operator: 'GreaterThanThreshold',
      alarm_actions: [topicArn],
    });
  });

  it('raises an alarm when usage stays unsent for unsent_usage_alarm_hours', () => {
    const [, alarm] = resourceNamed(stack, 'aws_cloudwatch_metric_alarm', 'unsent-usage');
    expect(alarm).toMatchObject({
      namespace: 'SaaSMetering',
      metric_name: 'OldestUnsentHourAgeHours',
      dimensions: { service: 'marketplace-metering' },
      statistic: 'Maximum',
      threshold: '${var.unsent_usage_alarm_hours}',
      comparison_operator: 'GreaterThanOrEqualToThreshold',
      alarm_actions: [topicArn],
    });
    expect(stack.variable.unsent_usage_alarm_hours).toMatchObject({ type: 'number', default: 3 });
  });
});

describe('final usage', () => {
  const [ruleName, rule] = resourceNamed(stack, 'aws_cloudwatch_event_rule', 'final-usage');
  const ruleArn = ref('aws_cloudwatch_event_rule', ruleName, 'arn');
  const [, target] = resourceNamed(stack, 'aws_cloudwatch_event_target', 'final-usage');
  const [finalQueueName, finalQueue] = resourceNamed(stack, 'aws_sqs_queue', 'marketplace_final-usage_queue');
  const finalQueueArn = ref('aws_sqs_queue', finalQueueName, 'arn');
  const [dlqName, dlq] = resourceNamed(stack, 'aws_sqs_queue', 'marketplace_final-usage_dlq');
  const dlqArn = ref('aws_sqs_queue', dlqName, 'arn');

  it('listens on the Marketplace bus for the AWS Marketplace Unsubscribe Pending events we publish', () => {
    expect(rule.event_bus_name).toBe(ref('aws_cloudwatch_event_bus', busName, 'name'));
    expect(JSON.parse(rule.event_pattern as string)).toEqual({ source: ['saas-metering.marketplace'], 'detail-type': ['AWS Marketplace Unsubscribe Pending'] });
    expect(CONTROL_PLANE_EVENT_SOURCE).toBe('saas-metering.marketplace');
  });

  it('goes to a 15-minute delay queue, retried for a day, then to a dead-letter queue', () => {
    expect(target).toMatchObject({
      rule: ref('aws_cloudwatch_event_rule', ruleName, 'name'),
      event_bus_name: ref('aws_cloudwatch_event_bus', busName, 'name'),
      arn: finalQueueArn,
      retry_policy: { maximum_retry_attempts: 185, maximum_event_age_in_seconds: 86400 },
      dead_letter_config: { arn: dlqArn },
    });
    expect(target.depends_on).toEqual([expect.stringMatching(/^aws_sqs_queue_policy\.marketplace_final-usage_queue-policy/)]);
  });

  it('the delay queue holds messages 900 s, is encrypted, redrives after 3 receives, and hides a message 6 times the function timeout', () => {
    expect(finalQueue).toMatchObject({
      name: '${var.name_prefix}-marketplace-final-usage',
      delay_seconds: 900,
      sqs_managed_sse_enabled: true,
      redrive_policy: `\${jsonencode({"deadLetterTargetArn" = aws_sqs_queue.${dlqName}.arn, "maxReceiveCount" = 3})}`,
    });
    expect(finalQueue.visibility_timeout_seconds).toBeGreaterThanOrEqual(6 * (finalUsage.fn.timeout as number));
    expect(dlq).toMatchObject({ name: '${var.name_prefix}-marketplace-final-usage-dlq', sqs_managed_sse_enabled: true, message_retention_seconds: 1209600 });
    expect(dlq.message_retention_seconds as number).toBeGreaterThan(finalQueue.message_retention_seconds as number);
  });

  it('may be sent to only by the rule, and its dead-letter queue fed only by the rule', () => {
    const [, policy] = resourceNamed(stack, 'aws_sqs_queue_policy', 'marketplace_final-usage_queue-policy');
    expect(policy.queue_url).toBe(ref('aws_sqs_queue', finalQueueName, 'url'));
    expect(policy.count).toBeUndefined();
    expect(documentStatements(stack, policy.policy as string)).toEqual([{
      sid: 'UnsubscribePendingRuleOnly',
      effect: 'Allow',
      principals: [{ type: 'Service', identifiers: ['events.amazonaws.com'] }],
      actions: ['sqs:SendMessage'],
      resources: [finalQueueArn],
      condition: [{ test: 'ArnEquals', variable: 'aws:SourceArn', values: [ruleArn] }],
    }]);
    const [, dlqPolicy] = resourceNamed(stack, 'aws_sqs_queue_policy', 'marketplace_final-usage_dlq');
    expect(documentStatements(stack, dlqPolicy.policy as string)).toEqual([expect.objectContaining({
      principals: [{ type: 'Service', identifiers: ['events.amazonaws.com'] }],
      actions: ['sqs:SendMessage'],
      resources: [dlqArn],
      condition: [{ test: 'ArnEquals', variable: 'aws:SourceArn', values: [ruleArn] }],
    })]);
  });

  it('reaches marketplace-final-usage one message at a time with partial batch failures', () => {
    const [, mapping] = resourceNamed(stack, 'aws_lambda_event_source_mapping', 'final-usage');
    expect(mapping).toMatchObject({
      event_source_arn: finalQueueArn,
      function_name: ref('aws_lambda_function', finalUsage.name, 'arn'),
      batch_size: 1,
      function_response_types: ['ReportBatchItemFailures'],
    });
    expect(mapping.depends_on).toEqual([expect.stringMatching(/^aws_iam_role_policy\.marketplace_final-usage_consume/)]);
  });

  it('runs for up to 10 minutes with 512 MB, told where the tables, the workgroup and the lake are', () => {
    expect(finalUsage.fn).toMatchObject({ timeout: 300, memory_size: 512 });
    const [workGroupName] = resourceNamed(stack, 'aws_athena_workgroup', 'usage-lake');
    const [databaseName] = resourceNamed(stack, 'aws_glue_catalog_database', 'usage-lake');
    expect((finalUsage.fn.environment as { variables: Record<string, string> }).variables).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_METRICS_NAMESPACE: 'SaaSMetering/Tenants',
      POWERTOOLS_SERVICE_NAME: 'marketplace-final-usage',
      USAGE_TABLE: ref('aws_dynamodb_table', usageTableName, 'name'),
      TENANT_TABLE: ref('aws_dynamodb_table', tenantTableName, 'name'),
      ATHENA_WORKGROUP: ref('aws_athena_workgroup', workGroupName, 'name'),
      USAGE_DATABASE: ref('aws_glue_catalog_database', databaseName, 'name'),
      METRICS_NAMESPACE: METERING_METRICS.namespace,
    });
  });

  it('raises an alarm when the function fails', () => {
    const [, alarm] = resourceNamed(stack, 'aws_cloudwatch_metric_alarm', 'final-usage-errors');
    expect(alarm).toMatchObject({
      alarm_name: '${var.name_prefix}-marketplace-final-usage-errors',
      namespace: 'AWS/Lambda',
      metric_name: 'Errors',
      dimensions: { FunctionName: ref('aws_lambda_function', finalUsage.name, 'function_name') },
      statistic: 'Sum',
      threshold: 0,
      comparison_operator: 'GreaterThanThreshold',
      alarm_actions: [topicArn],
    });
  });
});

describe('least privilege', () => {
  it.each(Object.entries(marketplaceFunctions))('%s: no wildcard action, and "*" only as the resource of an action without resource-level permissions', (_, { role }) => {
    const statements = roleStatements(role);
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      expect(statement.effect).toBe('Allow');
      for (const action of statement.actions) expect(action).not.toMatch(/\*/);
      if (statement.resources.includes('*')) {
        expect(statement.resources).toEqual(['*']);
        for (const action of statement.actions) expect(STAR_RESOURCE_EXCEPTIONS[action]).toContain(role);
      }
      for (const resource of statement.resources) expect(resource === '*' || !resource.includes('*') || WILDCARD_RESOURCE.test(resource)).toBe(true);
    }
  });

  it('allows BatchMeterUsage to the metering and final-usage roles only and ResolveCustomer to the registration role only', () => {
    const roles = Object.keys(resourcesOfType(stack, 'aws_iam_role'));
    const holders = (action: string) => roles.filter((role) => roleStatements(role).some((s) => s.actions.includes(action))).sort();
    expect(holders('aws-marketplace:BatchMeterUsage')).toEqual([metering.role, finalUsage.role].sort());
    expect(holders('aws-marketplace:ResolveCustomer')).toEqual([registration.role]);
    const marketplaceActions = roles.flatMap((role) => roleStatements(role).flatMap((s) => s.actions)).filter((a) => a.startsWith('aws-marketplace:'));
    expect([...new Set(marketplaceActions)].sort()).toEqual(Object.keys(STAR_RESOURCE_EXCEPTIONS).sort());
  });

  it('metering: reads and marks the usage table and its index, reads tenants, sends usage, dead-letters', () => {
    expect(grants(metering.role)).toEqual({
      'logs:CreateLogStream': [expect.stringMatching(/marketplace-metering_logs/)],
      'logs:PutLogEvents': [expect.stringMatching(/marketplace-metering_logs/)],
      'dynamodb:GetItem': [usageTableArn, tenantTableArn].sort(),
      'dynamodb:UpdateItem': [usageTableArn],
      'dynamodb:DeleteItem': [usageTableArn],
      'dynamodb:Query': [usageTableArn, `${usageTableArn}/index/*`].sort(),
      'aws-marketplace:BatchMeterUsage': ['*'],
      'sqs:SendMessage': [deadLetterQueueOf(metering.name)],
      'kms:Decrypt': kmsGrant,
      'kms:GenerateDataKey': kmsGrant,
    });
  });

  it('registration: sessions and tenants in the tenant table, events to the bus, ResolveCustomer', () => {
    expect(grants(registration.role)).toEqual({
      'logs:CreateLogStream': [expect.stringMatching(/marketplace-registration_logs/)],
      'logs:PutLogEvents': [expect.stringMatching(/marketplace-registration_logs/)],
      'dynamodb:GetItem': [tenantTableArn],
      'dynamodb:PutItem': [tenantTableArn],
      'dynamodb:UpdateItem': [tenantTableArn],
      'dynamodb:DeleteItem': [tenantTableArn],
      'events:PutEvents': [busArn],
      'aws-marketplace:ResolveCustomer': ['*'],
      'kms:Decrypt': kmsGrant,
      'kms:GenerateDataKey': kmsGrant,
    });
  });

  it('subscriptions: tenants, events to the bus, consuming the notification queue', () => {
    expect(grants(subscriptions.role)).toEqual({
      'logs:CreateLogStream': [expect.stringMatching(/marketplace-subscriptions_logs/)],
      'logs:PutLogEvents': [expect.stringMatching(/marketplace-subscriptions_logs/)],
      'dynamodb:GetItem': [tenantTableArn],
      'dynamodb:PutItem': [tenantTableArn],
      'dynamodb:UpdateItem': [tenantTableArn],
      'events:PutEvents': [busArn],
      'sqs:ReceiveMessage': [queueArn],
      'sqs:DeleteMessage': [queueArn],
      'sqs:GetQueueAttributes': [queueArn],
      'kms:Decrypt': kmsGrant,
      'kms:GenerateDataKey': kmsGrant,
    });
  });

  it('agreement events: tenants, events to the bus, its dead-letter queue', () => {
    expect(grants(agreementEvents.role)).toEqual({
      'logs:CreateLogStream': [expect.stringMatching(/marketplace-agreement-events_logs/)],
      'logs:PutLogEvents': [expect.stringMatching(/marketplace-agreement-events_logs/)],
      'dynamodb:GetItem': [tenantTableArn],
      'dynamodb:PutItem': [tenantTableArn],
      'dynamodb:UpdateItem': [tenantTableArn],
      'events:PutEvents': [busArn],
      'sqs:SendMessage': [deadLetterQueueOf(agreementEvents.name)],
      'kms:Decrypt': kmsGrant,
      'kms:GenerateDataKey': kmsGrant,
    });
  });

  it('final usage: queries the lake as the aggregator does, records and sends usage, reads tenants, consumes its queue', () => {
    const [workGroupName] = resourceNamed(stack, 'aws_athena_workgroup', 'usage-lake');
    const workGroupArn = ref('aws_athena_workgroup', workGroupName, 'arn');
    const [bucketName] = resourceNamed(stack, 'aws_s3_bucket', 'usage-lake');
    const bucketArn = ref('aws_s3_bucket', bucketName, 'arn');
    const glue = grants(aggregator.role)['glue:GetTable'];
    expect(glue).toEqual([expect.stringMatching(/:catalog$/), expect.stringMatching(/:database\/[^/]+$/), expect.stringMatching(/:table\/[^/]+\/\*$/)].sort());
    const [finalQueueName] = resourceNamed(stack, 'aws_sqs_queue', 'marketplace_final-usage_queue');
    const finalQueueArn = ref('aws_sqs_queue', finalQueueName, 'arn');
    expect(grants(finalUsage.role)).toEqual({
      'logs:CreateLogStream': [expect.stringMatching(/marketplace-final-usage_logs/)],
      'logs:PutLogEvents': [expect.stringMatching(/marketplace-final-usage_logs/)],
      'athena:StartQueryExecution': [workGroupArn],
      'athena:GetQueryExecution': [workGroupArn],
      'athena:GetQueryResults': [workGroupArn],
      'athena:StopQueryExecution': [workGroupArn],
      'glue:GetDatabase': glue,
      'glue:GetTable': glue,
      'glue:GetPartitions': glue,
      's3:ListBucket': [bucketArn],
      's3:GetBucketLocation': [bucketArn],
      's3:GetObject': [`${bucketArn}/athena-results/*`, `${bucketArn}/tables/*`].sort(),
      's3:PutObject': [`${bucketArn}/athena-results/*`],
      'dynamodb:GetItem': [usageTableArn, tenantTableArn].sort(),
      'dynamodb:UpdateItem': [usageTableArn],
      'dynamodb:DeleteItem': [usageTableArn],
      'dynamodb:Query': [usageTableArn, `${usageTableArn}/index/*`].sort(),
      'aws-marketplace:BatchMeterUsage': ['*'],
      'sqs:ReceiveMessage': [finalQueueArn],
      'sqs:DeleteMessage': [finalQueueArn],
      'sqs:GetQueueAttributes': [finalQueueArn],
      'kms:Decrypt': kmsGrant,
      'kms:GenerateDataKey': kmsGrant,
    });
    // Exactly the aggregator's Athena, Glue and S3 grants.
    const lakeGrants = (role: string) => Object.fromEntries(Object.entries(grants(role)).filter(([action]) => /^(athena|glue|s3):/.test(action)));
    expect(lakeGrants(finalUsage.role)).toEqual(lakeGrants(aggregator.role));
  });

  it('final usage: gets Lake Formation SELECT and DESCRIBE only when the catalog is governed by it', () => {
    const lakeFormation = Object.values(resourcesOfType(stack, 'aws_lakeformation_permissions')).filter((g) => g.principal === ref('aws_iam_role', finalUsage.role, 'arn'));
    expect(lakeFormation.map((g) => (g.permissions as string[]).slice().sort())).toEqual([['DESCRIBE'], ['DESCRIBE', 'SELECT']]);
    for (const grant of lakeFormation) expect(grant.count).toBe('${var.lake_formation_enabled ? 1 : 0}');
    expect(lakeFormation.find((g) => g.table)).toMatchObject({ table: { wildcard: true } });
  });

  it('onboarding: users of the user pool, its dead-letter queue', () => {
    expect(Object.keys(grants(onboarding.role)).sort()).toEqual(['cognito-idp:AdminCreateUser', 'cognito-idp:AdminGetUser', 'logs:CreateLogStream', 'logs:PutLogEvents', 'sqs:SendMessage']);
  });

  it('grants on each table exactly the operations of the DynamoDB adapters the function uses', () => {
    // The lifecycle functions and the registration page use the tenant registry (any of its operations);
    // the registration page also keeps its sessions in the tenant table.
    expect(actionsOn(subscriptions.role, tenantTableArn)).toEqual(dynamoActionsOf('dynamodb-tenant-registry'));
    expect(actionsOn(agreementEvents.role, tenantTableArn)).toEqual(dynamoActionsOf('dynamodb-tenant-registry'));
    expect(actionsOn(registration.role, tenantTableArn)).toEqual(dynamoActionsOf('dynamodb-tenant-registry', 'dynamodb-registration-sessions'));
    // Metering reads tenants only (through the customer directory) and uses the usage store.
    expect(actionsOn(metering.role, tenantTableArn)).toEqual(['dynamodb:GetItem']);
    expect(actionsOn(metering.role, usageTableArn)).toEqual(dynamoActionsOf('dynamodb-usage-store'));
    // Final usage reads tenants only too, and records measurements besides using the usage store.
    expect(actionsOn(finalUsage.role, tenantTableArn)).toEqual(['dynamodb:GetItem']);
    expect(actionsOn(finalUsage.role, usageTableArn)).toEqual(expect.arrayContaining(dynamoActionsOf('dynamodb-usage-store')));
    const directory = fs.readFileSync(path.join(PROJECT_ROOT, 'adapters', 'dynamodb', 'registry-customer-directory.ts'), 'utf8');
    expect([...directory.matchAll(/this\.registry\.([a-zA-Z]+)\(/g)].map((m) => m[1])).toEqual(['get']);
  });

  it('grants the lake key only when one is configured', () => {
    for (const { role } of [metering, registration, subscriptions, agreementEvents, finalUsage]) {
      const kms = Object.values(resourcesOfType(stack, 'aws_iam_role_policy')).filter((p) => p.role === `\${aws_iam_role.${role}.id}` && p.name === 'kms');
      expect(kms).toEqual([expect.objectContaining({ count: '${(length(var.lake_kms_key_arn) >= 1) ? 1 : 0}' })]);
    }
  });

  it.each(Object.entries(marketplaceFunctions))('%s: sets every environment variable its handler requires at cold start', (_, { fn }) => {
    const entry = (fn.environment as { variables: Record<string, string> }).variables.POWERTOOLS_SERVICE_NAME;
    const source = fs.readFileSync(path.join(PROJECT_ROOT, 'functions', entry, 'index.ts'), 'utf8');
    const required = [...source.matchAll(/requiredEnvironment\(\s*process\.env\s*,\s*\[([^\]]*)\]/g)].flatMap((m) => [...m[1].matchAll(/'([A-Z0-9_]+)'/g)].map((n) => n[1]));
    expect(required.length).toBeGreaterThan(0);
    const variables = (fn.environment as { variables: Record<string, string> }).variables;
    for (const name of required) expect(Object.keys(variables)).toContain(name);
  });
});

describe('alarms', () => {
  it('notify the alarm topic, every one of them', () => {
    const alarms = Object.entries(resourcesOfType(stack, 'aws_cloudwatch_metric_alarm')).filter(([name]) => name.startsWith('marketplace_'));
    expect(alarms.map(([, a]) => (a.alarm_name as string).replace('${var.name_prefix}-', '')).sort()).toEqual([
      'marketplace-agreement-events-dlq-not-empty',
      'marketplace-customer-not-subscribed',
      'marketplace-final-usage-dlq-not-empty',
      'marketplace-final-usage-errors',
      'marketplace-metering-dlq-not-empty',
      'marketplace-metering-errors',
      'marketplace-notifications-dlq-not-empty',
      'marketplace-onboarding-dlq-not-empty',
      'marketplace-registration-errors',
      'marketplace-rejected-records',
      'marketplace-unsent-usage',
    ]);
    for (const [, alarm] of alarms) expect(alarm.alarm_actions).toEqual([topicArn]);
  });
});

describe('outputs', () => {
  it('name the tenant table, the bus, the registration URL and the notification queue', () => {
    expect(stack.output.TenantTable.value).toBe(ref('aws_dynamodb_table', tenantTableName, 'name'));
    expect(stack.output.MarketplaceEventBus.value).toBe(ref('aws_cloudwatch_event_bus', busName, 'name'));
    expect(stack.output.MarketplaceSubscriptionQueueUrl.value).toBe(ref('aws_sqs_queue', queueName, 'url'));
    expect(stack.output.MarketplaceRegistrationUrl.value).toBeDefined();
  });
});
