/**
 * The policy rules can fail: each case breaks a copy of the synthesized stack (deletes an encryption
 * block, widens a policy, drops a dead-letter queue's alarm…) and expects the rule to report exactly
 * the broken resource, and nothing the unbroken stack does not already show. Where a rule covers a
 * kind of resource, the break is applied to every resource of that kind, one at a time, not to a
 * sample. Properties (fast-check, numRuns in the test names) cover the rules whose input is text:
 * credentials in attributes and environments, and the conditions of switched resources.
 */
import fc from 'fast-check';
import * as rules from '../support/policy-rules';
import { addressOf, deadLetterQueues, StackView, type PolicyRule } from '../support/policy-rules';
import { synthStack, type SynthesizedStack } from '../support/synth';

const { parsed: stack } = synthStack();
const view = new StackView(stack);

type Body = Record<string, any>;
type MutableStack = {
  resource: Record<string, Record<string, Body>>;
  data: Record<string, Record<string, Body>>;
  variable: Record<string, Body>;
  output: Record<string, Body>;
};

// ---------------------------------------------------------------------------------------------
// Breaking copies of the stack
// ---------------------------------------------------------------------------------------------

/** The body of a resource (`type.name`) or data source (`data.type.name`) of a copy. */
function at(copy: MutableStack, address: string): Body {
  const parts = address.split('.');
  const found = parts[0] === 'data' ? copy.data[parts[1]]?.[parts[2]] : copy.resource[parts[0]]?.[parts[1]];
  if (!found) throw new Error(`no ${address} in the stack`);
  return found;
}

/** Removes a resource from a copy. */
function remove(copy: MutableStack, address: string): void {
  const [type, name] = address.split('.');
  delete copy.resource[type][name];
}

/** Adds a resource to a copy. */
function add(copy: MutableStack, type: string, name: string, body: Body): void {
  (copy.resource[type] ??= {})[name] = body;
}

/** The policy document a `${data.aws_iam_policy_document.X[0]?.json}` reference points to, in a copy. */
function documentOf(copy: MutableStack, reference: unknown): { statement: Body[] } {
  const address = addressOf(reference);
  if (!address?.startsWith('data.aws_iam_policy_document.')) throw new Error(`${String(reference)} is no policy document reference`);
  return at(copy, address) as { statement: Body[] };
}

/** A nested attribute of a resource of the stack: `read(address, 'target', 'role_arn')`. */
const read = (address: string, ...path: string[]): unknown => path.reduce<any>((value, key) => value?.[key], view.resourceAt(address));

/** Addresses of every resource of a type in the stack. */
const addresses = (type: string) => view.all(type).map(([address]) => address);

/** The one resource of a type whose address contains `fragment`. */
function one(type: string, fragment: string): string {
  const found = addresses(type).filter((a) => a.includes(fragment));
  if (found.length !== 1) throw new Error(`expected one ${type} matching ${fragment}, found ${found.join(', ') || 'none'}`);
  return found[0];
}

/** Companion resources of a type whose `bucket` refers to the bucket. */
const companionsOf = (type: string, bucket: string) => view.all(type).filter(([, r]) => addressOf(r.bucket) === bucket).map(([a]) => a);

/** A copy of the stack, broken by `mutate`. */
function broken(mutate: (copy: MutableStack) => void): SynthesizedStack {
  const copy = structuredClone(stack) as unknown as MutableStack;
  mutate(copy);
  return copy as unknown as SynthesizedStack;
}

/** The violations a rule reports on a broken copy that it does not report on the stack itself. */
function introduced(rule: PolicyRule, mutate: (copy: MutableStack) => void): string[] {
  const before = new Set(rule.check(stack).violations);
  return rule.check(broken(mutate)).violations.filter((v) => !before.has(v));
}

/** The resource a violation names (its text before the first `: `). */
const subjectOf = (violation: string) => violation.slice(0, violation.indexOf(': '));

/**
 * Expects the rule to report the break: new violations, every one about the given subject(s) and
 * tagged with the rule, at least one containing `fragment` when given.
 */
function expectCaught(rule: PolicyRule, mutate: (copy: MutableStack) => void, subjects: string | string[], fragment?: string): void {
  const found = introduced(rule, mutate);
  expect(found).not.toEqual([]);
  expect([...new Set(found.map(subjectOf))].sort()).toEqual([...new Set(([] as string[]).concat(subjects))].sort());
  expect(found.filter((v) => !v.endsWith(`[${rule.id}]`))).toEqual([]);
  if (fragment !== undefined) expect(found).toContainEqual(expect.stringContaining(fragment));
}

/** Rules that have cases here; the last test checks that every rule has. */
const covered = new Set<string>();

/** Groups the cases of one rule. */
function cases(rule: PolicyRule, body: () => void): void {
  covered.add(rule.id);
  describe(`${rule.id}: ${rule.title}`, body);
}

const buckets = addresses('aws_s3_bucket');
const functions = addresses('aws_lambda_function');
const deadLetters = [...deadLetterQueues(view).entries()];

// ---------------------------------------------------------------------------------------------
// 1. S3
// ---------------------------------------------------------------------------------------------

cases(rules.bucketsEncrypted, () => {
  it.each(buckets)('catches %s without its encryption configuration', (bucket) => {
    expectCaught(rules.bucketsEncrypted, (copy) => companionsOf('aws_s3_bucket_server_side_encryption_configuration', bucket).forEach((c) => remove(copy, c)), bucket, 'no server-side-encryption');
  });
  it.each(buckets)('catches %s with an encryption rule that sets no algorithm', (bucket) => {
    expectCaught(rules.bucketsEncrypted, (copy) => companionsOf('aws_s3_bucket_server_side_encryption_configuration', bucket)
      .forEach((c) => at(copy, c).rule.forEach((r: Body) => delete r.apply_server_side_encryption_by_default.sse_algorithm)), bucket);
  });
});

cases(rules.bucketsPrivate, () => {
  it.each(buckets)('catches %s with block_public_policy off', (bucket) => {
    expectCaught(rules.bucketsPrivate, (copy) => companionsOf('aws_s3_bucket_public_access_block', bucket).forEach((b) => { at(copy, b).block_public_policy = false; }), bucket, 'block_public_policy = false');
  });
  it.each(buckets)('catches %s without a public-access block', (bucket) => {
    expectCaught(rules.bucketsPrivate, (copy) => companionsOf('aws_s3_bucket_public_access_block', bucket).forEach((b) => remove(copy, b)), bucket, 'no public-access block');
  });
});

