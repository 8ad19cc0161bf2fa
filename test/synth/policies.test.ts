/**
 * Policy checks over every resource of the synthesized stack. Each rule collects its violations as
 * `<resource address>: <what is wrong>` and expects none, so a failure lists every offender at once.
 * Each rule also checks that it looked at something, so that a renamed resource type cannot make it
 * pass by checking nothing.
 */
import { synthStack, type SynthesizedStack } from '../support/synth';

const { parsed: stack } = synthStack();

type Resource = Record<string, unknown>;
type Condition = { test: string; variable: string; values: string[] | string };
type Principal = { type: string; identifiers: string[] };
type Statement = {
  sid?: string;
  effect?: string;
  actions?: string[];
  not_actions?: string[];
  resources?: string[];
  not_resources?: string[];
  principals?: Principal[];
  not_principals?: Principal[];
  condition?: Condition[];
};

// ---------------------------------------------------------------------------------------------
// Reading the synthesized JSON
// ---------------------------------------------------------------------------------------------

/** `[address, resource]` for every resource of a type; the address is `<type>.<name>`. */
function all(type: string, synth: SynthesizedStack = stack): [string, Resource][] {
  return Object.entries(synth.resource[type] ?? {}).map(([name, resource]) => [`${type}.${name}`, resource]);
}

/** The address (`type.name`) a `${type.name[0]?.attribute}` reference points to, if it is one. */
function addressOf(reference: unknown): string | undefined {
  if (typeof reference !== 'string') return undefined;
  const match = /^\$\{((?:data\.)?[a-z0-9_]+\.[^.[\]}]+)(?:\[0\])?\.[a-z_]+\}$/.exec(reference);
  return match?.[1];
}

/** Every resource address a Terraform expression mentions (e.g. inside `jsonencode({...})`). */
function addressesIn(expression: unknown): string[] {
  if (typeof expression !== 'string') return [];
  return [...expression.matchAll(/\b(aws_[a-z0-9_]+\.[A-Za-z0-9_-]+)(?:\[0\])?\.[a-z_]+/g)].map((m) => m[1]);
}

/** A resource of the stack by its address. */
function resourceAt(address: string): Resource | undefined {
  const [type, name] = address.split('.');
  return stack.resource[type]?.[name];
}

/** The default of a `${var.x}` reference, or `undefined` when the value is no plain variable reference. */
function variableDefault(value: unknown): { isVariable: boolean; default?: unknown } {
  const match = typeof value === 'string' ? /^\$\{var\.([a-z0-9_]+)\}$/.exec(value) : null;
  if (!match) return { isVariable: false };
  return { isVariable: true, default: stack.variable[match[1]]?.default };
}

/** A setting that is on: `true`, or a variable whose default is `true` (the operator may turn it off on purpose). */
function isOn(value: unknown): boolean {
  if (value === true) return true;
  const variable = variableDefault(value);
  return variable.isVariable && variable.default === true;
}

/**
 * The statements of a policy: a `${data.aws_iam_policy_document.X[0]?.json}` reference (including its
 * source and override documents) or literal JSON. `undefined` when the policy cannot be read here.
 */