cases(rules.bucketsTlsOnly, () => {
  const denyOf = (copy: MutableStack, bucket: string) => companionsOf('aws_s3_bucket_policy', bucket).map((p) => documentOf(copy, at(copy, p).policy));
  it.each(buckets)('catches %s when its policy no longer denies plain HTTP', (bucket) => {
    expectCaught(rules.bucketsTlsOnly, (copy) => denyOf(copy, bucket).forEach((d) => { d.statement = d.statement.filter((s) => s.effect !== 'Deny'); }), bucket, 'aws:SecureTransport');
  });
  it.each(buckets)('catches %s when its deny statement tests the wrong value', (bucket) => {
    expectCaught(rules.bucketsTlsOnly, (copy) => denyOf(copy, bucket).forEach((d) => d.statement.forEach((s) => (s.condition ?? []).forEach((c: Body) => { c.values = ['true']; }))), bucket);
  });
});

cases(rules.bucketsVersioned, () => {
  it.each(buckets)('catches %s with versioning suspended', (bucket) => {
    expectCaught(rules.bucketsVersioned, (copy) => companionsOf('aws_s3_bucket_versioning', bucket).forEach((v) => { at(copy, v).versioning_configuration.status = 'Suspended'; }), bucket, 'not Enabled');
  });
});

cases(rules.bucketsOwnerEnforced, () => {
  it.each(buckets)('catches %s with ACLs enabled (ObjectWriter)', (bucket) => {
    expectCaught(rules.bucketsOwnerEnforced, (copy) => companionsOf('aws_s3_bucket_ownership_controls', bucket).forEach((c) => { at(copy, c).rule.object_ownership = 'ObjectWriter'; }), bucket, 'BucketOwnerEnforced');
  });
});

cases(rules.bucketsLifecycle, () => {
  const lifecycleRules = (copy: MutableStack, bucket: string) => companionsOf('aws_s3_bucket_lifecycle_configuration', bucket).flatMap((c) => at(copy, c).rule as Body[]);
  it.each(buckets)('catches %s keeping replaced versions forever', (bucket) => {
    expectCaught(rules.bucketsLifecycle, (copy) => lifecycleRules(copy, bucket).forEach((r) => delete r.noncurrent_version_expiration), bucket, 'noncurrent_version_expiration');
  });
  it.each(buckets)('catches %s keeping incomplete uploads', (bucket) => {
    expectCaught(rules.bucketsLifecycle, (copy) => lifecycleRules(copy, bucket).forEach((r) => delete r.abort_incomplete_multipart_upload), bucket, 'abort_incomplete_multipart_upload');
  });
  it.each(buckets)('catches %s whose version expiry covers only a prefix', (bucket) => {
    expectCaught(rules.bucketsLifecycle, (copy) => lifecycleRules(copy, bucket).forEach((r) => { r.filter = [{ prefix: 'tmp/' }]; }), bucket);
  });
});

cases(rules.dataLocationsInStackBuckets, () => {
  const elsewhere = 's3://a-bucket-of-another-account/data/';
  it('catches a Glue table over a bucket outside the stack', () => {
    const table = one('aws_glue_catalog_table', 'cur-table');
    expectCaught(rules.dataLocationsInStackBuckets, (copy) => { at(copy, table).storage_descriptor.location = elsewhere; }, table, 'storage_descriptor.location');
  });
  it.each(addresses('aws_glue_catalog_table_optimizer').filter((a) => a.includes('orphan')))('catches %s cleaning a location outside the stack', (optimizer) => {
    expectCaught(rules.dataLocationsInStackBuckets, (copy) => { at(copy, optimizer).configuration[0].orphan_file_deletion_configuration[0].iceberg_configuration[0].location = elsewhere; }, optimizer);
  });
  it.each(addresses('aws_lambda_invocation'))('catches %s creating its table outside the stack', (invocation) => {
    expectCaught(rules.dataLocationsInStackBuckets, (copy) => { at(copy, invocation).input = at(copy, invocation).input.replace(/s3:\/\/\$\{[^}]+\}/, 's3://elsewhere'); }, invocation, 's3://elsewhere');
  });
  it('catches the Firehose stream backing up into a bucket outside the stack', () => {
    const stream = one('aws_kinesis_firehose_delivery_stream', 'stream');
    expectCaught(rules.dataLocationsInStackBuckets, (copy) => { at(copy, stream).iceberg_configuration.s3_configuration.bucket_arn = 'arn:aws:s3:::elsewhere'; }, stream, 'bucket_arn');
  });
  it('catches the CUR export delivering to a bucket outside the stack', () => {
    const exp = one('aws_bcmdataexports_export', 'cost-export');
    expectCaught(rules.dataLocationsInStackBuckets, (copy) => { at(copy, exp).export[0].destination_configurations[0].s3_destination[0].s3_bucket = 'elsewhere'; }, exp, 's3_bucket');
  });
});

// ---------------------------------------------------------------------------------------------
// 2. DynamoDB
// ---------------------------------------------------------------------------------------------

cases(rules.tablesRecoverable, () => {
  const tables = addresses('aws_dynamodb_table');
  it.each(tables)('catches %s without point-in-time recovery', (table) => {
    expectCaught(rules.tablesRecoverable, (copy) => { at(copy, table).point_in_time_recovery.enabled = false; }, table, 'point-in-time recovery');
  });
  it.each(tables)('catches %s without deletion protection', (table) => {
    expectCaught(rules.tablesRecoverable, (copy) => { at(copy, table).deletion_protection_enabled = false; }, table, 'deletion protection');
  });
  it.each(tables)('catches %s when its protection variable defaults to false', (table) => {
    const variable = /^\$\{var\.([a-z0-9_]+)\}$/.exec(String(view.resourceAt(table)?.deletion_protection_enabled))?.[1];
    expect(variable).toBeDefined();
    expectCaught(rules.tablesRecoverable, (copy) => { copy.variable[variable as string].default = false; }, table);
  });
});

// ---------------------------------------------------------------------------------------------
// 3. Queues, topics, keys
// ---------------------------------------------------------------------------------------------

cases(rules.queuesEncrypted, () => {
  it.each(addresses('aws_sqs_queue'))('catches %s without encryption', (queue) => {
    expectCaught(rules.queuesEncrypted, (copy) => { delete at(copy, queue).sqs_managed_sse_enabled; delete at(copy, queue).kms_master_key_id; }, queue);
  });
});

cases(rules.topicsEncrypted, () => {
  it.each(addresses('aws_sns_topic'))('catches %s without its KMS key', (topic) => {
    expectCaught(rules.topicsEncrypted, (copy) => { delete at(copy, topic).kms_master_key_id; }, topic, 'kms_master_key_id');
  });
  it('catches a subscription over plain HTTP', () => {
    const topic = addresses('aws_sns_topic')[0];
    expectCaught(rules.topicsEncrypted, (copy) => add(copy, 'aws_sns_topic_subscription', 'plain', { topic_arn: `\${${topic}.arn}`, protocol: 'http', endpoint: 'http://example.com/hook' }), 'aws_sns_topic_subscription.plain', 'plain HTTP');
  });
});