function policyStatements(policy: unknown): Statement[] | undefined {
  if (typeof policy !== 'string') return undefined;
  const match = /^\$\{data\.aws_iam_policy_document\.([^.[]+)(?:\[0\])?\.json\}$/.exec(policy);
  if (match) {
    const document = stack.data.aws_iam_policy_document?.[match[1]] as
      | { statement?: Statement[]; source_policy_documents?: string[]; override_policy_documents?: string[] }
      | undefined;
    if (!document) return undefined;
    const included = [...(document.source_policy_documents ?? []), ...(document.override_policy_documents ?? [])].map(policyStatements);
    if (included.some((statements) => statements === undefined)) return undefined;
    return [...(document.statement ?? []), ...included.flatMap((statements) => statements ?? [])];
  }
  try {
    const parsed = JSON.parse(policy) as { Statement: Record<string, unknown> | Record<string, unknown>[] };
    const list = (value: unknown) => (value === undefined ? undefined : ([] as string[]).concat(value as string[]));
    return ([] as Record<string, unknown>[]).concat(parsed.Statement).map((s) => ({
      sid: s.Sid as string | undefined,
      effect: s.Effect as string,
      actions: list(s.Action),
      not_actions: list(s.NotAction),
      resources: list(s.Resource),
      not_resources: list(s.NotResource),
    }));
  } catch {
    return undefined;
  }
}

const statementName = (statement: Statement, index: number) => statement.sid ?? `statement ${index}`;
const isAllow = (statement: Statement) => (statement.effect ?? 'Allow') === 'Allow';

// ---------------------------------------------------------------------------------------------
// Allow-lists: every exception deliberate, with its reason
// ---------------------------------------------------------------------------------------------

/** Actions an identity policy may grant on resource "*", each with the reason. */
const STAR_RESOURCE_ALLOWED: Record<string, string> = {
  'aws-marketplace:BatchMeterUsage': 'AWS Marketplace Metering supports no resource-level permissions: the action only accepts "*".',
  'aws-marketplace:ResolveCustomer': 'AWS Marketplace Metering supports no resource-level permissions: the action only accepts "*".',
  'logs:GetQueryResults': 'CloudWatch Logs defines no resource type for GetQueryResults (it takes only a query id; Service Authorization Reference): the action only accepts "*". The queries themselves are limited to the consumption log groups by logs:StartQuery.',
  'logs:StopQuery': 'CloudWatch Logs defines no resource type for StopQuery (it takes only a query id; Service Authorization Reference): the action only accepts "*". It can only stop a Logs Insights query, never read or change logs.',
};

/** Methods anyone may call without a Cognito token, each with the reason. */
const PUBLIC_ROUTES: Record<string, string> = {
  'POST /marketplace/register': 'AWS Marketplace posts the buyer to the registration (fulfilment) URL before they have an account; the function verifies the Marketplace token itself.',
};

/** Every route that takes an IAM signature instead of a user-pool token, with the reason. */
const IAM_ROUTES: Record<string, string> = {
  'POST /backend/usage': 'The SaaS provider\'s own backends report usage for any tenant; only principals granted execute-api:Invoke on this route (the BackendCallerPolicyArn output) may call it.',
};

/** The actions a service principal may be given in a KMS key policy. */
const KMS_SERVICE_ACTIONS = new Set(['kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey']);

/** AWS managed policies too broad to attach to any role of the stack. */
const BROAD_MANAGED_POLICY = /:iam::aws:policy\/(?:[A-Za-z0-9_-]+\/)*(?:AdministratorAccess[A-Za-z0-9_-]*|PowerUserAccess|IAMFullAccess|[A-Za-z0-9_-]*FullAccess[A-Za-z0-9_-]*)$/;

// ---------------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------------

describe('1. S3 buckets', () => {
  const buckets = all('aws_s3_bucket');
  /** The companion resources of each type whose `bucket` refers to the bucket at `address`. */
  const companions = (type: string, address: string) => all(type).filter(([, r]) => addressOf(r.bucket) === address);

  it('checks at least one bucket', () => expect(buckets.length).toBeGreaterThan(0));

  it('are encrypted at rest (a server-side-encryption configuration with a default algorithm)', () => {
    const violations: string[] = [];
    for (const [address] of buckets) {
      const configs = companions('aws_s3_bucket_server_side_encryption_configuration', address);
      const encrypted = configs.some(([, c]) => ([] as { apply_server_side_encryption_by_default?: { sse_algorithm?: unknown } }[])
        .concat((c.rule as never) ?? [])
        .some((rule) => Boolean(rule.apply_server_side_encryption_by_default?.sse_algorithm)));
      if (!encrypted) violations.push(`${address}: no server-side-encryption configuration with a default algorithm`);
    }
    expect(violations).toEqual([]);
  });

  it('block every kind of public access', () => {
    const flags = ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets'];
    const violations: string[] = [];
    for (const [address] of buckets) {
      const blocks = companions('aws_s3_bucket_public_access_block', address);
      if (blocks.length === 0) violations.push(`${address}: no public-access block`);
      for (const [blockAddress, block] of blocks) {
        for (const flag of flags) if (block[flag] !== true) violations.push(`${address}: ${blockAddress} has ${flag} = ${JSON.stringify(block[flag])}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('refuse every request without TLS (a bucket policy denying aws:SecureTransport = false)', () => {
    const violations: string[] = [];
    for (const [address] of buckets) {
      const statements = companions('aws_s3_bucket_policy', address).flatMap(([, p]) => policyStatements(p.policy) ?? []);
      const deniesPlainHttp = statements.some((s) => s.effect === 'Deny'
        && (s.condition ?? []).some((c) => c.test === 'Bool' && c.variable === 'aws:SecureTransport' && ([] as string[]).concat(c.values).includes('false'))
        && (s.principals ?? []).some((p) => p.identifiers.includes('*'))
        && (s.actions ?? []).some((a) => a === 's3:*' || a === '*'));
      if (!deniesPlainHttp) violations.push(`${address}: no bucket policy denying s3:* to everyone when aws:SecureTransport is false`);
    }
    expect(violations).toEqual([]);
  });

  it('are versioned', () => {
    const violations: string[] = [];
    for (const [address] of buckets) {
      const enabled = companions('aws_s3_bucket_versioning', address)
        .some(([, v]) => (v.versioning_configuration as { status?: string } | undefined)?.status === 'Enabled');
      if (!enabled) violations.push(`${address}: versioning is not Enabled`);
    }
    expect(violations).toEqual([]);
  });
});

describe('2. DynamoDB tables', () => {
  const tables = all('aws_dynamodb_table');

  it('have point-in-time recovery and deletion protection', () => {
    expect(tables.length).toBeGreaterThan(0);
    const violations: string[] = [];
    for (const [address, table] of tables) {
      if ((table.point_in_time_recovery as { enabled?: unknown } | undefined)?.enabled !== true) violations.push(`${address}: point-in-time recovery is not enabled`);
      if (!isOn(table.deletion_protection_enabled)) {
        violations.push(`${address}: deletion protection is ${JSON.stringify(table.deletion_protection_enabled)} (neither true nor a variable that defaults to true)`);
      }
    }
    expect(violations).toEqual([]);
  });
});

describe('3. queues and topics', () => {
  it('every SQS queue is encrypted (SSE-SQS or a KMS key)', () => {
    const queues = all('aws_sqs_queue');
    expect(queues.length).toBeGreaterThan(0);
    const violations = queues
      .filter(([, q]) => q.sqs_managed_sse_enabled !== true && !q.kms_master_key_id)
      .map(([address]) => `${address}: neither sqs_managed_sse_enabled = true nor a kms_master_key_id`);
    expect(violations).toEqual([]);
  });

  it('every SNS topic is encrypted with a KMS key', () => {
    const topics = all('aws_sns_topic');
    expect(topics.length).toBeGreaterThan(0);
    const violations = topics.filter(([, t]) => !t.kms_master_key_id).map(([address]) => `${address}: no kms_master_key_id`);
    expect(violations).toEqual([]);
  });
});

describe('4. log groups', () => {
  it('every log group expires its events', () => {
    const groups = all('aws_cloudwatch_log_group');
    expect(groups.length).toBeGreaterThan(0);
    const violations: string[] = [];
    for (const [address, group] of groups) {
      const retention = group.retention_in_days;
      const variable = variableDefault(retention);
      // 0 (or no value) means "never expire".
      const effective = variable.isVariable ? variable.default : retention;
      if (typeof effective !== 'number' || effective <= 0) violations.push(`${address}: retention_in_days is ${JSON.stringify(retention)}`);
    }
    expect(violations).toEqual([]);
  });
});

describe('5. asynchronous paths: a dead-letter queue, and an alarm on it', () => {
  const invokeConfigs = all('aws_lambda_function_event_invoke_config');
  const schedules = all('aws_scheduler_schedule');
  const targets = all('aws_cloudwatch_event_target');
  const mappings = all('aws_lambda_event_source_mapping');

  const onFailureOf = (config: Resource) => (config.destination_config as { on_failure?: { destination?: string } } | undefined)?.on_failure?.destination;
  const scheduleDeadLetterOf = (schedule: Resource) => (schedule.target as { dead_letter_config?: { arn?: string } } | undefined)?.dead_letter_config?.arn;
  const targetDeadLetterOf = (target: Resource) => (target.dead_letter_config as { arn?: string } | undefined)?.arn;
  const redriveTargetsOf = (queue: Resource | undefined) => addressesIn(queue?.redrive_policy).filter((a) => a.startsWith('aws_sqs_queue.'));

  /** Every queue of the stack used as a dead-letter queue → where it is used as one. */
  function deadLetterQueues(): Map<string, string[]> {
    const uses = new Map<string, string[]>();
    const use = (queue: string | undefined, by: string) => {
      if (queue?.startsWith('aws_sqs_queue.')) uses.set(queue, [...(uses.get(queue) ?? []), by]);
    };
    for (const [address, config] of invokeConfigs) use(addressOf(onFailureOf(config)), address);
    for (const [address, schedule] of schedules) use(addressOf(scheduleDeadLetterOf(schedule)), address);
    for (const [address, target] of targets) use(addressOf(targetDeadLetterOf(target)), address);
    // Every redrive policy, whether a function consumes its queue or not.
    for (const [address, queue] of all('aws_sqs_queue')) for (const target of redriveTargetsOf(queue)) use(target, address);
    return uses;
  }

  it('every asynchronous Lambda invocation config sends failures to a destination', () => {
    expect(invokeConfigs.length).toBeGreaterThan(0);
    const violations = invokeConfigs.filter(([, config]) => !onFailureOf(config)).map(([address]) => `${address}: no destination_config.on_failure`);
    expect(violations).toEqual([]);
  });

  it('every EventBridge Scheduler target and EventBridge rule target has a dead-letter queue', () => {
    expect(schedules.length + targets.length).toBeGreaterThan(0);
    const violations = [
      ...schedules.filter(([, schedule]) => !scheduleDeadLetterOf(schedule)).map(([address]) => `${address}: target has no dead_letter_config`),
      ...targets.filter(([, target]) => !targetDeadLetterOf(target)).map(([address]) => `${address}: no dead_letter_config`),
    ];
    expect(violations).toEqual([]);
  });

  it('every queue a function consumes has a redrive policy', () => {
    expect(mappings.length).toBeGreaterThan(0);
    const violations: string[] = [];
    for (const [address, mapping] of mappings) {
      const source = addressOf(mapping.event_source_arn);
      if (!source?.startsWith('aws_sqs_queue.')) continue;
      if (redriveTargetsOf(resourceAt(source)).length === 0) violations.push(`${address}: its source queue ${source} has no redrive_policy to a queue of the stack`);
    }
    expect(violations).toEqual([]);
  });

  it('every dead-letter queue has an alarm on ApproximateNumberOfMessagesVisible', () => {
    const queues = deadLetterQueues();
    expect(queues.size).toBeGreaterThan(0);
    const alarms = all('aws_cloudwatch_metric_alarm');
    const violations: string[] = [];
    for (const [queue, users] of queues) {
      const alarmed = alarms.some(([, alarm]) => alarm.namespace === 'AWS/SQS'
        && alarm.metric_name === 'ApproximateNumberOfMessagesVisible'
        && addressOf((alarm.dimensions as { QueueName?: string } | undefined)?.QueueName) === queue
        && Array.isArray(alarm.alarm_actions) && alarm.alarm_actions.length > 0);
      if (!alarmed) violations.push(`${queue} (dead-letter queue of ${users.join(', ')}): no alarm with actions on ApproximateNumberOfMessagesVisible`);
    }
    expect(violations).toEqual([]);
  });
});

describe('6. IAM', () => {
  /** Every identity policy of the stack: `[address, policy]`. */
  const identityPolicies: [string, unknown][] = [
    ...['aws_iam_role_policy', 'aws_iam_policy', 'aws_iam_user_policy', 'aws_iam_group_policy']
      .flatMap((type) => all(type).map(([address, r]): [string, unknown] => [address, r.policy])),
    ...all('aws_iam_role').flatMap(([address, role]) => ([] as { name?: string; policy?: unknown }[])
      .concat((role.inline_policy as never) ?? [])
      .map((inline): [string, unknown] => [`${address} (inline policy ${inline.name ?? ''})`, inline.policy])),
  ];

  it('identity policies: no wildcard action, and "*" as resource only for the actions that support nothing else', () => {
    expect(identityPolicies.length).toBeGreaterThan(0);
    const violations: string[] = [];
    for (const [address, policy] of identityPolicies) {
      const statements = policyStatements(policy);
      if (!statements) {
        violations.push(`${address}: policy ${JSON.stringify(policy)} cannot be read (neither a policy document of the stack nor JSON)`);
        continue;
      }
      statements.forEach((statement, index) => {
        if (!isAllow(statement)) return;
        const where = `${address}: ${statementName(statement, index)}`;
        if (statement.not_actions) violations.push(`${where} allows NotAction ${JSON.stringify(statement.not_actions)}`);
        if (statement.not_resources) violations.push(`${where} allows on NotResource ${JSON.stringify(statement.not_resources)}`);
        const actions = statement.actions ?? [];
        for (const action of actions) if (action === '*' || /^[a-z0-9-]+:\*$/i.test(action)) violations.push(`${where} allows the wildcard action ${action}`);
        if ((statement.resources ?? []).includes('*')) {
          for (const action of actions.filter((a) => !(a in STAR_RESOURCE_ALLOWED))) violations.push(`${where} allows ${action} on resource "*"`);
        }
      });
    }
    expect(violations).toEqual([]);
  });

  it('the "*"-resource allow-list is used, entry by entry (no stale exception)', () => {
    const starActions = identityPolicies.flatMap(([, policy]) => (policyStatements(policy) ?? [])
      .filter((s) => isAllow(s) && (s.resources ?? []).includes('*'))
      .flatMap((s) => s.actions ?? []));
    expect(Object.keys(STAR_RESOURCE_ALLOWED).filter((action) => !starActions.includes(action))).toEqual([]);
  });

  it('KMS key policies: kms:* only for the account root, service principals only Decrypt/GenerateDataKey/DescribeKey with a source condition', () => {
    const keys = all('aws_kms_key');
    expect(keys.length).toBeGreaterThan(0);
    const accountRoot = /^arn:[^:]+:iam::\$\{data\.aws_caller_identity\.[^.]+\.account_id\}:root$/;
    const violations: string[] = [];
    for (const [address, key] of keys) {
      if (key.policy === undefined) continue; // the default key policy: the account root only
      const statements = policyStatements(key.policy);
      if (!statements) {
        violations.push(`${address}: key policy ${JSON.stringify(key.policy)} cannot be read`);
        continue;
      }
      statements.forEach((statement, index) => {
        if (!isAllow(statement)) return;
        const where = `${address}: ${statementName(statement, index)}`;
        const principals = statement.principals ?? [];
        const actions = statement.actions ?? [];
        const isRootOnly = principals.length > 0 && principals.every((p) => p.type === 'AWS' && p.identifiers.every((id) => accountRoot.test(id)));
        if (statement.not_actions || statement.not_principals) violations.push(`${where} uses NotAction or NotPrincipal`);
        if (principals.length === 0 || principals.some((p) => p.identifiers.includes('*'))) violations.push(`${where} allows any principal`);
        if (!isRootOnly) {
          for (const action of actions) if (action === '*' || action === 'kms:*') violations.push(`${where} allows ${action} to a principal other than the account root`);
        }
        for (const principal of principals.filter((p) => p.type === 'Service')) {
          for (const action of actions.filter((a) => !KMS_SERVICE_ACTIONS.has(a))) violations.push(`${where} allows ${action} to the service ${principal.identifiers.join(', ')}`);
          const scoped = (statement.condition ?? []).some((c) => ['aws:SourceAccount', 'aws:SourceArn'].includes(c.variable));
          if (!scoped) violations.push(`${where} allows the service ${principal.identifiers.join(', ')} without an aws:SourceAccount or aws:SourceArn condition`);
        }
      });
    }
    expect(violations).toEqual([]);
  });

  it('no broad AWS managed policy is attached', () => {
    const attached: [string, unknown][] = [
      ...['aws_iam_role_policy_attachment', 'aws_iam_policy_attachment', 'aws_iam_user_policy_attachment', 'aws_iam_group_policy_attachment']
        .flatMap((type) => all(type).map(([address, r]): [string, unknown] => [address, r.policy_arn])),
      ...all('aws_iam_role_policy_attachments_exclusive').flatMap(([address, r]) => ((r.policy_arns as unknown[]) ?? []).map((arn): [string, unknown] => [address, arn])),
      ...all('aws_iam_role').flatMap(([address, r]) => ((r.managed_policy_arns as unknown[]) ?? []).map((arn): [string, unknown] => [address, arn])),
    ];
    const violations = attached
      .filter(([, arn]) => typeof arn === 'string' && BROAD_MANAGED_POLICY.test(arn))
      .map(([address, arn]) => `${address}: attaches ${arn as string}`);
    expect(violations).toEqual([]);
  });
});

describe('7. Cognito', () => {
  it('user pools require passwords of 12+ characters with all four character classes', () => {
    const pools = all('aws_cognito_user_pool');
    expect(pools.length).toBeGreaterThan(0);
    const violations: string[] = [];
    for (const [address, pool] of pools) {
      const policy = (pool.password_policy ?? {}) as Record<string, unknown>;
      if (typeof policy.minimum_length !== 'number' || policy.minimum_length < 12) violations.push(`${address}: minimum_length is ${JSON.stringify(policy.minimum_length)}`);
      for (const flag of ['require_lowercase', 'require_uppercase', 'require_numbers', 'require_symbols']) {
        if (policy[flag] !== true) violations.push(`${address}: ${flag} is ${JSON.stringify(policy[flag])}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('app clients have no secret and cannot write the tenant of their user', () => {
    const clients = all('aws_cognito_user_pool_client');
    expect(clients.length).toBeGreaterThan(0);
    const violations: string[] = [];
    for (const [address, client] of clients) {
      if (client.generate_secret === true) violations.push(`${address}: generates a client secret`);
      // Without write_attributes, a client may write every writable attribute.
      if (!Array.isArray(client.write_attributes)) violations.push(`${address}: no write_attributes (every attribute is writable)`);
      else if (client.write_attributes.includes('custom:tenant_id')) violations.push(`${address}: may write custom:tenant_id`);
    }
    expect(violations).toEqual([]);
  });
});

describe('8. API Gateway', () => {
  /** `<METHOD> /<path>` of a method, following its resource's parents up to the API root. */
  function routeOf(method: Resource): string {
    const parts: string[] = [];
    let id = method.resource_id as string;
    for (let depth = 0; depth < 50; depth += 1) {
      const address = addressOf(id);
      if (!address?.startsWith('aws_api_gateway_resource.')) break;
      const resource = resourceAt(address);
      if (!resource) break;
      parts.unshift(resource.path_part as string);
      id = resource.parent_id as string;
    }
    const root = /\.root_resource_id\}$/.test(id) ? '' : `<unresolved ${id}>`;
    return `${method.http_method as string} ${root}/${parts.join('/')}`;
  }

  it('every method but the declared public and IAM routes requires a Cognito user-pool token', () => {
    const methods = all('aws_api_gateway_method');
    expect(methods.length).toBeGreaterThan(0);
    const violations: string[] = [];
    for (const [address, method] of methods) {
      const route = routeOf(method);
      if (route in PUBLIC_ROUTES) {
        if (method.authorization !== 'NONE') violations.push(`${address} (${route}): a declared public route is ${JSON.stringify(method.authorization)}`);
        continue;
      }
      if (route in IAM_ROUTES) {
        if (method.authorization !== 'AWS_IAM') violations.push(`${address} (${route}): a declared IAM route is ${JSON.stringify(method.authorization)}`);
        continue;
      }
      const authorizer = addressOf(method.authorizer_id);
      const authorizerType = authorizer ? resourceAt(authorizer)?.type : undefined;
      if (method.authorization !== 'COGNITO_USER_POOLS') violations.push(`${address} (${route}): authorization is ${JSON.stringify(method.authorization)}`);
      else if (authorizerType !== 'COGNITO_USER_POOLS') violations.push(`${address} (${route}): authorizer ${JSON.stringify(method.authorizer_id)} is no Cognito user-pool authorizer of the stack`);
    }
    expect(violations).toEqual([]);
    // The allow-list names existing routes only.
    const routes = methods.map(([, method]) => routeOf(method));
    expect([...Object.keys(PUBLIC_ROUTES), ...Object.keys(IAM_ROUTES)].filter((route) => !routes.includes(route))).toEqual([]);
  });

  it('every stage throttles every method (method settings on */*)', () => {
    const stages = all('aws_api_gateway_stage');
    expect(stages.length).toBeGreaterThan(0);
    const violations: string[] = [];
    for (const [address, stage] of stages) {
      const throttled = all('aws_api_gateway_method_settings').some(([, settings]) => {
        const values = (settings.settings ?? {}) as Record<string, unknown>;
        return addressOf(settings.stage_name) === address
          && addressOf(settings.rest_api_id) === addressOf(stage.rest_api_id)
          && settings.method_path === '*/*'
          && values.throttling_rate_limit !== undefined && values.throttling_rate_limit !== -1
          && values.throttling_burst_limit !== undefined && values.throttling_burst_limit !== -1;
      });
      if (!throttled) violations.push(`${address}: no aws_api_gateway_method_settings with throttling on */*`);
    }
    expect(violations).toEqual([]);
  });
});

describe('9. Lambda functions', () => {
  const functions = all('aws_lambda_function');

  it('each has a role of its own', () => {
    expect(functions.length).toBeGreaterThan(0);
    const byRole = new Map<string, string[]>();
    for (const [address, fn] of functions) byRole.set(String(addressOf(fn.role) ?? fn.role), [...(byRole.get(String(addressOf(fn.role) ?? fn.role)) ?? []), address]);
    const violations: string[] = [];
    for (const [role, users] of byRole) {
      if (!role.startsWith('aws_iam_role.') || !resourceAt(role)) violations.push(`${users.join(', ')}: role ${role} is no role of the stack`);
      if (users.length > 1) violations.push(`${users.join(', ')}: share the role ${role}`);
    }
    expect(violations).toEqual([]);
  });

  it('each has a log group of the stack', () => {
    const groups = all('aws_cloudwatch_log_group');
    const violations: string[] = [];
    for (const [address, fn] of functions) {
      const configured = (fn.logging_config as { log_group?: string } | undefined)?.log_group;
      // A configured log group must be one of the stack; otherwise Lambda logs to /aws/lambda/<function name>.
      const hasGroup = configured === undefined
        ? groups.some(([, group]) => group.name === `/aws/lambda/${String(fn.function_name)}`)
        : groups.some(([groupAddress]) => addressOf(configured) === groupAddress);
      if (!hasGroup) violations.push(`${address}: no log group of the stack (logging_config.log_group ${JSON.stringify(configured)}, or /aws/lambda/<function name>)`);
    }
    expect(violations).toEqual([]);
  });
});