cases(rules.keysRotated, () => {
  it.each(addresses('aws_kms_key'))('catches %s without rotation', (key) => {
    expectCaught(rules.keysRotated, (copy) => { delete at(copy, key).enable_key_rotation; }, key, 'enable_key_rotation');
  });
});

// ---------------------------------------------------------------------------------------------
// 4. Secrets and credentials
// ---------------------------------------------------------------------------------------------

const secret = one('aws_secretsmanager_secret', 'cloudzero-api-key');
const exportFunction = one('aws_lambda_function', 'cost-telemetry-export');

cases(rules.secretsManaged, () => {
  it('catches a secret deleted at once (recovery window 0)', () => {
    expectCaught(rules.secretsManaged, (copy) => { at(copy, secret).recovery_window_in_days = 0; }, secret, 'recovery_window_in_days');
  });
  it('catches a recovery window over 30 days', () => {
    expectCaught(rules.secretsManaged, (copy) => { at(copy, secret).recovery_window_in_days = 31; }, secret);
  });
  it('catches a secret encrypted with a key of another account', () => {
    expectCaught(rules.secretsManaged, (copy) => { at(copy, secret).kms_key_id = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'; }, secret, 'kms_key_id');
  });
});

cases(rules.noSecretValuesInState, () => {
  it.each(Object.keys(rules.SECRET_IN_STATE_TYPES))('catches a %s', (type) => {
    expectCaught(rules.noSecretValuesInState, (copy) => add(copy, type, 'added', { secret_id: `\${${secret}[0].id}`, secret_string: 'value' }), `${type}.added`, 'keeps a secret in the state');
  });
  it('catches a SecureString parameter', () => {
    expectCaught(rules.noSecretValuesInState, (copy) => add(copy, 'aws_ssm_parameter', 'key', { name: '/key', type: 'SecureString', value: 'x' }), 'aws_ssm_parameter.key', 'SecureString');
  });
});

cases(rules.secretsReadNarrowly, () => {
  const grant = view.all('aws_iam_role_policy').find(([, p]) => (view.policyStatements(p.policy) ?? []).some((s) => (s.actions ?? []).includes('secretsmanager:GetSecretValue')));
  it('catches GetSecretValue on every secret of the account', () => {
    expect(grant).toBeDefined();
    const [address] = grant as [string, Body];
    expectCaught(rules.secretsReadNarrowly, (copy) => documentOf(copy, at(copy, address).policy).statement.forEach((s) => { s.resources = ['arn:aws:secretsmanager:*:*:secret:*']; }), address, 'no single secret of the stack');
  });
  it('catches GetSecretValue granted to another role on a secret named by pattern', () => {
    const [address, policy] = view.all('aws_iam_role_policy').find(([, p]) => !String(p.policy).includes('[0]')) as [string, Body];
    expect(policy).toBeDefined();
    expectCaught(rules.secretsReadNarrowly, (copy) => documentOf(copy, at(copy, address).policy).statement.push({ effect: 'Allow', actions: ['secretsmanager:GetSecretValue'], resources: ['arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/*'] }), address);
  });
});

cases(rules.sensitiveVariablesContained, () => {
  const connection = one('aws_cloudwatch_event_connection', 'onboarding');
  it.each(functions)('catches %s receiving the onboarding API key in its environment', (fn) => {
    expectCaught(rules.sensitiveVariablesContained, (copy) => { at(copy, fn).environment.variables.ONBOARDING_KEY_VALUE = '${var.onboarding_api_key}'; }, fn, 'environment.variables.ONBOARDING_KEY_VALUE');
  });
  it('catches the key in another attribute of the connection than the one listed', () => {
    expectCaught(rules.sensitiveVariablesContained, (copy) => { at(copy, connection).description = 'key ${var.onboarding_api_key}'; }, connection, 'description');
  });
  it('catches an output showing the key without sensitive = true', () => {
    expectCaught(rules.sensitiveVariablesContained, (copy) => { copy.output.Leak = { value: '${var.onboarding_api_key}' }; }, 'output.Leak');
  });
  it('catches the key variable no longer sensitive (and the listed sink then unused)', () => {
    expectCaught(rules.sensitiveVariablesContained, (copy) => { delete copy.variable.onboarding_api_key.sensitive; }, ['var.onboarding_api_key', Object.keys(rules.SENSITIVE_VALUE_SINKS)[0]], 'not sensitive');
  });
  it('catches a credential variable that is not sensitive and has a default', () => {
    expectCaught(rules.sensitiveVariablesContained, (copy) => { copy.variable.partner_api_token = { type: 'string', default: 'abc' }; }, 'var.partner_api_token', 'has a default');
  });
});

cases(rules.noLiteralCredentials, () => {
  const nodes = view.nodes().map(([address]) => address);
  it('catches an AWS access key written into any resource or data source (numRuns 100)', () => {
    fc.assert(fc.property(
      fc.constantFrom(...nodes),
      fc.stringMatching(/^[A-Z0-9]{16}$/),
      fc.constantFrom('AKIA', 'ASIA'),
      (address, tail, prefix) => {
        const found = introduced(rules.noLiteralCredentials, (copy) => { at(copy, address).note_for_test = `key=${prefix}${tail}`; });
        expect(found).toEqual([`${address}: note_for_test holds what looks like an AWS access key id [no-literal-credentials]`]);
      },
    ), { numRuns: 100 });
  });
  it('catches a private key as a variable default', () => {
    expectCaught(rules.noLiteralCredentials, (copy) => { copy.variable.onboarding_url.default = '-----BEGIN RSA PRIVATE KEY-----\nMIIE…'; }, 'var.onboarding_url', 'a private key');
  });
  it('catches a JSON web token in an output', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZW5hbnQtMSJ9.c2lnbmF0dXJl';
    expectCaught(rules.noLiteralCredentials, (copy) => { copy.output.Token = { value: jwt }; }, 'output.Token', 'a JSON web token');
  });
});

// ---------------------------------------------------------------------------------------------
// 5. Log groups
// ---------------------------------------------------------------------------------------------

cases(rules.logsExpire, () => {
  const groups = addresses('aws_cloudwatch_log_group');
  it.each(groups)('catches %s kept forever', (group) => {
    expectCaught(rules.logsExpire, (copy) => { at(copy, group).retention_in_days = 0; }, group, 'retention_in_days');
  });
  it('catches every log group when the retention variable defaults to 0', () => {
    expectCaught(rules.logsExpire, (copy) => { copy.variable.log_retention_days.default = 0; }, groups);
  });
});

// ---------------------------------------------------------------------------------------------
// 6. Asynchronous paths
// ---------------------------------------------------------------------------------------------

const invokeConfigs = addresses('aws_lambda_function_event_invoke_config');
const schedules = addresses('aws_scheduler_schedule');
const targets = addresses('aws_cloudwatch_event_target');
const mappings = addresses('aws_lambda_event_source_mapping');

cases(rules.invokeConfigsHaveDestination, () => {
  it.each(invokeConfigs)('catches %s without an on-failure destination', (config) => {
    expectCaught(rules.invokeConfigsHaveDestination, (copy) => { delete at(copy, config).destination_config; }, config, 'on_failure');
  });
});

cases(rules.eventTargetsHaveDeadLetters, () => {
  it.each(schedules)('catches %s without a dead-letter queue', (schedule) => {
    expectCaught(rules.eventTargetsHaveDeadLetters, (copy) => { delete at(copy, schedule).target.dead_letter_config; }, schedule);
  });
  it.each(targets)('catches %s without a dead-letter queue', (target) => {
    expectCaught(rules.eventTargetsHaveDeadLetters, (copy) => { delete at(copy, target).dead_letter_config; }, target);
  });
});

cases(rules.consumedQueuesRedrive, () => {
  it.each(mappings)('catches %s when its queue has no redrive policy', (mapping) => {
    const queue = addressOf(view.resourceAt(mapping)?.event_source_arn) as string;
    expectCaught(rules.consumedQueuesRedrive, (copy) => { delete at(copy, queue).redrive_policy; }, mapping, queue);
  });
});

cases(rules.deadLettersAlarmed, () => {
  const alarmsOn = (queue: string) => addresses('aws_cloudwatch_metric_alarm').filter((a) => addressOf(read(a, 'dimensions', 'QueueName')) === queue);
  it.each(deadLetters.map(([queue]) => queue))('catches %s without its alarm', (queue) => {
    expectCaught(rules.deadLettersAlarmed, (copy) => alarmsOn(queue).forEach((a) => remove(copy, a)), queue, 'no alarm');
  });
  it.each(deadLetters.map(([queue]) => queue))('catches %s when its alarm has no actions', (queue) => {
    expectCaught(rules.deadLettersAlarmed, (copy) => alarmsOn(queue).forEach((a) => { at(copy, a).alarm_actions = []; }), queue);
  });
  const counted = deadLetters.map(([queue]) => queue).filter((q) => view.resourceAt(q)?.count !== undefined);
  const uncounted = deadLetters.map(([queue]) => queue).filter((q) => view.resourceAt(q)?.count === undefined);
  it('has switched and unswitched dead-letter queues to break', () => {
    expect(counted.length).toBeGreaterThan(0);
    expect(uncounted.length).toBeGreaterThan(0);
  });
  it.each(counted)('catches %s when its alarm no longer shares its count', (queue) => {
    expectCaught(rules.deadLettersAlarmed, (copy) => alarmsOn(queue).forEach((a) => { at(copy, a).count = '${var.cost_export_enabled ? 1 : 0}'; }), queue, 'exactly when the queue does');
  });
  it.each(uncounted)('catches %s when its alarm is switched off with a flag the queue does not have', (queue) => {
    expectCaught(rules.deadLettersAlarmed, (copy) => alarmsOn(queue).forEach((a) => { at(copy, a).count = '${var.cloudzero_export_enabled ? 1 : 0}'; }), queue, 'exactly when the queue does');
  });
});

cases(rules.deadLettersWritable, () => {
  const stripSendMessage = (copy: MutableStack, role: string) => view.all('aws_iam_role_policy')
    .filter(([, p]) => addressOf(p.role) === role)
    .forEach(([address]) => documentOf(copy, at(copy, address).policy).statement.forEach((s) => { s.actions = s.actions.filter((a: string) => a !== 'sqs:SendMessage'); }));
  const targetQueues = [...new Set(targets.map((t) => addressOf(read(t, 'dead_letter_config', 'arn')) as string))];
  it.each(targetQueues)('catches the rule targets of %s when its queue policy is gone', (queue) => {
    const users = targets.filter((t) => addressOf(read(t, 'dead_letter_config', 'arn')) === queue);
    expectCaught(rules.deadLettersWritable, (copy) => view.all('aws_sqs_queue_policy').filter(([, p]) => addressOf(p.queue_url) === queue).forEach(([p]) => remove(copy, p)), users, 'events.amazonaws.com');
  });
  it.each(targets)('catches %s when the queue policy names another rule', (target) => {
    const queue = addressOf(read(target, 'dead_letter_config', 'arn')) as string;
    const users = targets.filter((t) => addressOf(read(t, 'dead_letter_config', 'arn')) === queue);
    expectCaught(rules.deadLettersWritable, (copy) => view.all('aws_sqs_queue_policy').filter(([, p]) => addressOf(p.queue_url) === queue)
      .forEach(([p]) => documentOf(copy, at(copy, p).policy).statement.forEach((s) => (s.condition ?? []).forEach((c: Body) => { c.values = ['arn:aws:events:us-east-1:111122223333:rule/other']; }))), users);
  });
  it.each(schedules)('catches %s when its role may not send to the dead-letter queue', (schedule) => {
    const role = addressOf(read(schedule, 'target', 'role_arn')) as string;
    expectCaught(rules.deadLettersWritable, (copy) => stripSendMessage(copy, role), schedule, 'sqs:SendMessage');
  });
  it.each(invokeConfigs)('catches %s when the function role may not send to the on-failure queue', (config) => {
    const fn = addressOf(view.resourceAt(config)?.function_name) as string;
    expectCaught(rules.deadLettersWritable, (copy) => stripSendMessage(copy, view.functionRole(fn) as string), config, 'on-failure queue');
  });
});

cases(rules.deadLettersKeepLongEnough, () => {
  it.each(deadLetters.map(([queue]) => queue))('catches %s keeping messages one hour', (queue) => {
    expectCaught(rules.deadLettersKeepLongEnough, (copy) => { at(copy, queue).message_retention_seconds = 3600; }, queue, 'less than');
  });
  const redriven = deadLetters.filter(([, users]) => users.some((u) => u.startsWith('aws_sqs_queue.')));
  it.each(redriven.map(([queue, users]) => [queue, users.find((u) => u.startsWith('aws_sqs_queue.')) as string]))('catches %s keeping messages less long than its source %s', (queue, source) => {
    expectCaught(rules.deadLettersKeepLongEnough, (copy) => { at(copy, source).message_retention_seconds = 1209600; at(copy, queue).message_retention_seconds = 1000000; }, queue, 'less than its source');
  });
});

cases(rules.consumedQueuesOutlastFunctions, () => {
  it.each(mappings)('catches %s when its queue hides a message only as long as the function runs', (mapping) => {
    const queue = addressOf(view.resourceAt(mapping)?.event_source_arn) as string;
    const fn = addressOf(view.resourceAt(mapping)?.function_name) as string;
    expectCaught(rules.consumedQueuesOutlastFunctions, (copy) => { at(copy, queue).visibility_timeout_seconds = at(copy, fn).timeout; }, mapping, 'visibility timeout');
  });
});

cases(rules.retriesBounded, () => {
  it.each(schedules)('catches %s without a retry policy', (schedule) => {
    expectCaught(rules.retriesBounded, (copy) => { delete at(copy, schedule).target.retry_policy; }, schedule, 'maximum_retry_attempts');
  });
  it.each(targets)('catches %s without a maximum event age', (target) => {
    expectCaught(rules.retriesBounded, (copy) => { delete at(copy, target).retry_policy.maximum_event_age_in_seconds; }, target, 'maximum_event_age_in_seconds');
  });
  it.each(invokeConfigs)('catches %s without a retry count', (config) => {
    expectCaught(rules.retriesBounded, (copy) => { delete at(copy, config).maximum_retry_attempts; }, config, 'maximum_retry_attempts');
  });
});

cases(rules.alarmsNotify, () => {
  const alarms = addresses('aws_cloudwatch_metric_alarm');
  it.each(alarms)('catches %s notifying nobody', (alarm) => {
    expectCaught(rules.alarmsNotify, (copy) => { at(copy, alarm).alarm_actions = []; }, alarm, 'no alarm_actions');
  });
  it.each(alarms)('catches %s notifying a topic outside the stack', (alarm) => {
    expectCaught(rules.alarmsNotify, (copy) => { at(copy, alarm).alarm_actions = ['arn:aws:sns:us-east-1:111122223333:elsewhere']; }, alarm, 'no SNS topic of the stack');
  });
});

cases(rules.countsConsistent, () => {
  const alarm = one('aws_cloudwatch_metric_alarm', 'cost-allocation_daily_dlq-alarm');
  const secretName = secret.split('.')[1];
  it('catches an alarm on a switched queue that exists without it', () => {
    expectCaught(rules.countsConsistent, (copy) => { delete at(copy, alarm).count; }, alarm, 'exists only when var.cloudzero_export_enabled');
  });
  it('catches an alarm switched by another flag than its queue', () => {
    expectCaught(rules.countsConsistent, (copy) => { at(copy, alarm).count = '${var.cost_export_enabled ? 1 : 0}'; }, alarm);
  });
  it('catches the secret read without its conditional', () => {
    expectCaught(rules.countsConsistent, (copy) => { at(copy, exportFunction).environment.variables.CLOUDZERO_SECRET_ARN = `\${aws_secretsmanager_secret.${secretName}[0].arn}`; }, exportFunction, 'environment.variables.CLOUDZERO_SECRET_ARN');
  });
  it('catches the secret read in the wrong branch of its conditional', () => {
    expectCaught(rules.countsConsistent, (copy) => { at(copy, exportFunction).environment.variables.CLOUDZERO_SECRET_ARN = `\${var.cloudzero_export_enabled ? "" : aws_secretsmanager_secret.${secretName}[0].arn}`; }, exportFunction);
  });
  it('catches a switched resource referred to without an index', () => {
    expectCaught(rules.countsConsistent, (copy) => { at(copy, exportFunction).environment.variables.CLOUDZERO_SECRET_ARN = `\${aws_secretsmanager_secret.${secretName}.arn}`; }, exportFunction, 'without an index');
  });
  it('catches an index on a resource that has no count', () => {
    const queue = deadLetters.map(([q]) => q).find((q) => view.resourceAt(q)?.count === undefined) as string;
    expectCaught(rules.countsConsistent, (copy) => { at(copy, exportFunction).environment.variables.QUEUE = `\${${queue}[0].url}`; }, exportFunction, 'which has no count');
  });

  /** A two-resource stack: a queue switched by the conjunction `queueFlags`, an alarm on it switched by `alarmFlags`. */
  function pair(queueFlags: string[], alarmFlags: string[]): SynthesizedStack {
    const countOf = (flags: string[]) => (flags.length === 0 ? undefined : `\${${flags.length === 1 ? `var.${flags[0]}` : `(${flags.map((f) => `var.${f}`).join(' && ')})`} ? 1 : 0}`);
    const alarmCount = countOf(alarmFlags);
    return {
      resource: {
        aws_sqs_queue: { q: { count: countOf(queueFlags), name: 'q' } },
        aws_cloudwatch_metric_alarm: { a: { ...(alarmCount ? { count: alarmCount } : {}), dimensions: { QueueName: '${aws_sqs_queue.q[0].name}' } } },
      },
      data: {}, variable: {}, output: {}, terraform: {}, provider: {},
    };
  }
  it('reports an alarm exactly when the queue\'s flags are not all among the alarm\'s (numRuns 200)', () => {
    const flag = fc.constantFrom('a_enabled', 'b_enabled', 'c_enabled', 'd_enabled');
    fc.assert(fc.property(fc.uniqueArray(flag, { minLength: 1, maxLength: 3 }), fc.uniqueArray(flag, { maxLength: 4 }), (queueFlags, alarmFlags) => {
      const { checked, violations } = rules.countsConsistent.check(pair(queueFlags, alarmFlags));
      expect(checked).toBe(1);
      const covers = queueFlags.every((f) => alarmFlags.includes(f));
      expect(violations).toEqual(covers ? [] : [expect.stringMatching(/^aws_cloudwatch_metric_alarm\.a: dimensions\.QueueName reads aws_sqs_queue\.q\[0\], which exists only when /)]);
    }), { numRuns: 200 });
  });
});

// ---------------------------------------------------------------------------------------------
// 7. IAM
// ---------------------------------------------------------------------------------------------

cases(rules.identityPoliciesLeastPrivilege, () => {
  const policies = view.all('aws_iam_role_policy').map(([a]) => a);
  it.each(policies)('catches %s granting a wildcard action', (policy) => {
    expectCaught(rules.identityPoliciesLeastPrivilege, (copy) => { documentOf(copy, at(copy, policy).policy).statement[0].actions.push('s3:*'); }, policy, 'wildcard action s3:*');
  });
  it.each(policies)('catches %s granting a family of actions (dynamodb:Get*)', (policy) => {
    expectCaught(rules.identityPoliciesLeastPrivilege, (copy) => { documentOf(copy, at(copy, policy).policy).statement[0].actions.push('dynamodb:Get*'); }, policy, 'wildcard action dynamodb:Get*');
  });
  it.each(policies)('catches %s granting an action on "*" that supports resources', (policy) => {
    expectCaught(rules.identityPoliciesLeastPrivilege, (copy) => { documentOf(copy, at(copy, policy).policy).statement.push({ effect: 'Allow', actions: ['dynamodb:DeleteTable'], resources: ['*'] }); }, policy, 'dynamodb:DeleteTable on resource "*"');
  });
  it.each(Object.keys(rules.STAR_RESOURCE_ALLOWED))('catches a stale allow-list entry when no policy grants %s on "*"', (action) => {
    expectCaught(rules.identityPoliciesLeastPrivilege, (copy) => Object.values(copy.data.aws_iam_policy_document).forEach((d) => (d.statement ?? []).forEach((s: Body) => {
      if ((s.resources ?? []).includes('*')) s.actions = (s.actions ?? []).filter((a: string) => a !== action);
    })), action, 'stale');
  });
});

cases(rules.keyPoliciesNarrow, () => {
  const key = addresses('aws_kms_key')[0];
  const serviceStatement = (copy: MutableStack) => documentOf(copy, at(copy, key).policy).statement.find((s) => s.principals.some((p: Body) => p.type === 'Service')) as Body;
  it('catches a service principal without a source condition', () => {
    expectCaught(rules.keyPoliciesNarrow, (copy) => { delete serviceStatement(copy).condition; }, key, 'without an aws:SourceAccount');
  });
  it('catches kms:* given to a service principal', () => {
    expectCaught(rules.keyPoliciesNarrow, (copy) => { serviceStatement(copy).actions.push('kms:*'); }, key, 'kms:*');
  });
  it('catches a key policy open to any principal', () => {
    expectCaught(rules.keyPoliciesNarrow, (copy) => { serviceStatement(copy).principals = [{ type: 'AWS', identifiers: ['*'] }]; }, key, 'any principal');
  });
});

cases(rules.noBroadManagedPolicies, () => {
  it.each(addresses('aws_iam_role'))('catches AdministratorAccess attached to %s', (role) => {
    expectCaught(rules.noBroadManagedPolicies, (copy) => add(copy, 'aws_iam_role_policy_attachment', 'admin', { role: `\${${role}.name}`, policy_arn: 'arn:aws:iam::aws:policy/AdministratorAccess' }), 'aws_iam_role_policy_attachment.admin', 'AdministratorAccess');
  });
});

cases(rules.rolesTrustOneService, () => {
  const roles = addresses('aws_iam_role');
  const trustOf = (copy: MutableStack, role: string) => documentOf(copy, at(copy, role).assume_role_policy);
  it.each(roles)('catches %s assumable by anyone', (role) => {
    expectCaught(rules.rolesTrustOneService, (copy) => trustOf(copy, role).statement[0].principals.push({ type: 'AWS', identifiers: ['*'] }), role, 'lets anyone assume the role');
  });
  it.each(roles)('catches %s trusted by a second service', (role) => {
    expectCaught(rules.rolesTrustOneService, (copy) => trustOf(copy, role).statement[0].principals[0].identifiers.push('ec2.amazonaws.com'), role, 'not exactly one');
  });
  const conditioned = roles.filter((r) => (view.policyStatements(view.resourceAt(r)?.assume_role_policy) ?? []).some((s) => s.condition));
  it.each(conditioned)('catches %s without its source condition', (role) => {
    expectCaught(rules.rolesTrustOneService, (copy) => trustOf(copy, role).statement.forEach((s) => delete s.condition), role, 'without an aws:SourceAccount');
  });
  it('catches a stale exemption when no role trusts Lambda any more', () => {
    const lambdaRoles = roles.filter((r) => JSON.stringify(view.policyStatements(view.resourceAt(r)?.assume_role_policy)).includes('lambda.amazonaws.com'));
    expect(lambdaRoles.length).toBeGreaterThan(0);
    expectCaught(rules.rolesTrustOneService, (copy) => lambdaRoles.forEach((r) => trustOf(copy, r).statement.forEach((s) => {
      s.condition = [{ test: 'StringEquals', variable: 'aws:SourceAccount', values: ['111122223333'] }];
      s.principals = [{ type: 'Service', identifiers: ['edgelambda.amazonaws.com'] }];
    })), 'lambda.amazonaws.com', 'stale');
  });
});

cases(rules.lambdaPermissionsScoped, () => {
  const permissions = addresses('aws_lambda_permission');
  it.each(permissions)('catches %s without a source ARN', (permission) => {
    expectCaught(rules.lambdaPermissionsScoped, (copy) => { delete at(copy, permission).source_arn; }, permission, 'source_arn');
  });
  it.each(permissions)('catches %s granted to everyone', (permission) => {
    expectCaught(rules.lambdaPermissionsScoped, (copy) => { at(copy, permission).principal = '*'; }, permission, 'no AWS service');
  });
  const apiPermissions = permissions.filter((p) => view.resourceAt(p)?.principal === 'apigateway.amazonaws.com');
  it.each(apiPermissions)('catches %s open to every method of the API', (permission) => {
    expectCaught(rules.lambdaPermissionsScoped, (copy) => { at(copy, permission).source_arn = at(copy, permission).source_arn.replace(/\/\*\/.*$/, '/*/*/*'); }, permission, 'not one method and path');
  });
});

cases(rules.resourcePoliciesScoped, () => {
  const queuePolicies = addresses('aws_sqs_queue_policy');
  const bucketPolicies = addresses('aws_s3_bucket_policy');
  const allowing = (copy: MutableStack, policy: string) => documentOf(copy, at(copy, policy).policy).statement.filter((s) => (s.effect ?? 'Allow') === 'Allow');
  it.each(queuePolicies)('catches %s letting its service send from any source', (policy) => {
    expectCaught(rules.resourcePoliciesScoped, (copy) => allowing(copy, policy).forEach((s) => delete s.condition), policy, 'without an aws:SourceArn');
  });
  it.each([...queuePolicies.map((p) => [p, 'sqs:SendMessage']), ...bucketPolicies.map((p) => [p, 's3:GetObject'])])('catches %s allowing anyone %s', (policy, action) => {
    expectCaught(rules.resourcePoliciesScoped, (copy) => documentOf(copy, at(copy, policy).policy).statement.push({ effect: 'Allow', actions: [action], principals: [{ type: '*', identifiers: ['*'] }], resources: ['*'] }), policy, 'any principal');
  });
  it('catches the CUR bucket letting Data Exports deliver from any account', () => {
    const policy = one('aws_s3_bucket_policy', 'cost-export');
    expectCaught(rules.resourcePoliciesScoped, (copy) => allowing(copy, policy).forEach((s) => delete s.condition), policy, 'bcm-data-exports.amazonaws.com');
  });
});

cases(rules.endpointsUseTls, () => {
  it('catches the onboarding endpoint variable accepting http://', () => {
    const destination = one('aws_cloudwatch_event_api_destination', 'onboarding');
    expectCaught(rules.endpointsUseTls, (copy) => copy.variable.onboarding_url.validation.forEach((v: Body) => { v.condition = v.condition.replace('^https://', '^https?://'); }), destination, 'does not require https://');
  });
  it('catches the CloudZero URL variable defaulting to http://', () => {
    expectCaught(rules.endpointsUseTls, (copy) => { copy.variable.cloudzero_api_url.default = 'http://api.cloudzero.com'; }, exportFunction, 'not https://');
  });
  it.each(functions)('catches %s given a plain-HTTP URL', (fn) => {
    expectCaught(rules.endpointsUseTls, (copy) => { at(copy, fn).environment.variables.PARTNER_URL = 'http://partner.example.com/hook'; }, fn, 'PARTNER_URL');
  });
});

// ---------------------------------------------------------------------------------------------
// 8. Cognito
// ---------------------------------------------------------------------------------------------

cases(rules.passwordsStrong, () => {
  const pool = addresses('aws_cognito_user_pool')[0];
  it('catches 8-character passwords', () => {
    expectCaught(rules.passwordsStrong, (copy) => { at(copy, pool).password_policy.minimum_length = 8; }, pool, 'minimum_length');
  });
  it.each(['require_lowercase', 'require_uppercase', 'require_numbers', 'require_symbols'])('catches %s turned off', (flag) => {
    expectCaught(rules.passwordsStrong, (copy) => { at(copy, pool).password_policy[flag] = false; }, pool, flag);
  });
});

cases(rules.clientsPublicAndBounded, () => {
  const client = addresses('aws_cognito_user_pool_client')[0];
  it('catches a client secret', () => {
    expectCaught(rules.clientsPublicAndBounded, (copy) => { at(copy, client).generate_secret = true; }, client, 'client secret');
  });
  it('catches a client that may write the tenant id', () => {
    expectCaught(rules.clientsPublicAndBounded, (copy) => { at(copy, client).write_attributes = ['email', 'custom:tenant_id']; }, client, 'custom:tenant_id');
  });
  it('catches a client without write_attributes (every attribute writable)', () => {
    expectCaught(rules.clientsPublicAndBounded, (copy) => { delete at(copy, client).write_attributes; }, client);
  });
});

// ---------------------------------------------------------------------------------------------
// 9. API Gateway
// ---------------------------------------------------------------------------------------------

const methods = addresses('aws_api_gateway_method');
const tenantMethods = methods.filter((m) => view.resourceAt(m)?.authorization === 'COGNITO_USER_POOLS');

cases(rules.routesAuthorized, () => {
  it.each(methods.filter((m) => view.resourceAt(m)?.authorization !== 'NONE'))('catches %s opened to anyone', (method) => {
    expectCaught(rules.routesAuthorized, (copy) => { at(copy, method).authorization = 'NONE'; delete at(copy, method).authorizer_id; }, method);
  });
  it.each(tenantMethods)('catches %s with an authorizer outside the stack', (method) => {
    expectCaught(rules.routesAuthorized, (copy) => { at(copy, method).authorizer_id = 'abc123'; }, method, 'no Cognito user-pool authorizer');
  });
});

cases(rules.noApiKeyOnlyRoutes, () => {
  it.each(tenantMethods)('catches %s guarded by an API key alone', (method) => {
    expectCaught(rules.noApiKeyOnlyRoutes, (copy) => { at(copy, method).authorization = 'NONE'; at(copy, method).api_key_required = true; }, method, 'API key and nothing else');
  });
});

cases(rules.stagesThrottled, () => {
  const stage = addresses('aws_api_gateway_stage')[0];
  const settings = addresses('aws_api_gateway_method_settings');
  it('catches a stage without a rate limit', () => {
    expectCaught(rules.stagesThrottled, (copy) => settings.forEach((s) => delete at(copy, s).settings.throttling_rate_limit), stage, 'throttling');
  });
  it('catches a stage whose burst limit variable defaults to -1 (no limit)', () => {
    expectCaught(rules.stagesThrottled, (copy) => { copy.variable.api_throttle_burst_limit.default = -1; }, stage);
  });
  it('catches throttling on one method only', () => {
    expectCaught(rules.stagesThrottled, (copy) => settings.forEach((s) => { at(copy, s).method_path = 'usage/POST'; }), stage);
  });
});

cases(rules.stagesLogAccess, () => {
  const stage = addresses('aws_api_gateway_stage')[0];
  it('catches a stage without access logs', () => {
    expectCaught(rules.stagesLogAccess, (copy) => { delete at(copy, stage).access_log_settings; }, stage, 'destination_arn');
  });
  it('catches an access log without the request id', () => {
    expectCaught(rules.stagesLogAccess, (copy) => { at(copy, stage).access_log_settings.format = '{"status":"$context.status"}'; }, stage, '$context.requestId');
  });
});

// ---------------------------------------------------------------------------------------------
// 10. Lambda functions
// ---------------------------------------------------------------------------------------------

cases(rules.functionsOwnRoles, () => {
  it.each(functions.slice(1))('catches %s sharing the first function\'s role', (fn) => {
    expectCaught(rules.functionsOwnRoles, (copy) => { at(copy, fn).role = at(copy, functions[0]).role; }, `${functions[0]}, ${fn}`, 'share the role');
  });
});

cases(rules.functionsLogToStackGroups, () => {
  it.each(functions)('catches %s logging to a group outside the stack', (fn) => {
    expectCaught(rules.functionsLogToStackGroups, (copy) => { at(copy, fn).logging_config.log_group = '/shared/everything'; }, fn, 'no log group of the stack');
  });
});

cases(rules.functionsOnSupportedRuntime, () => {
  it.each(functions)('catches %s on nodejs18.x', (fn) => {
    expectCaught(rules.functionsOnSupportedRuntime, (copy) => { at(copy, fn).runtime = 'nodejs18.x'; }, fn, 'runtime');
  });
  it.each(functions)('catches %s on x86_64', (fn) => {
    expectCaught(rules.functionsOnSupportedRuntime, (copy) => { at(copy, fn).architectures = ['x86_64']; }, fn, 'architectures');
  });
});

cases(rules.functionEnvironmentsHoldNoSecrets, () => {
  const keyLike = fc.stringMatching(/^[A-Za-z0-9]{32,48}$/).filter((s) => /[A-Z]/.test(s) && /[a-z]/.test(s) && /[0-9]/.test(s));
  it('catches a random key-like literal in any function\'s environment (numRuns 100)', () => {
    fc.assert(fc.property(fc.constantFrom(...functions), keyLike, (fn, key) => {
      const found = introduced(rules.functionEnvironmentsHoldNoSecrets, (copy) => { at(copy, fn).environment.variables.PARTNER_SETTING = key; });
      expect(found).toEqual([`${fn}: environment variable PARTNER_SETTING holds a key-like literal of ${key.length} characters [lambda-environment]`]);
    }), { numRuns: 100 });
  });
  it('reports no ordinary setting: names, regions, paths and numbers (numRuns 100)', () => {
    const ordinary = fc.oneof(fc.stringMatching(/^[a-z][a-z0-9-]{0,30}$/), fc.stringMatching(/^\/[a-z/_-]{0,40}$/), fc.integer({ min: 0, max: 1e9 }).map(String), fc.constantFrom('us-east-1', 'eu-west-1'));
    fc.assert(fc.property(fc.constantFrom(...functions), ordinary, (fn, value) => {
      expect(introduced(rules.functionEnvironmentsHoldNoSecrets, (copy) => { at(copy, fn).environment.variables.PARTNER_SETTING = value; })).toEqual([]);
    }), { numRuns: 100 });
  });
  it.each(functions)('catches %s given a variable named as a credential', (fn) => {
    expectCaught(rules.functionEnvironmentsHoldNoSecrets, (copy) => { at(copy, fn).environment.variables.CLOUDZERO_API_KEY = 'set-me'; }, fn, 'named as a credential');
  });
  it.each(functions)('catches %s given an AWS access key', (fn) => {
    expectCaught(rules.functionEnvironmentsHoldNoSecrets, (copy) => { at(copy, fn).environment.variables.UPSTREAM = 'AKIAIOSFODNN7EXAMPLE'; }, fn, 'an AWS access key id');
  });
  it.each(functions)('catches %s given the sensitive onboarding key', (fn) => {
    expectCaught(rules.functionEnvironmentsHoldNoSecrets, (copy) => { at(copy, fn).environment.variables.ONBOARDING = '${var.onboarding_api_key}'; }, fn, 'sensitive variable');
  });
});

cases(rules.concurrencyBounded, () => {
  const registration = one('aws_lambda_function', 'marketplace-registration');
  it('catches the public registration function without reserved concurrency', () => {
    expectCaught(rules.concurrencyBounded, (copy) => { delete at(copy, registration).reserved_concurrent_executions; }, registration, 'public route');
  });
  it('catches reserved concurrency 0 (the function stopped)', () => {
    expectCaught(rules.concurrencyBounded, (copy) => { at(copy, registration).reserved_concurrent_executions = 0; }, registration);
  });
  it('catches the concurrency variable defaulting to -1 (no reservation)', () => {
    expectCaught(rules.concurrencyBounded, (copy) => { copy.variable.registration_reserved_concurrency.default = -1; }, registration);
  });
});

// ---------------------------------------------------------------------------------------------
// 11. Firehose, Athena, Glue
// ---------------------------------------------------------------------------------------------

cases(rules.streamsEncryptedAndScoped, () => {
  const stream = one('aws_kinesis_firehose_delivery_stream', 'stream');
  it('catches a stream without encryption at rest', () => {
    expectCaught(rules.streamsEncryptedAndScoped, (copy) => { at(copy, stream).server_side_encryption.enabled = false; }, stream, 'server_side_encryption');
  });
  it('catches a stream delivering with a function\'s role', () => {
    expectCaught(rules.streamsEncryptedAndScoped, (copy) => { at(copy, stream).iceberg_configuration.role_arn = at(copy, functions[0]).role; }, stream, 'lambda.amazonaws.com');
  });
  it('catches a stream that does not log its delivery errors', () => {
    expectCaught(rules.streamsEncryptedAndScoped, (copy) => { at(copy, stream).iceberg_configuration.s3_configuration.cloudwatch_logging_options.enabled = false; }, stream, 'iceberg_configuration.s3_configuration.cloudwatch_logging_options');
  });
});

cases(rules.workgroupsEnforced, () => {
  const group = addresses('aws_athena_workgroup')[0];
  it('catches a workgroup whose settings clients may override', () => {
    expectCaught(rules.workgroupsEnforced, (copy) => { at(copy, group).configuration.enforce_workgroup_configuration = false; }, group, 'enforce_workgroup_configuration');
  });
  it('catches unencrypted query results', () => {
    expectCaught(rules.workgroupsEnforced, (copy) => { delete at(copy, group).configuration.result_configuration.encryption_configuration; }, group, 'encryption_option');
  });
  it('catches a conditional encryption option with an unknown branch', () => {
    expectCaught(rules.workgroupsEnforced, (copy) => { at(copy, group).configuration.result_configuration.encryption_configuration.encryption_option = '${var.x ? "SSE_KMS" : "NONE"}'; }, group);
  });
  it('catches unbounded scans', () => {
    expectCaught(rules.workgroupsEnforced, (copy) => { delete at(copy, group).configuration.bytes_scanned_cutoff_per_query; }, group, 'bytes_scanned_cutoff_per_query');
  });
});

cases(rules.glueTablesInStackBuckets, () => {
  const table = one('aws_glue_catalog_table', 'cur-table');
  it('catches a table over a bucket outside the stack', () => {
    expectCaught(rules.glueTablesInStackBuckets, (copy) => { at(copy, table).storage_descriptor.location = 's3://elsewhere/cur/'; }, table, 'storage_descriptor.location');
  });
  it('catches a table in a database outside the stack', () => {
    expectCaught(rules.glueTablesInStackBuckets, (copy) => { at(copy, table).database_name = 'default'; }, table, 'database_name');
  });
});

// ---------------------------------------------------------------------------------------------

describe('the rule set', () => {
  it('has cases for every rule', () => {
    expect(rules.ALL_RULES.map((r) => r.id).filter((id) => !covered.has(id))).toEqual([]);
  });

  it('reads references the way Terraform writes them', () => {
    expect(rules.referencesIn('${aws_sqs_queue.a_1-B[0].arn} and ${data.aws_iam_policy_document.d.json}')).toEqual([
      { address: 'aws_sqs_queue.a_1-B', indexed: true },
      { address: 'data.aws_iam_policy_document.d', indexed: false },
    ]);
    expect(rules.interpolations('s3://${aws_s3_bucket.b.bucket}/x/$${literal}/${replace("${var.p}_u", "-", "_")}')).toEqual([
      'aws_s3_bucket.b.bucket',
      'replace("${var.p}_u", "-", "_")',
    ]);
    expect(rules.existenceTerms('${(var.a && (length(var.b) >= 1)) ? 1 : 0}')).toEqual(['var.a', 'length(var.b) >= 1']);
    expect(rules.existenceTerms('${(length(var.u) >= 1) ? 0 : 1}')).toEqual(['!(length(var.u) >= 1)']);
    expect(rules.existenceTerms(undefined)).toEqual([]);
  });
});
