/**
 * The security and reliability rules of the stack, as pure functions over its synthesized Terraform
 * JSON. Each rule returns the resources it looked at (`checked`) and its violations, each written
 * `<resource address>: <what is wrong> [<rule id>]`, so a failure names the resource and the rule.
 *
 * Why pure functions rather than assertions inside the tests: a rule that reports nothing proves
 * nothing unless it is seen to report something. `test/synth/policies.test.ts` runs every rule on the
 * real stack and expects no violation; `test/synth/policy-rules.test.ts` breaks a copy of the stack
 * one resource at a time and expects the rule to name that resource.
 *
 * The allow-lists below are the deliberate exceptions, each with its reason; a rule also fails when an
 * entry is no longer needed, so none outlives its cause.
 */
import type { SynthesizedStack } from './synth';

export type Resource = Record<string, unknown>;
type Condition = { test: string; variable: string; values: string[] | string };
type Principal = { type: string; identifiers: string[] };

/** A statement of a policy document, in `aws_iam_policy_document` form (also for literal JSON policies). */
export type Statement = {
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

/** What a rule found: how many things it looked at, and what is wrong with them. */
export interface RuleResult {
  readonly checked: number;
  readonly violations: string[];
}

/** A rule over a synthesized stack. */
export interface PolicyRule {
  /** Short stable name, written after each violation. */
  readonly id: string;
  /** What the rule requires, as a sentence. */
  readonly title: string;
  readonly check: (stack: SynthesizedStack) => RuleResult;
}

/** A rule's body: looks at the stack through a {@link StackView}, counts what it checked, reports violations. */
type RuleBody = (view: StackView, report: (address: string, problem: string) => void) => number;

function rule(id: string, title: string, body: RuleBody): PolicyRule {
  return {
    id,
    title,
    check(stack) {
      const violations: string[] = [];
      const checked = body(new StackView(stack), (address, problem) => violations.push(`${address}: ${problem} [${id}]`));
      return { checked, violations };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Allow-lists: every exception deliberate, with its reason
// ---------------------------------------------------------------------------------------------

/** Actions an identity policy may grant on resource "*", each with the reason. */
export const STAR_RESOURCE_ALLOWED: Readonly<Record<string, string>> = {
  'aws-marketplace:BatchMeterUsage': 'AWS Marketplace Metering supports no resource-level permissions: the action only accepts "*".',
  'aws-marketplace:ResolveCustomer': 'AWS Marketplace Metering supports no resource-level permissions: the action only accepts "*".',
  'logs:GetQueryResults': 'CloudWatch Logs defines no resource type for GetQueryResults (it takes only a query id; Service Authorization Reference): the action only accepts "*". The queries themselves are limited to the consumption log groups by logs:StartQuery.',
  'logs:StopQuery': 'CloudWatch Logs defines no resource type for StopQuery (it takes only a query id; Service Authorization Reference): the action only accepts "*". It can only stop a Logs Insights query, never read or change logs.',
};

/** Methods anyone may call without a Cognito token, each with the reason. */
export const PUBLIC_ROUTES: Readonly<Record<string, string>> = {
  'POST /marketplace/register': 'AWS Marketplace posts the buyer to the registration (fulfilment) URL before they have an account; the function verifies the Marketplace token itself.',
};

/** Every route that takes an IAM signature instead of a user-pool token, with the reason. */
export const IAM_ROUTES: Readonly<Record<string, string>> = {
  'POST /backend/usage': 'The SaaS provider\'s own backends report usage for any tenant; only principals granted execute-api:Invoke on this route (the BackendCallerPolicyArn output) may call it.',
};

/** Service principals whose role trust policy needs no source condition, each with the reason. */
export const TRUST_WITHOUT_SOURCE_CONDITION: Readonly<Record<string, string>> = {
  'lambda.amazonaws.com': 'A function\'s execution role is only ever attached by a principal of this account allowed iam:PassRole on it (a role cannot be passed to another account), so no other account can make Lambda act with it; the stack keeps the trust policy AWS documents for execution roles.',
};

/**
 * Where a sensitive variable's value may go, as `<resource type> <attribute path>`, each with the
 * reason. Anything there is written to the Terraform state: only an AWS API that takes the credential
 * by value justifies it.
 */
export const SENSITIVE_VALUE_SINKS: Readonly<Record<string, string>> = {
  'aws_cloudwatch_event_connection auth_parameters.api_key.value': 'An EventBridge connection takes the API key itself (CreateConnection has no reference to an existing secret); EventBridge keeps it in a Secrets Manager secret it manages, and Terraform keeps it in the state, where the provider marks it sensitive.',
};

/** Resource types that keep a secret value in the Terraform state, each with the reason. */
export const SECRET_IN_STATE_TYPES: Readonly<Record<string, string>> = {
  aws_secretsmanager_secret_version: 'secret_string / secret_binary are stored in the state: the operator sets the value outside Terraform.',
  aws_iam_access_key: 'the secret access key is stored in the state; the stack uses roles, never long-term keys.',
  aws_iam_user_login_profile: 'the generated password is stored in the state.',
  aws_api_gateway_api_key: 'the key value (given or generated) is stored in the state, and an API key is no authentication.',
  random_password: 'the generated value is stored in the state.',
};

/** The actions a service principal may be given in a KMS key policy. */
const KMS_SERVICE_ACTIONS = new Set(['kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey']);

/** AWS managed policies too broad to attach to any role of the stack. */
const BROAD_MANAGED_POLICY = /:iam::aws:policy\/(?:[A-Za-z0-9_-]+\/)*(?:AdministratorAccess[A-Za-z0-9_-]*|PowerUserAccess|IAMFullAccess|[A-Za-z0-9_-]*FullAccess[A-Za-z0-9_-]*)$/;

/** Condition keys that tie a service's use of a role or resource to this account or one of its resources. */
const SOURCE_CONDITION_KEYS = new Set(['aws:SourceAccount', 'aws:SourceArn', 'sts:ExternalId']);

/** Literal text that is a credential, whatever attribute holds it. */
export const CREDENTIAL_PATTERNS: readonly { name: string; pattern: RegExp }[] = [
  { name: 'an AWS access key id', pattern: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/ },
  { name: 'a private key', pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
  { name: 'a JSON web token', pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/ },
  { name: 'a GitHub token', pattern: /\bgh[pousr]_[A-Za-z0-9]{30,}\b/ },
  { name: 'a Slack token', pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}/ },
  { name: 'a Stripe secret key', pattern: /\b[rs]k_live_[A-Za-z0-9]{10,}/ },
];

/** A run of 32+ key-like characters mixing upper case, lower case and digits: a random key or token. */
const KEY_LIKE_RUN = /[A-Za-z0-9+/=_-]{32,}/g;

/** Environment variable names that announce a credential. */
const CREDENTIAL_NAME = /(?:SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)/i;
/** Suffixes of names that hold where a credential is, not the credential. */
const POINTER_NAME = /_(?:ARN|NAME|ID|URL|PATH)$/i;

/** Days a dead-letter queue keeps a message at least: time for someone to look after the alarm. */
export const MIN_DEAD_LETTER_RETENTION_SECONDS = 7 * 24 * 3600;

/** AWS's advice for a queue a function consumes: visibility timeout at least six times the function timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** The Lambda runtime and architecture of every function. */
export const LAMBDA_RUNTIME = 'nodejs22.x';
export const LAMBDA_ARCHITECTURE = 'arm64';

/** Encryption options of Athena query results. */
const ATHENA_RESULT_ENCRYPTION = new Set(['SSE_S3', 'SSE_KMS', 'CSE_KMS']);

// ---------------------------------------------------------------------------------------------
// Reading Terraform expressions
// ---------------------------------------------------------------------------------------------

/** The address (`type.name`) a `${type.name[0]?.attribute}` reference points to, if it is one. */
export function addressOf(reference: unknown): string | undefined {
  if (typeof reference !== 'string') return undefined;
  const match = /^\$\{((?:data\.)?[a-z0-9_]+\.[^.[\]}]+)(?:\[0\])?\.[a-z_]+\}$/.exec(reference);
  return match?.[1];
}

/** A resource or data source mentioned in an expression, and whether it is indexed (`x.y[0].z`). */
export interface Reference {
  readonly address: string;
  readonly indexed: boolean;
}

/** Every resource or data source an expression refers to (`type.name.attribute` or `type.name[i].attribute`). */
export function referencesIn(expression: unknown): Reference[] {
  if (typeof expression !== 'string') return [];
  return [...expression.matchAll(/(?<![\w.-])((?:data\.)?aws_[a-z0-9_]+\.[A-Za-z0-9_-]+)(\[[^\]]*\])?\.[a-z_]+/g)]
    .map((m) => ({ address: m[1], indexed: m[2] !== undefined }));
}

/** Every resource address (no data source) an expression mentions, e.g. inside `jsonencode({...})`. */
export function addressesIn(expression: unknown): string[] {
  return referencesIn(expression).map((r) => r.address).filter((a) => !a.startsWith('data.'));
}

/** Every string inside a value, with its attribute path (`a.b[0].c`); `//` metadata left out. */
export function stringsIn(value: unknown, path = ''): [string, string][] {
  if (typeof value === 'string') return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((item, i) => stringsIn(item, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).filter(([key]) => key !== '//').flatMap(([key, item]) => stringsIn(item, path ? `${path}.${key}` : key));
  }
  return [];
}

/** `a.b[0].c` → `a.b.c`: an attribute path without list indexes. */
const withoutIndexes = (path: string) => path.replace(/\[\d+\]/g, '');

/** The top-level `${…}` interpolations of a Terraform string (nested ones stay inside); `$${` is a literal. */
export function interpolations(text: string): string[] {
  const found: string[] = [];
  for (let i = 0; i < text.length; i += 1) {
    if (text[i] === '$' && text[i + 1] === '$') { i += 1; continue; }
    if (text[i] !== '$' || text[i + 1] !== '{') continue;
    let depth = 0;
    let j = i + 1;
    for (; j < text.length; j += 1) {
      if (text[j] === '{') depth += 1;
      else if (text[j] === '}') { depth -= 1; if (depth === 0) break; }
    }
    found.push(text.slice(i + 2, j));
    i = j;
  }
  return found;
}

/** The parts of a conditional `c ? a : b` split at its top-level `?` and `:` (outside brackets and quotes); `undefined` for any other expression. */
function splitConditional(expression: string): { condition: string; whenTrue: string; whenFalse: string } | undefined {
  let depth = 0;
  let quoted = false;
  let question = -1;
  let pending = 0;
  for (let i = 0; i < expression.length; i += 1) {
    const c = expression[i];
    if (quoted) {
      if (c === '\\') i += 1;
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '"') quoted = true;
    else if ('([{'.includes(c)) depth += 1;
    else if (')]}'.includes(c)) depth -= 1;
    else if (depth === 0 && c === '?') {
      if (question < 0) question = i;
      pending += 1;
    } else if (depth === 0 && c === ':' && question >= 0) {
      pending -= 1;
      if (pending === 0) {
        return { condition: expression.slice(0, question).trim(), whenTrue: expression.slice(question + 1, i).trim(), whenFalse: expression.slice(i + 1).trim() };
      }
    }
  }
  return undefined;
}

/** An expression without the parentheses that wrap all of it. */
function unwrapped(expression: string): string {
  let e = expression.trim();
  while (e.startsWith('(') && e.endsWith(')')) {
    let depth = 0;
    let wrapsAll = true;
    for (let i = 0; i < e.length - 1; i += 1) {
      if (e[i] === '(') depth += 1;
      else if (e[i] === ')') depth -= 1;
      if (depth === 0) { wrapsAll = false; break; }
    }
    if (!wrapsAll) break;
    e = e.slice(1, -1).trim();
  }
  return e;
}

/** The terms of a conjunction `a && (b) && c`, each unwrapped. */
function conjunctionTerms(condition: string): string[] {
  const e = unwrapped(condition);
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < e.length; i += 1) {
    if ('([{'.includes(e[i])) depth += 1;
    else if (')]}'.includes(e[i])) depth -= 1;
    else if (depth === 0 && e.startsWith('&&', i)) { terms.push(unwrapped(e.slice(start, i))); start = i + 2; i += 1; }
  }
  terms.push(unwrapped(e.slice(start)));
  return terms;
}

const negated = (condition: string) => `!(${unwrapped(condition)})`;

/**
 * The conditions under which a resource exists, from its `count`: none when it always exists, the
 * terms of `c` for `c ? 1 : 0`, `!(c)` for `c ? 0 : 1`, the expression itself otherwise.
 */
export function existenceTerms(count: unknown): string[] {
  if (count === undefined || count === 1) return [];
  if (count === 0) return ['false'];
  const inner = typeof count === 'string' ? interpolations(count) : [];
  if (typeof count === 'string' && inner.length === 1 && count === `\${${inner[0]}}`) {
    const conditional = splitConditional(inner[0]);
    if (conditional?.whenTrue === '1' && conditional.whenFalse === '0') return conjunctionTerms(conditional.condition);
    if (conditional?.whenTrue === '0' && conditional.whenFalse === '1') return [negated(conditional.condition)];
  }
  return [`count = ${JSON.stringify(count)}`];
}

/** Every reference of an expression with the conditions it is guarded by (`c ? x : y` guards `x` by `c`). */
function guardedReferences(expression: string, guard: string[]): (Reference & { guard: string[] })[] {
  const conditional = splitConditional(expression);
  if (conditional) {
    return [
      ...guardedReferences(conditional.condition, guard),
      ...guardedReferences(conditional.whenTrue, [...guard, ...conjunctionTerms(conditional.condition)]),
      ...guardedReferences(conditional.whenFalse, [...guard, negated(conditional.condition)]),
    ];
  }
  const nested = interpolations(expression);
  if (nested.length > 0) {
    // A template inside the expression ("${…}" in a string): its references are read here too.
    const outside = nested.reduce((rest, inner) => rest.replace(`\${${inner}}`, ''), expression);
    return [...referencesIn(outside).map((r) => ({ ...r, guard })), ...nested.flatMap((inner) => guardedReferences(inner, guard))];
  }
  return referencesIn(expression).map((r) => ({ ...r, guard }));
}

// ---------------------------------------------------------------------------------------------
// Reading the synthesized JSON
// ---------------------------------------------------------------------------------------------

/** The stack's resources, data sources, variables and policies, read the way Terraform reads them. */
export class StackView {
  constructor(readonly stack: SynthesizedStack) {}

  /** `[address, resource]` for every resource of a type; the address is `<type>.<name>`. */
  all(type: string): [string, Resource][] {
    return Object.entries(this.stack.resource?.[type] ?? {}).map(([name, resource]) => [`${type}.${name}`, resource]);
  }

  /** Every resource and data source of the stack: `[address, body]` (data sources as `data.<type>.<name>`). */
  nodes(): [string, Resource][] {
    return [
      ...Object.entries(this.stack.resource ?? {}).flatMap(([type, byName]) => Object.entries(byName).map(([name, r]): [string, Resource] => [`${type}.${name}`, r])),
      ...Object.entries(this.stack.data ?? {}).flatMap(([type, byName]) => Object.entries(byName).map(([name, r]): [string, Resource] => [`data.${type}.${name}`, r])),
    ];
  }

  /** A resource (`type.name`) or data source (`data.type.name`) of the stack by its address. */
  resourceAt(address: string): Resource | undefined {
    const parts = address.split('.');
    if (parts[0] === 'data') return this.stack.data?.[parts[1]]?.[parts.slice(2).join('.')];
    return this.stack.resource?.[parts[0]]?.[parts.slice(1).join('.')];
  }

  /** The default of a `${var.x}` reference, or `isVariable: false` when the value is no plain variable reference. */
  variableDefault(value: unknown): { isVariable: boolean; default?: unknown } {
    const match = typeof value === 'string' ? /^\$\{var\.([a-z0-9_]+)\}$/.exec(value) : null;
    if (!match) return { isVariable: false };
    return { isVariable: true, default: this.stack.variable?.[match[1]]?.default };
  }

  /** A value, or the default of the variable it is. */
  effective(value: unknown): unknown {
    const variable = this.variableDefault(value);
    return variable.isVariable ? variable.default : value;
  }

  /** A setting that is on: `true`, or a variable whose default is `true` (the operator may turn it off on purpose). */
  isOn(value: unknown): boolean {
    return this.effective(value) === true;
  }

  /** Names of the variables declared sensitive. */
  sensitiveVariables(): string[] {
    return Object.entries(this.stack.variable ?? {}).filter(([, v]) => v.sensitive === true).map(([name]) => name);
  }

  /**
   * The statements of a policy: a `${data.aws_iam_policy_document.X[0]?.json}` reference (including its
   * source and override documents) or literal JSON. `undefined` when the policy cannot be read here.
   */
  policyStatements(policy: unknown): Statement[] | undefined {
    if (typeof policy !== 'string') return undefined;
    const match = /^\$\{data\.aws_iam_policy_document\.([^.[]+)(?:\[0\])?\.json\}$/.exec(policy);
    if (match) {
      const document = this.stack.data?.aws_iam_policy_document?.[match[1]] as
        | { statement?: Statement[]; source_policy_documents?: string[]; override_policy_documents?: string[] }
        | undefined;
      if (!document) return undefined;
      const included = [...(document.source_policy_documents ?? []), ...(document.override_policy_documents ?? [])].map((p) => this.policyStatements(p));
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

  /** Every identity policy of the stack: `[address, policy]`. */
  identityPolicies(): [string, unknown][] {
    return [
      ...['aws_iam_role_policy', 'aws_iam_policy', 'aws_iam_user_policy', 'aws_iam_group_policy']
        .flatMap((type) => this.all(type).map(([address, r]): [string, unknown] => [address, r.policy])),
      ...this.all('aws_iam_role').flatMap(([address, role]) => ([] as { name?: string; policy?: unknown }[])
        .concat((role.inline_policy as never) ?? [])
        .map((inline): [string, unknown] => [`${address} (inline policy ${inline.name ?? ''})`, inline.policy])),
    ];
  }

  /** The allowing statements of the policies a role of the stack has (inline, and customer managed policies of the stack attached to it). */
  roleAllows(role: string): Statement[] {
    const inline = this.all('aws_iam_role_policy').filter(([, p]) => addressOf(p.role) === role).map(([, p]) => p.policy);
    const attached = this.all('aws_iam_role_policy_attachment')
      .filter(([, a]) => addressOf(a.role) === role)
      .map(([, a]) => addressOf(a.policy_arn))
      .filter((policy): policy is string => policy?.startsWith('aws_iam_policy.') === true)
      .map((policy) => this.resourceAt(policy)?.policy);
    const embedded = ([] as { policy?: unknown }[]).concat((this.resourceAt(role)?.inline_policy as never) ?? []).map((p) => p.policy);
    return [...inline, ...attached, ...embedded].flatMap((policy) => this.policyStatements(policy) ?? []).filter(isAllow);
  }

  /** Whether a role of the stack may call `action` on the resource at `address` (a statement naming it). */
  roleMay(role: string, action: string, address: string): boolean {
    return this.roleAllows(role).some((s) => (s.actions ?? []).includes(action) && (s.resources ?? []).some((r) => addressesIn(r).includes(address)));
  }

  /** The role of a Lambda function of the stack. */
  functionRole(fn: string): string | undefined {
    return addressOf(this.resourceAt(fn)?.role);
  }

  /** Where an S3 location `s3://${aws_s3_bucket.X.bucket}/…` is, if in a bucket of the stack. */
  bucketOfLocation(location: string): string | undefined {
    const match = /^s3:\/\/\$\{(aws_s3_bucket\.[A-Za-z0-9_-]+)(?:\[0\])?\.(?:bucket|id)\}(?:\/|$)/.exec(location);
    return match && this.resourceAt(match[1]) ? match[1] : undefined;
  }
}

const statementName = (statement: Statement, index: number) => statement.sid ?? `statement ${index}`;
const isAllow = (statement: Statement) => (statement.effect ?? 'Allow') === 'Allow';
const asList = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : ([] as T[]).concat(value));
const conditionValues = (condition: Condition) => asList(condition.values);
/** A block Terraform JSON may write as an object or a one-element list. */
const block = (value: unknown): Record<string, unknown> | undefined => asList(value as Record<string, unknown> | Record<string, unknown>[] | undefined)[0];

/** The dead-letter queues of the stack: queue → the resources that send to it. */
export function deadLetterQueues(view: StackView): Map<string, string[]> {
  const uses = new Map<string, string[]>();
  const use = (queue: string | undefined, by: string) => {
    if (queue?.startsWith('aws_sqs_queue.')) uses.set(queue, [...(uses.get(queue) ?? []), by]);
  };
  for (const [address, config] of view.all('aws_lambda_function_event_invoke_config')) use(addressOf(onFailureOf(config)), address);
  for (const [address, schedule] of view.all('aws_scheduler_schedule')) use(addressOf(scheduleDeadLetterOf(schedule)), address);
  for (const [address, target] of view.all('aws_cloudwatch_event_target')) use(addressOf(targetDeadLetterOf(target)), address);
  // Every redrive policy, whether a function consumes its queue or not.
  for (const [address, queue] of view.all('aws_sqs_queue')) for (const target of redriveTargetsOf(queue)) use(target, address);
  return uses;
}

const onFailureOf = (config: Resource) => block(block(config.destination_config)?.on_failure)?.destination as string | undefined;
const scheduleDeadLetterOf = (schedule: Resource) => block(block(schedule.target)?.dead_letter_config)?.arn as string | undefined;
const targetDeadLetterOf = (target: Resource) => block(target.dead_letter_config)?.arn as string | undefined;
const redriveTargetsOf = (queue: Resource | undefined) => addressesIn(queue?.redrive_policy).filter((a) => a.startsWith('aws_sqs_queue.'));

/** `<METHOD> /<path>` of an API Gateway method, following its resource's parents up to the API root. */
export function routeOf(view: StackView, method: Resource): string {
  const parts: string[] = [];
  let id = method.resource_id as string;
  for (let depth = 0; depth < 50; depth += 1) {
    const address = addressOf(id);
    if (!address?.startsWith('aws_api_gateway_resource.')) break;
    const resource = view.resourceAt(address);
    if (!resource) break;
    parts.unshift(resource.path_part as string);
    id = resource.parent_id as string;
  }
  const root = /\.root_resource_id\}$/.test(id) ? '' : `<unresolved ${id}>`;
  return `${method.http_method as string} ${root}/${parts.join('/')}`;
}

// ---------------------------------------------------------------------------------------------
// 1. S3 buckets
// ---------------------------------------------------------------------------------------------

/** The companion resources of each type whose `bucket` refers to the bucket at `address`. */
const companions = (view: StackView, type: string, address: string) => view.all(type).filter(([, r]) => addressOf(r.bucket) === address);

export const bucketsEncrypted = rule('s3-encrypted', 'S3 buckets are encrypted at rest (a server-side-encryption configuration with a default algorithm)', (view, report) => {
  const buckets = view.all('aws_s3_bucket');
  for (const [address] of buckets) {
    const encrypted = companions(view, 'aws_s3_bucket_server_side_encryption_configuration', address)
      .some(([, c]) => asList(c.rule as Resource[] | undefined).some((r) => Boolean(block(r.apply_server_side_encryption_by_default)?.sse_algorithm)));
    if (!encrypted) report(address, 'no server-side-encryption configuration with a default algorithm');
  }
  return buckets.length;
});

export const bucketsPrivate = rule('s3-private', 'S3 buckets block every kind of public access', (view, report) => {
  const buckets = view.all('aws_s3_bucket');
  const flags = ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets'];
  for (const [address] of buckets) {
    const blocks = companions(view, 'aws_s3_bucket_public_access_block', address);
    if (blocks.length === 0) report(address, 'no public-access block');
    for (const [blockAddress, b] of blocks) {
      for (const flag of flags) if (b[flag] !== true) report(address, `${blockAddress} has ${flag} = ${JSON.stringify(b[flag])}`);
    }
  }
  return buckets.length;
});

export const bucketsTlsOnly = rule('s3-tls-only', 'S3 buckets refuse every request without TLS (a bucket policy denying s3:* to everyone when aws:SecureTransport is false)', (view, report) => {
  const buckets = view.all('aws_s3_bucket');
  for (const [address] of buckets) {
    const statements = companions(view, 'aws_s3_bucket_policy', address).flatMap(([, p]) => view.policyStatements(p.policy) ?? []);
    const deniesPlainHttp = statements.some((s) => s.effect === 'Deny'
      && (s.condition ?? []).some((c) => c.test === 'Bool' && c.variable === 'aws:SecureTransport' && conditionValues(c).includes('false'))
      && (s.principals ?? []).some((p) => p.identifiers.includes('*'))
      && (s.actions ?? []).some((a) => a === 's3:*' || a === '*'));
    if (!deniesPlainHttp) report(address, 'no bucket policy denying s3:* to everyone when aws:SecureTransport is false');
  }
  return buckets.length;
});

export const bucketsVersioned = rule('s3-versioned', 'S3 buckets are versioned', (view, report) => {
  const buckets = view.all('aws_s3_bucket');
  for (const [address] of buckets) {
    const enabled = companions(view, 'aws_s3_bucket_versioning', address).some(([, v]) => block(v.versioning_configuration)?.status === 'Enabled');
    if (!enabled) report(address, 'versioning is not Enabled');
  }
  return buckets.length;
});

export const bucketsOwnerEnforced = rule('s3-acls-disabled', 'S3 buckets disable ACLs (object ownership BucketOwnerEnforced): access is decided by policies alone', (view, report) => {
  const buckets = view.all('aws_s3_bucket');
  for (const [address] of buckets) {
    const enforced = companions(view, 'aws_s3_bucket_ownership_controls', address).some(([, c]) => block(c.rule)?.object_ownership === 'BucketOwnerEnforced');
    if (!enforced) report(address, 'no ownership controls with object_ownership = BucketOwnerEnforced');
  }
  return buckets.length;
});

export const bucketsLifecycle = rule('s3-lifecycle', 'Versioned buckets expire replaced versions and abort incomplete uploads, over the whole bucket', (view, report) => {
  const buckets = view.all('aws_s3_bucket');
  for (const [address] of buckets) {
    const rules = companions(view, 'aws_s3_bucket_lifecycle_configuration', address)
      .flatMap(([, c]) => asList(c.rule as Resource[] | undefined))
      .filter((r) => r.status === 'Enabled');
    const wholeBucket = (r: Resource) => {
      const filter = block(r.filter);
      return filter === undefined || (filter.prefix ?? '') === '' && filter.and === undefined && filter.tag === undefined;
    };
    const positive = (value: unknown) => typeof view.effective(value) === 'number' && (view.effective(value) as number) > 0;
    if (!rules.some((r) => wholeBucket(r) && positive(block(r.noncurrent_version_expiration)?.noncurrent_days))) {
      report(address, 'no enabled lifecycle rule over the whole bucket with noncurrent_version_expiration (replaced versions are kept forever)');
    }
    if (!rules.some((r) => wholeBucket(r) && positive(block(r.abort_incomplete_multipart_upload)?.days_after_initiation))) {
      report(address, 'no enabled lifecycle rule over the whole bucket with abort_incomplete_multipart_upload');
    }
  }
  return buckets.length;
});

export const dataLocationsInStackBuckets = rule('s3-locations', 'Every S3 location the stack reads or writes (Glue tables, optimizers, Athena results, DDL, Firehose, Data Exports) is in a bucket of the stack', (view, report) => {
  let checked = 0;
  for (const [address, resource] of view.nodes()) {
    if (address.startsWith('data.')) continue;
    for (const [path, text] of stringsIn(resource)) {
      for (const match of text.matchAll(/s3:\/\/[^\s'"`,)]*/g)) {
        checked += 1;
        if (!view.bucketOfLocation(match[0])) report(address, `${withoutIndexes(path)} names ${match[0]}, no bucket of the stack`);
      }
    }
  }
  const bucketRefs: [string, string, unknown][] = [
    ...view.all('aws_kinesis_firehose_delivery_stream').flatMap(([address, stream]) => ['s3_configuration', 'extended_s3_configuration']
      .flatMap((key) => [block(stream[key]), block(block(stream.iceberg_configuration)?.[key])])
      .filter((config): config is Record<string, unknown> => config !== undefined)
      .map((config): [string, string, unknown] => [address, 'bucket_arn', config.bucket_arn])),
    ...view.all('aws_bcmdataexports_export').flatMap(([address, exp]) => stringsIn(exp)
      .filter(([path]) => withoutIndexes(path).endsWith('s3_destination.s3_bucket'))
      .map(([, value]): [string, string, unknown] => [address, 's3_bucket', value])),
  ];
  for (const [address, attribute, value] of bucketRefs) {
    checked += 1;
    const bucket = addressOf(value);
    if (!bucket?.startsWith('aws_s3_bucket.') || !view.resourceAt(bucket)) report(address, `${attribute} ${JSON.stringify(value)} is no bucket of the stack`);
  }
  return checked;
});

// ---------------------------------------------------------------------------------------------
// 2. DynamoDB
// ---------------------------------------------------------------------------------------------

export const tablesRecoverable = rule('dynamodb-recovery', 'DynamoDB tables have point-in-time recovery and deletion protection', (view, report) => {
  const tables = view.all('aws_dynamodb_table');
  for (const [address, table] of tables) {
    if (block(table.point_in_time_recovery)?.enabled !== true) report(address, 'point-in-time recovery is not enabled');
    if (!view.isOn(table.deletion_protection_enabled)) {
      report(address, `deletion protection is ${JSON.stringify(table.deletion_protection_enabled)} (neither true nor a variable that defaults to true)`);
    }
  }
  return tables.length;
});

// ---------------------------------------------------------------------------------------------
// 3. Queues, topics, keys
// ---------------------------------------------------------------------------------------------

export const queuesEncrypted = rule('sqs-encrypted', 'Every SQS queue is encrypted (SSE-SQS or a KMS key)', (view, report) => {
  const queues = view.all('aws_sqs_queue');
  for (const [address, q] of queues) if (q.sqs_managed_sse_enabled !== true && !q.kms_master_key_id) report(address, 'neither sqs_managed_sse_enabled = true nor a kms_master_key_id');
  return queues.length;
});

export const topicsEncrypted = rule('sns-encrypted', 'Every SNS topic is encrypted with a KMS key, and no subscription delivers over plain HTTP', (view, report) => {
  const topics = view.all('aws_sns_topic');
  for (const [address, t] of topics) if (!t.kms_master_key_id) report(address, 'no kms_master_key_id');
  const subscriptions = view.all('aws_sns_topic_subscription');
  for (const [address, s] of subscriptions) if (s.protocol === 'http') report(address, 'delivers over plain HTTP (protocol "http")');
  return topics.length + subscriptions.length;
});

export const keysRotated = rule('kms-rotation', 'Every KMS key of the stack rotates its key material', (view, report) => {
  const keys = view.all('aws_kms_key');
  for (const [address, key] of keys) if (!view.isOn(key.enable_key_rotation)) report(address, `enable_key_rotation is ${JSON.stringify(key.enable_key_rotation)}`);
  return keys.length;
});

// ---------------------------------------------------------------------------------------------
// 4. Secrets and credentials
// ---------------------------------------------------------------------------------------------

export const secretsManaged = rule('secrets-settings', 'Secrets Manager secrets are recoverable for 7–30 days after deletion and encrypted with the AWS managed key or a key the operator configures', (view, report) => {
  const secrets = view.all('aws_secretsmanager_secret');
  for (const [address, secret] of secrets) {
    const window = view.effective(secret.recovery_window_in_days);
    // Absent: 30 days. 0 deletes the secret at once, beyond recovery.
    if (window !== undefined && (typeof window !== 'number' || window < 7 || window > 30)) report(address, `recovery_window_in_days is ${JSON.stringify(secret.recovery_window_in_days)} (7 to 30, or absent for 30)`);
    const key = secret.kms_key_id;
    if (key !== undefined && key !== null) {
      // A reference to a key of the stack or to the operator's key variable; a literal key ARN is a key nobody here controls.
      const text = String(key);
      const fromStack = referencesIn(text).every((r) => r.address.startsWith('aws_kms_key.') || r.address.startsWith('aws_kms_alias.'));
      if (!text.includes('${') || !fromStack) report(address, `kms_key_id ${JSON.stringify(key)} is neither a key of the stack nor a variable`);
    }
  }
  return secrets.length;
});

export const noSecretValuesInState = rule('secrets-not-in-state', 'No resource keeps a secret value in the Terraform state (no secret version, access key, API key…)', (view, report) => {
  let checked = 0;
  for (const [address] of view.nodes()) {
    checked += 1;
    const type = address.split('.')[0];
    if (type in SECRET_IN_STATE_TYPES) report(address, `a ${type} keeps a secret in the state: ${SECRET_IN_STATE_TYPES[type]}`);
    if (type === 'aws_ssm_parameter' && view.resourceAt(address)?.type === 'SecureString') report(address, 'a SecureString parameter\'s value is stored in the state');
  }
  return checked;
});

export const secretsReadNarrowly = rule('secrets-read', 'secretsmanager:GetSecretValue is granted only on secrets of the stack, named one by one', (view, report) => {
  let checked = 0;
  for (const [address, policy] of view.identityPolicies()) {
    (view.policyStatements(policy) ?? []).forEach((statement, index) => {
      if (!isAllow(statement) || !(statement.actions ?? []).some((a) => a === 'secretsmanager:GetSecretValue' || a === 'secretsmanager:*')) return;
      checked += 1;
      for (const resource of statement.resources ?? []) {
        const address_ = addressOf(resource);
        if (!address_?.startsWith('aws_secretsmanager_secret.') || !view.resourceAt(address_)) {
          report(address, `${statementName(statement, index)} grants GetSecretValue on ${JSON.stringify(resource)}, no single secret of the stack`);
        }
      }
    });
  }
  return checked;
});

export const sensitiveVariablesContained = rule('sensitive-variables', 'Variables that carry credentials are sensitive with no default, and reach only the attributes listed in SENSITIVE_VALUE_SINKS', (view, report) => {
  let checked = 0;
  for (const [name, variable] of Object.entries(view.stack.variable ?? {})) {
    if (!CREDENTIAL_NAME.test(name.toUpperCase()) || POINTER_NAME.test(name)) continue;
    checked += 1;
    if (variable.sensitive !== true) report(`var.${name}`, 'carries a credential but is not sensitive');
    if (variable.default !== undefined && variable.default !== '' && variable.default !== null) report(`var.${name}`, 'carries a credential but has a default value');
  }
  const sensitive = view.sensitiveVariables();
  const used = new Set<string>();
  const scan = (address: string, type: string, body: unknown) => {
    for (const [path, text] of stringsIn(body)) {
      // Preconditions are checked at plan time and never stored.
      if (path.startsWith('lifecycle.')) continue;
      for (const name of sensitive) {
        if (!new RegExp(`\\bvar\\.${name}\\b`).test(text)) continue;
        checked += 1;
        const sink = `${type} ${withoutIndexes(path)}`;
        if (sink in SENSITIVE_VALUE_SINKS) used.add(sink);
        else report(address, `${withoutIndexes(path)} carries the sensitive variable var.${name}, which would be stored in the state`);
      }
    }
  };
  for (const [address, body] of view.nodes()) scan(address, address.replace(/^data\./, '').split('.')[0], body);
  for (const [name, output] of Object.entries(view.stack.output ?? {})) {
    if (output.sensitive === true) continue;
    for (const [, text] of stringsIn(output.value)) {
      for (const variable of sensitive) if (new RegExp(`\\bvar\\.${variable}\\b`).test(text)) report(`output.${name}`, `shows the sensitive variable var.${variable} without sensitive = true`);
    }
  }
  for (const sink of Object.keys(SENSITIVE_VALUE_SINKS)) if (!used.has(sink)) report(sink, 'is listed in SENSITIVE_VALUE_SINKS but no sensitive variable goes there (a stale exception)');
  return checked;
});

export const noLiteralCredentials = rule('no-literal-credentials', 'No credential is written into the stack: no access key, private key, token or API key in any attribute, variable default or output', (view, report) => {
  let checked = 0;
  const scan = (address: string, body: unknown) => {
    for (const [path, text] of stringsIn(body)) {
      checked += 1;
      for (const { name, pattern } of CREDENTIAL_PATTERNS) if (pattern.test(text)) report(address, `${withoutIndexes(path)} holds what looks like ${name}`);
    }
  };
  for (const [address, body] of view.nodes()) scan(address, body);
  for (const [name, variable] of Object.entries(view.stack.variable ?? {})) scan(`var.${name}`, variable.default);
  for (const [name, output] of Object.entries(view.stack.output ?? {})) scan(`output.${name}`, output.value);
  return checked;
});

// ---------------------------------------------------------------------------------------------
// 5. Log groups
// ---------------------------------------------------------------------------------------------

export const logsExpire = rule('log-retention', 'Every log group expires its events', (view, report) => {
  const groups = view.all('aws_cloudwatch_log_group');
  for (const [address, group] of groups) {
    // 0 (or no value) means "never expire".
    const effective = view.effective(group.retention_in_days);
    if (typeof effective !== 'number' || effective <= 0) report(address, `retention_in_days is ${JSON.stringify(group.retention_in_days)}`);
  }
  return groups.length;
});

// ---------------------------------------------------------------------------------------------
// 6. Asynchronous paths
// ---------------------------------------------------------------------------------------------

export const invokeConfigsHaveDestination = rule('async-on-failure', 'Every asynchronous Lambda invocation config sends failures to a destination', (view, report) => {
  const configs = view.all('aws_lambda_function_event_invoke_config');
  for (const [address, config] of configs) if (!onFailureOf(config)) report(address, 'no destination_config.on_failure');
  return configs.length;
});

export const eventTargetsHaveDeadLetters = rule('async-dead-letter', 'Every EventBridge Scheduler schedule and EventBridge rule target has a dead-letter queue', (view, report) => {
  const schedules = view.all('aws_scheduler_schedule');
  const targets = view.all('aws_cloudwatch_event_target');
  for (const [address, schedule] of schedules) if (!scheduleDeadLetterOf(schedule)) report(address, 'target has no dead_letter_config');
  for (const [address, target] of targets) if (!targetDeadLetterOf(target)) report(address, 'no dead_letter_config');
  return schedules.length + targets.length;
});

export const consumedQueuesRedrive = rule('sqs-redrive', 'Every queue a function consumes has a redrive policy to a queue of the stack', (view, report) => {
  let checked = 0;
  for (const [address, mapping] of view.all('aws_lambda_event_source_mapping')) {
    const source = addressOf(mapping.event_source_arn);
    if (!source?.startsWith('aws_sqs_queue.')) continue;
    checked += 1;
    if (redriveTargetsOf(view.resourceAt(source)).filter((q) => view.resourceAt(q)).length === 0) report(address, `its source queue ${source} has no redrive_policy to a queue of the stack`);
  }
  return checked;
});

export const deadLettersAlarmed = rule('dead-letter-alarm', 'Every dead-letter queue has an alarm with actions on ApproximateNumberOfMessagesVisible, existing exactly when the queue does (same count)', (view, report) => {
  const queues = deadLetterQueues(view);
  const alarms = view.all('aws_cloudwatch_metric_alarm').filter(([, alarm]) => alarm.namespace === 'AWS/SQS'
    && alarm.metric_name === 'ApproximateNumberOfMessagesVisible'
    && Array.isArray(alarm.alarm_actions) && alarm.alarm_actions.length > 0);
  for (const [queue, users] of queues) {
    const onQueue = alarms.filter(([, alarm]) => addressOf(block(alarm.dimensions)?.QueueName) === queue);
    if (onQueue.length === 0) {
      report(queue, `dead-letter queue of ${users.join(', ')}: no alarm with actions on ApproximateNumberOfMessagesVisible`);
      continue;
    }
    const queueCount = JSON.stringify(view.resourceAt(queue)?.count);
    if (!onQueue.some(([, alarm]) => JSON.stringify(alarm.count) === queueCount)) {
      report(queue, `dead-letter queue (count ${queueCount ?? 'none'}) is alarmed only by ${onQueue.map(([a, alarm]) => `${a} (count ${JSON.stringify(alarm.count) ?? 'none'})`).join(', ')}: the alarm must exist exactly when the queue does`);
    }
  }
  return queues.size;
});

export const deadLettersWritable = rule('dead-letter-writable', 'Whatever sends to a dead-letter queue may send to it (queue policy for EventBridge rules, role policy for schedules and asynchronous invocations)', (view, report) => {
  let checked = 0;
  for (const [address, target] of view.all('aws_cloudwatch_event_target')) {
    const queue = addressOf(targetDeadLetterOf(target));
    if (!queue?.startsWith('aws_sqs_queue.')) continue;
    checked += 1;
    const ruleAddress = addressOf(target.rule);
    const allowed = view.all('aws_sqs_queue_policy')
      .filter(([, p]) => addressOf(p.queue_url) === queue)
      .flatMap(([, p]) => view.policyStatements(p.policy) ?? [])
      .some((s) => isAllow(s)
        && (s.actions ?? []).includes('sqs:SendMessage')
        && (s.principals ?? []).some((p) => p.type === 'Service' && p.identifiers.includes('events.amazonaws.com'))
        && (s.condition ?? []).some((c) => c.variable === 'aws:SourceArn' && conditionValues(c).some((v) => ruleAddress !== undefined && addressesIn(v).includes(ruleAddress))));
    if (!allowed) report(address, `EventBridge may not send to its dead-letter queue ${queue}: no queue policy allowing events.amazonaws.com sqs:SendMessage with aws:SourceArn = ${ruleAddress ?? 'its rule'}`);
  }
  for (const [address, schedule] of view.all('aws_scheduler_schedule')) {
    const queue = addressOf(scheduleDeadLetterOf(schedule));
    if (!queue?.startsWith('aws_sqs_queue.')) continue;
    checked += 1;
    const role = addressOf(block(schedule.target)?.role_arn);
    if (!role || !view.roleMay(role, 'sqs:SendMessage', queue)) report(address, `its role ${role ?? '(none)'} may not sqs:SendMessage to its dead-letter queue ${queue}`);
  }
  for (const [address, config] of view.all('aws_lambda_function_event_invoke_config')) {
    const queue = addressOf(onFailureOf(config));
    if (!queue?.startsWith('aws_sqs_queue.')) continue;
    checked += 1;
    const fn = addressOf(config.function_name);
    const role = fn ? view.functionRole(fn) : undefined;
    if (!role || !view.roleMay(role, 'sqs:SendMessage', queue)) report(address, `the role ${role ?? '(none)'} of ${fn ?? 'its function'} may not sqs:SendMessage to its on-failure queue ${queue}`);
  }
  return checked;
});

export const deadLettersKeepLongEnough = rule('dead-letter-retention', `Dead-letter queues keep messages at least ${MIN_DEAD_LETTER_RETENTION_SECONDS / 86400} days, and at least as long as the queues that redrive into them`, (view, report) => {
  const queues = deadLetterQueues(view);
  // SQS keeps 4 days when no retention is given.
  const retention = (queue: Resource | undefined) => (view.effective(queue?.message_retention_seconds) ?? 345600) as number;
  for (const [queue, users] of queues) {
    const kept = retention(view.resourceAt(queue));
    if (typeof kept !== 'number' || kept < MIN_DEAD_LETTER_RETENTION_SECONDS) report(queue, `keeps messages ${JSON.stringify(kept)} s, less than ${MIN_DEAD_LETTER_RETENTION_SECONDS} s`);
    for (const source of users.filter((u) => u.startsWith('aws_sqs_queue.'))) {
      // A redriven message keeps its original enqueue time: a shorter retention deletes it on arrival.
      const sourceKept = retention(view.resourceAt(source));
      if (typeof sourceKept === 'number' && kept < sourceKept) report(queue, `keeps messages ${kept} s, less than its source ${source} (${sourceKept} s)`);
    }
  }
  return queues.size;
});

export const consumedQueuesOutlastFunctions = rule('sqs-visibility', `A queue a function consumes hides a message at least ${VISIBILITY_TIMEOUT_FACTOR} times the function timeout`, (view, report) => {
  let checked = 0;
  for (const [address, mapping] of view.all('aws_lambda_event_source_mapping')) {
    const queue = addressOf(mapping.event_source_arn);
    const fn = addressOf(mapping.function_name);
    if (!queue?.startsWith('aws_sqs_queue.') || !fn) continue;
    checked += 1;
    const visibility = (view.effective(view.resourceAt(queue)?.visibility_timeout_seconds) ?? 30) as number;
    const timeout = (view.effective(view.resourceAt(fn)?.timeout) ?? 3) as number;
    if (typeof visibility !== 'number' || typeof timeout !== 'number' || visibility < VISIBILITY_TIMEOUT_FACTOR * timeout) {
      report(address, `queue ${queue} visibility timeout ${JSON.stringify(visibility)} s is under ${VISIBILITY_TIMEOUT_FACTOR} × the ${JSON.stringify(timeout)} s timeout of ${fn}: a message could be received again while it is processed`);
    }
  }
  return checked;
});

export const retriesBounded = rule('async-retries', 'Every asynchronous delivery states its retries and the age after which an event goes to the dead-letter queue', (view, report) => {
  let checked = 0;
  const stated = (policy: Record<string, unknown> | undefined, address: string, where: string) => {
    checked += 1;
    for (const field of ['maximum_retry_attempts', 'maximum_event_age_in_seconds']) {
      if (typeof view.effective(policy?.[field]) !== 'number') report(address, `${where}${field} is not set`);
    }
  };
  for (const [address, schedule] of view.all('aws_scheduler_schedule')) stated(block(block(schedule.target)?.retry_policy), address, 'target.retry_policy.');
  for (const [address, target] of view.all('aws_cloudwatch_event_target')) stated(block(target.retry_policy), address, 'retry_policy.');
  for (const [address, config] of view.all('aws_lambda_function_event_invoke_config')) stated(config, address, '');
  return checked;
});

export const alarmsNotify = rule('alarm-actions', 'Every alarm notifies an SNS topic of the stack', (view, report) => {
  const alarms = view.all('aws_cloudwatch_metric_alarm');
  for (const [address, alarm] of alarms) {
    const actions = asList(alarm.alarm_actions as string[] | undefined);
    if (actions.length === 0) report(address, 'has no alarm_actions');
    for (const action of actions) {
      const topic = addressOf(action);
      if (!topic?.startsWith('aws_sns_topic.') || !view.resourceAt(topic)) report(address, `alarm action ${JSON.stringify(action)} is no SNS topic of the stack`);
    }
  }
  return alarms.length;
});

export const countsConsistent = rule('count-consistency', 'A switched resource (count) is referred to only where it exists: `x[0]` from resources with the same condition or inside a conditional on it, never `x` without an index', (view, report) => {
  let checked = 0;
  const counted = new Map<string, string[]>();
  const forEach = new Set<string>();
  for (const [address, node] of view.nodes()) {
    if (node.count !== undefined) counted.set(address, existenceTerms(node.count));
    if (node.for_each !== undefined) forEach.add(address);
  }
  const scan = (address: string, body: Resource, own: string[]) => {
    for (const [path, text] of stringsIn(body)) {
      if (path === 'count' || path.startsWith('depends_on') || path.startsWith('for_each')) continue;
      for (const inner of interpolations(text)) {
        for (const reference of guardedReferences(inner, own)) {
          if (forEach.has(reference.address) || !view.resourceAt(reference.address)) continue;
          const needed = counted.get(reference.address);
          if (!needed) {
            if (reference.indexed) report(address, `${withoutIndexes(path)} indexes ${reference.address}, which has no count`);
            continue;
          }
          checked += 1;
          if (!reference.indexed) {
            report(address, `${withoutIndexes(path)} refers to ${reference.address} without an index, but it has a count`);
            continue;
          }
          const missing = needed.filter((term) => !reference.guard.includes(term));
          if (missing.length > 0) report(address, `${withoutIndexes(path)} reads ${reference.address}[0], which exists only when ${missing.join(' && ')}, without that condition`);
        }
      }
    }
  };
  for (const [address, node] of view.nodes()) scan(address, node, node.count === undefined ? [] : existenceTerms(node.count));
  for (const [name, output] of Object.entries(view.stack.output ?? {})) scan(`output.${name}`, output, []);
  return checked;
});

// ---------------------------------------------------------------------------------------------
// 7. IAM
// ---------------------------------------------------------------------------------------------

export const identityPoliciesLeastPrivilege = rule('iam-least-privilege', 'Identity policies: no wildcard action (not even `s3:Get*`), no NotAction/NotResource, and "*" as resource only for the actions listed in STAR_RESOURCE_ALLOWED (each used)', (view, report) => {
  const policies = view.identityPolicies();
  const starActions = new Set<string>();
  for (const [address, policy] of policies) {
    const statements = view.policyStatements(policy);
    if (!statements) {
      report(address, `policy ${JSON.stringify(policy)} cannot be read (neither a policy document of the stack nor JSON)`);
      continue;
    }
    statements.forEach((statement, index) => {
      if (!isAllow(statement)) return;
      const where = statementName(statement, index);
      if (statement.not_actions) report(address, `${where} allows NotAction ${JSON.stringify(statement.not_actions)}`);
      if (statement.not_resources) report(address, `${where} allows on NotResource ${JSON.stringify(statement.not_resources)}`);
      const actions = statement.actions ?? [];
      // `*`, `s3:*`, and families like `s3:Get*` alike: every action is named.
      for (const action of actions) if (action.includes('*')) report(address, `${where} allows the wildcard action ${action}`);
      if ((statement.resources ?? []).includes('*')) {
        for (const action of actions) {
          starActions.add(action);
          if (!(action in STAR_RESOURCE_ALLOWED)) report(address, `${where} allows ${action} on resource "*"`);
        }
      }
    });
  }
  for (const action of Object.keys(STAR_RESOURCE_ALLOWED)) if (!starActions.has(action)) report(action, 'is listed in STAR_RESOURCE_ALLOWED but no policy grants it on "*" (a stale exception)');
  return policies.length;
});

export const keyPoliciesNarrow = rule('kms-key-policy', 'KMS key policies: kms:* only for the account root, service principals only Decrypt/GenerateDataKey/DescribeKey with a source condition', (view, report) => {
  const keys = view.all('aws_kms_key');
  const accountRoot = /^arn:[^:]+:iam::\$\{data\.aws_caller_identity\.[^.]+\.account_id\}:root$/;
  for (const [address, key] of keys) {
    if (key.policy === undefined) continue; // the default key policy: the account root only
    const statements = view.policyStatements(key.policy);
    if (!statements) {
      report(address, `key policy ${JSON.stringify(key.policy)} cannot be read`);
      continue;
    }
    statements.forEach((statement, index) => {
      if (!isAllow(statement)) return;
      const where = statementName(statement, index);
      const principals = statement.principals ?? [];
      const actions = statement.actions ?? [];
      const isRootOnly = principals.length > 0 && principals.every((p) => p.type === 'AWS' && p.identifiers.every((id) => accountRoot.test(id)));
      if (statement.not_actions || statement.not_principals) report(address, `${where} uses NotAction or NotPrincipal`);
      if (principals.length === 0 || principals.some((p) => p.identifiers.includes('*'))) report(address, `${where} allows any principal`);
      if (!isRootOnly) {
        for (const action of actions) if (action === '*' || action === 'kms:*') report(address, `${where} allows ${action} to a principal other than the account root`);
      }
      for (const principal of principals.filter((p) => p.type === 'Service')) {
        for (const action of actions.filter((a) => !KMS_SERVICE_ACTIONS.has(a))) report(address, `${where} allows ${action} to the service ${principal.identifiers.join(', ')}`);
        const scoped = (statement.condition ?? []).some((c) => ['aws:SourceAccount', 'aws:SourceArn'].includes(c.variable));
        if (!scoped) report(address, `${where} allows the service ${principal.identifiers.join(', ')} without an aws:SourceAccount or aws:SourceArn condition`);
      }
    });
  }
  return keys.length;
});

export const noBroadManagedPolicies = rule('iam-managed-policies', 'No broad AWS managed policy (AdministratorAccess, PowerUserAccess, *FullAccess) is attached', (view, report) => {
  const attached: [string, unknown][] = [
    ...['aws_iam_role_policy_attachment', 'aws_iam_policy_attachment', 'aws_iam_user_policy_attachment', 'aws_iam_group_policy_attachment']
      .flatMap((type) => view.all(type).map(([address, r]): [string, unknown] => [address, r.policy_arn])),
    ...view.all('aws_iam_role_policy_attachments_exclusive').flatMap(([address, r]) => ((r.policy_arns as unknown[]) ?? []).map((arn): [string, unknown] => [address, arn])),
    ...view.all('aws_iam_role').flatMap(([address, r]) => ((r.managed_policy_arns as unknown[]) ?? []).map((arn): [string, unknown] => [address, arn])),
  ];
  for (const [address, arn] of attached) if (typeof arn === 'string' && BROAD_MANAGED_POLICY.test(arn)) report(address, `attaches ${arn}`);
  // Every role counts as looked at: none may have such a policy, attached or not.
  return view.all('aws_iam_role').length;
});

export const rolesTrustOneService = rule('iam-trust', 'Every role may be assumed by exactly one AWS service (sts:AssumeRole only), with a source condition against confused deputies unless listed in TRUST_WITHOUT_SOURCE_CONDITION', (view, report) => {
  const roles = view.all('aws_iam_role');
  const exempted = new Set<string>();
  for (const [address, role] of roles) {
    const statements = view.policyStatements(role.assume_role_policy);
    if (!statements) {
      report(address, `assume_role_policy ${JSON.stringify(role.assume_role_policy)} cannot be read`);
      continue;
    }
    const services = new Set<string>();
    statements.forEach((statement, index) => {
      if (!isAllow(statement)) return;
      const where = statementName(statement, index);
      const actions = statement.actions ?? [];
      if (statement.not_actions || statement.not_principals) report(address, `trust ${where} uses NotAction or NotPrincipal`);
      if (actions.length === 0 || actions.some((a) => a !== 'sts:AssumeRole')) report(address, `trust ${where} allows ${JSON.stringify(actions)}, not only sts:AssumeRole`);
      for (const principal of statement.principals ?? []) {
        if (principal.type !== 'Service') report(address, `trust ${where} lets a ${principal.type} principal (${principal.identifiers.join(', ')}) assume the role`);
        for (const id of principal.identifiers) {
          if (principal.type === 'Service') services.add(id);
          if (id === '*') report(address, `trust ${where} lets anyone assume the role`);
        }
      }
      const scoped = (statement.condition ?? []).some((c) => SOURCE_CONDITION_KEYS.has(c.variable));
      for (const service of (statement.principals ?? []).filter((p) => p.type === 'Service').flatMap((p) => p.identifiers)) {
        if (service in TRUST_WITHOUT_SOURCE_CONDITION) exempted.add(service);
        else if (!scoped) report(address, `trust ${where} lets ${service} assume the role without an aws:SourceAccount, aws:SourceArn or sts:ExternalId condition`);
      }
    });
    if (services.size !== 1) report(address, `is trusted by ${services.size} services (${[...services].join(', ') || 'none'}), not exactly one`);
  }
  for (const service of Object.keys(TRUST_WITHOUT_SOURCE_CONDITION)) if (!exempted.has(service)) report(service, 'is listed in TRUST_WITHOUT_SOURCE_CONDITION but trusts no role (a stale exception)');
  return roles.length;
});

export const lambdaPermissionsScoped = rule('lambda-permissions', 'Every permission to invoke a function names one AWS service and the one resource of the stack it may invoke from (an API method, a rule)', (view, report) => {
  const permissions = view.all('aws_lambda_permission');
  for (const [address, permission] of permissions) {
    const principal = String(permission.principal ?? '');
    if (!/^[a-z0-9.-]+\.amazonaws\.com$/.test(principal)) report(address, `principal ${JSON.stringify(permission.principal)} is no AWS service`);
    if (permission.action !== 'lambda:InvokeFunction') report(address, `action ${JSON.stringify(permission.action)} is not lambda:InvokeFunction`);
    const source = permission.source_arn;
    const sources = referencesIn(source).filter((r) => view.resourceAt(r.address));
    if (typeof source !== 'string' || sources.length === 0) report(address, `source_arn ${JSON.stringify(source)} names no resource of the stack`);
    else if (principal === 'apigateway.amazonaws.com' && !/\/\*\/(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\/[^*]+$/.test(source)) {
      report(address, `source_arn ${JSON.stringify(source)} is not one method and path of the API`);
    }
  }
  return permissions.length;
});

export const resourcePoliciesScoped = rule('resource-policies', 'Queue, bucket and topic policies allow nobody anonymously, and an AWS service only with an aws:SourceArn or aws:SourceAccount condition', (view, report) => {
  const policies: [string, unknown][] = [
    ...view.all('aws_sqs_queue_policy').map(([address, p]): [string, unknown] => [address, p.policy]),
    ...view.all('aws_s3_bucket_policy').map(([address, p]): [string, unknown] => [address, p.policy]),
    ...view.all('aws_sns_topic_policy').map(([address, p]): [string, unknown] => [address, p.policy]),
    ...view.all('aws_sns_topic').filter(([, t]) => t.policy !== undefined).map(([address, t]): [string, unknown] => [address, t.policy]),
    ...view.all('aws_sqs_queue').filter(([, q]) => q.policy !== undefined).map(([address, q]): [string, unknown] => [address, q.policy]),
  ];
  for (const [address, policy] of policies) {
    const statements = view.policyStatements(policy);
    if (!statements) {
      report(address, `policy ${JSON.stringify(policy)} cannot be read`);
      continue;
    }
    statements.forEach((statement, index) => {
      if (!isAllow(statement)) return;
      const where = statementName(statement, index);
      if (statement.not_principals || statement.not_actions) report(address, `${where} uses NotPrincipal or NotAction`);
      const principals = statement.principals ?? [];
      if (principals.length === 0 || principals.some((p) => p.identifiers.includes('*'))) report(address, `${where} allows any principal`);
      const scoped = (statement.condition ?? []).some((c) => c.variable === 'aws:SourceArn' || c.variable === 'aws:SourceAccount');
      for (const principal of principals.filter((p) => p.type === 'Service')) {
        if (!scoped) report(address, `${where} allows ${principal.identifiers.join(', ')} without an aws:SourceArn or aws:SourceAccount condition`);
      }
    });
  }
  return policies.length;
});

export const endpointsUseTls = rule('outbound-tls', 'Every endpoint the stack calls out to (API destinations, functions\' *_URL settings) is https://, literally or through a variable whose validation requires it', (view, report) => {
  let checked = 0;
  const requireHttps = (address: string, where: string, value: unknown) => {
    checked += 1;
    const variable = typeof value === 'string' ? /^\$\{var\.([a-z0-9_]+)\}/.exec(value)?.[1] : undefined;
    if (variable) {
      const declared = view.stack.variable?.[variable];
      const validations = asList(declared?.validation as Record<string, unknown>[] | undefined).map((v) => String(v.condition));
      if (!validations.some((condition) => condition.includes('^https://'))) report(address, `${where} comes from var.${variable}, whose validation does not require https://`);
      const fallback = declared?.default;
      if (fallback !== undefined && fallback !== '' && !/^https:\/\//.test(String(fallback))) report(address, `${where} defaults to ${JSON.stringify(fallback)}, not https://`);
      return;
    }
    if (typeof value !== 'string' || !/^https:\/\//.test(value)) report(address, `${where} is ${JSON.stringify(value)}, not https://`);
  };
  for (const [address, destination] of view.all('aws_cloudwatch_event_api_destination')) requireHttps(address, 'invocation_endpoint', destination.invocation_endpoint);
  for (const [address, fn] of view.all('aws_lambda_function')) {
    for (const [name, value] of Object.entries((block(fn.environment)?.variables ?? {}) as Record<string, unknown>)) {
      if (/_(?:URL|ENDPOINT)$/.test(name)) requireHttps(address, `environment variable ${name}`, value);
    }
  }
  return checked;
});

// ---------------------------------------------------------------------------------------------
// 8. Cognito
// ---------------------------------------------------------------------------------------------

export const passwordsStrong = rule('cognito-passwords', 'User pools require passwords of 12+ characters with all four character classes', (view, report) => {
  const pools = view.all('aws_cognito_user_pool');
  for (const [address, pool] of pools) {
    const policy = block(pool.password_policy) ?? {};
    if (typeof policy.minimum_length !== 'number' || policy.minimum_length < 12) report(address, `minimum_length is ${JSON.stringify(policy.minimum_length)}`);
    for (const flag of ['require_lowercase', 'require_uppercase', 'require_numbers', 'require_symbols']) {
      if (policy[flag] !== true) report(address, `${flag} is ${JSON.stringify(policy[flag])}`);
    }
  }
  return pools.length;
});

export const clientsPublicAndBounded = rule('cognito-clients', 'App clients have no secret and cannot write the tenant of their user', (view, report) => {
  const clients = view.all('aws_cognito_user_pool_client');
  for (const [address, client] of clients) {
    if (client.generate_secret === true) report(address, 'generates a client secret');
    // Without write_attributes, a client may write every writable attribute.
    if (!Array.isArray(client.write_attributes)) report(address, 'no write_attributes (every attribute is writable)');
    else if (client.write_attributes.includes('custom:tenant_id')) report(address, 'may write custom:tenant_id');
  }
  return clients.length;
});

// ---------------------------------------------------------------------------------------------
// 9. API Gateway
// ---------------------------------------------------------------------------------------------

export const routesAuthorized = rule('api-authorization', 'Every method but the declared public and IAM routes requires a Cognito user-pool token (and every declared route exists)', (view, report) => {
  const methods = view.all('aws_api_gateway_method');
  for (const [address, method] of methods) {
    const route = routeOf(view, method);
    if (route in PUBLIC_ROUTES) {
      if (method.authorization !== 'NONE') report(address, `(${route}) a declared public route is ${JSON.stringify(method.authorization)}`);
      continue;
    }
    if (route in IAM_ROUTES) {
      if (method.authorization !== 'AWS_IAM') report(address, `(${route}) a declared IAM route is ${JSON.stringify(method.authorization)}`);
      continue;
    }
    const authorizer = addressOf(method.authorizer_id);
    const authorizerType = authorizer ? view.resourceAt(authorizer)?.type : undefined;
    if (method.authorization !== 'COGNITO_USER_POOLS') report(address, `(${route}) authorization is ${JSON.stringify(method.authorization)}`);
    else if (authorizerType !== 'COGNITO_USER_POOLS') report(address, `(${route}) authorizer ${JSON.stringify(method.authorizer_id)} is no Cognito user-pool authorizer of the stack`);
  }
  const routes = methods.map(([, method]) => routeOf(view, method));
  for (const route of [...Object.keys(PUBLIC_ROUTES), ...Object.keys(IAM_ROUTES)]) if (!routes.includes(route)) report(route, 'is a declared route the API does not have (a stale exception)');
  return methods.length;
});

export const noApiKeyOnlyRoutes = rule('api-no-key-only', 'No method relies on an API key alone: a method that requires a key also requires an authorization', (view, report) => {
  const methods = view.all('aws_api_gateway_method');
  for (const [address, method] of methods) {
    if (method.api_key_required === true && (method.authorization ?? 'NONE') === 'NONE' && !(routeOf(view, method) in PUBLIC_ROUTES)) {
      report(address, `(${routeOf(view, method)}) requires an API key and nothing else (an API key identifies a caller, it does not authenticate one)`);
    }
  }
  return methods.length;
});

export const stagesThrottled = rule('api-throttling', 'Every stage throttles every method (method settings on */* with rate and burst limits)', (view, report) => {
  const stages = view.all('aws_api_gateway_stage');
  for (const [address, stage] of stages) {
    const throttled = view.all('aws_api_gateway_method_settings').some(([, settings]) => {
      const values = block(settings.settings) ?? {};
      const limited = (value: unknown) => value !== undefined && value !== -1 && view.effective(value) !== -1;
      return addressOf(settings.stage_name) === address
        && addressOf(settings.rest_api_id) === addressOf(stage.rest_api_id)
        && settings.method_path === '*/*'
        && limited(values.throttling_rate_limit)
        && limited(values.throttling_burst_limit);
    });
    if (!throttled) report(address, 'no aws_api_gateway_method_settings with throttling on */*');
  }
  return stages.length;
});

export const stagesLogAccess = rule('api-access-logs', 'Every stage writes an access log line per request (with its request id) to a log group or Firehose stream of the stack', (view, report) => {
  const stages = view.all('aws_api_gateway_stage');
  for (const [address, stage] of stages) {
    const settings = block(stage.access_log_settings);
    const destination = addressOf(settings?.destination_arn);
    const ofStack = destination && /^aws_(?:cloudwatch_log_group|kinesis_firehose_delivery_stream)\./.test(destination) && view.resourceAt(destination);
    if (!ofStack) report(address, `access_log_settings.destination_arn ${JSON.stringify(settings?.destination_arn)} is no log group or Firehose stream of the stack`);
    if (typeof settings?.format !== 'string' || !settings.format.includes('$context.requestId')) report(address, 'access log format has no $context.requestId');
  }
  return stages.length;
});

// ---------------------------------------------------------------------------------------------
// 10. Lambda functions
// ---------------------------------------------------------------------------------------------

export const functionsOwnRoles = rule('lambda-own-role', 'Each function has a role of the stack of its own', (view, report) => {
  const functions = view.all('aws_lambda_function');
  const byRole = new Map<string, string[]>();
  for (const [address, fn] of functions) {
    const role = String(addressOf(fn.role) ?? fn.role);
    byRole.set(role, [...(byRole.get(role) ?? []), address]);
  }
  for (const [role, users] of byRole) {
    if (!role.startsWith('aws_iam_role.') || !view.resourceAt(role)) report(users.join(', '), `role ${role} is no role of the stack`);
    if (users.length > 1) report(users.join(', '), `share the role ${role}`);
  }
  return functions.length;
});

export const functionsLogToStackGroups = rule('lambda-log-group', 'Each function logs to a log group of the stack (so retention applies)', (view, report) => {
  const functions = view.all('aws_lambda_function');
  const groups = view.all('aws_cloudwatch_log_group');
  for (const [address, fn] of functions) {
    const configured = block(fn.logging_config)?.log_group as string | undefined;
    // A configured log group must be one of the stack; otherwise Lambda logs to /aws/lambda/<function name>.
    const hasGroup = configured === undefined
      ? groups.some(([, group]) => group.name === `/aws/lambda/${String(fn.function_name)}`)
      : groups.some(([groupAddress]) => addressOf(configured) === groupAddress);
    if (!hasGroup) report(address, `no log group of the stack (logging_config.log_group ${JSON.stringify(configured)}, or /aws/lambda/<function name>)`);
  }
  return functions.length;
});

export const functionsOnSupportedRuntime = rule('lambda-runtime', `Each function runs ${LAMBDA_RUNTIME} on ${LAMBDA_ARCHITECTURE}`, (view, report) => {
  const functions = view.all('aws_lambda_function');
  for (const [address, fn] of functions) {
    if (fn.runtime !== LAMBDA_RUNTIME) report(address, `runtime is ${JSON.stringify(fn.runtime)}`);
    if (JSON.stringify(fn.architectures) !== JSON.stringify([LAMBDA_ARCHITECTURE])) report(address, `architectures are ${JSON.stringify(fn.architectures)}`);
  }
  return functions.length;
});

export const functionEnvironmentsHoldNoSecrets = rule('lambda-environment', 'No function environment holds a credential: credential-named variables point to a secret (…_ARN, …_NAME), values carry no key-like literal and no sensitive variable', (view, report) => {
  let checked = 0;
  const sensitive = view.sensitiveVariables();
  for (const [address, fn] of view.all('aws_lambda_function')) {
    const variables = (block(fn.environment)?.variables ?? {}) as Record<string, unknown>;
    for (const [name, value] of Object.entries(variables)) {
      checked += 1;
      const text = String(value);
      if (CREDENTIAL_NAME.test(name) && !POINTER_NAME.test(name)) report(address, `environment variable ${name} is named as a credential: pass where it is (${name}_ARN, a secret of the stack), never its value`);
      const literal = interpolations(text).reduce((rest, inner) => rest.replace(`\${${inner}}`, ' '), text);
      for (const { name: kind, pattern } of CREDENTIAL_PATTERNS) if (pattern.test(literal)) report(address, `environment variable ${name} holds what looks like ${kind}`);
      for (const run of literal.match(KEY_LIKE_RUN) ?? []) {
        if (/[A-Z]/.test(run) && /[a-z]/.test(run) && /[0-9]/.test(run)) report(address, `environment variable ${name} holds a key-like literal of ${run.length} characters`);
      }
      for (const variable of sensitive) if (new RegExp(`\\bvar\\.${variable}\\b`).test(text)) report(address, `environment variable ${name} carries the sensitive variable var.${variable}`);
    }
  }
  return checked;
});

export const concurrencyBounded = rule('lambda-concurrency', 'Reserved concurrency, where set, is at least 1; the functions behind the public routes have it (the only unauthenticated entry points cannot take the account\'s concurrency)', (view, report) => {
  const functions = view.all('aws_lambda_function');
  const publicFunctions = new Set<string>();
  for (const [, integration] of view.all('aws_api_gateway_integration')) {
    const method = addressOf(integration.http_method);
    const fn = addressOf(integration.uri);
    const methodBody = method ? view.resourceAt(method) : undefined;
    if (methodBody && fn?.startsWith('aws_lambda_function.') && routeOf(view, methodBody) in PUBLIC_ROUTES) publicFunctions.add(fn);
  }
  for (const [address, fn] of functions) {
    const value = fn.reserved_concurrent_executions;
    if (value === undefined) {
      if (publicFunctions.has(address)) report(address, 'serves a public route without reserved_concurrent_executions');
      continue;
    }
    const effective = view.effective(value);
    if (typeof effective !== 'number' || effective < 1) report(address, `reserved_concurrent_executions is ${JSON.stringify(value)} (default ${JSON.stringify(effective)}): 0 stops the function, -1 is no reservation`);
  }
  if (Object.keys(PUBLIC_ROUTES).length > 0 && publicFunctions.size === 0) report('PUBLIC_ROUTES', 'no function of the stack serves the declared public routes');
  return functions.length;
});

// ---------------------------------------------------------------------------------------------
// 11. Firehose, Athena, Glue
// ---------------------------------------------------------------------------------------------

export const streamsEncryptedAndScoped = rule('firehose', 'Firehose streams encrypt at rest, deliver with a role of their own trusted by Firehose alone, and log delivery errors to a log group of the stack', (view, report) => {
  const streams = view.all('aws_kinesis_firehose_delivery_stream');
  const roleUsers = new Map<string, Set<string>>();
  /** The destination configurations of a stream, and the S3 backup configuration inside each. */
  const deliveriesOf = (stream: Resource): [string, Record<string, unknown>][] => Object.entries(stream)
    .filter(([key]) => key.endsWith('_configuration') && !key.endsWith('source_configuration'))
    .flatMap(([key, value]) => {
      const config = block(value);
      const backup = block(config?.s3_configuration);
      return [...(config ? [[key, config] as [string, Record<string, unknown>]] : []), ...(backup ? [[`${key}.s3_configuration`, backup] as [string, Record<string, unknown>]] : [])];
    });
  for (const [address, stream] of streams) {
    const sse = block(stream.server_side_encryption);
    if (sse?.enabled !== true) report(address, 'server_side_encryption is not enabled');
    else if (sse.key_type === 'CUSTOMER_MANAGED_CMK' && !sse.key_arn) report(address, 'server_side_encryption uses a customer managed key without key_arn');
    const deliveries = deliveriesOf(stream);
    if (deliveries.length === 0) report(address, 'has no destination configuration');
    for (const [where, config] of deliveries) {
      const role = addressOf(config.role_arn);
      if (!role?.startsWith('aws_iam_role.') || !view.resourceAt(role)) report(address, `${where}.role_arn ${JSON.stringify(config.role_arn)} is no role of the stack`);
      else {
        roleUsers.set(role, new Set([...(roleUsers.get(role) ?? []), address]));
        const trusted = (view.policyStatements(view.resourceAt(role)?.assume_role_policy) ?? []).filter(isAllow)
          .flatMap((s) => (s.principals ?? []).flatMap((p) => p.identifiers));
        if (trusted.length !== 1 || trusted[0] !== 'firehose.amazonaws.com') report(address, `${where}.role_arn ${role} is trusted by ${JSON.stringify(trusted)}, not by firehose.amazonaws.com alone`);
      }
      const logging = block(config.cloudwatch_logging_options);
      const group = addressOf(logging?.log_group_name);
      if (logging?.enabled !== true || !group?.startsWith('aws_cloudwatch_log_group.') || !view.resourceAt(group)) {
        report(address, `${where}.cloudwatch_logging_options does not log delivery errors to a log group of the stack`);
      }
    }
  }
  for (const [role, users] of roleUsers) if (users.size > 1) report(role, `is the delivery role of several streams: ${[...users].join(', ')}`);
  return streams.length;
});

export const workgroupsEnforced = rule('athena-workgroup', 'Athena workgroups enforce their settings, encrypt query results into a bucket of the stack and bound the data a query scans', (view, report) => {
  const groups = view.all('aws_athena_workgroup');
  for (const [address, group] of groups) {
    const configuration = block(group.configuration);
    if (configuration?.enforce_workgroup_configuration !== true) report(address, 'enforce_workgroup_configuration is not true (clients could override the result location and encryption)');
    const results = block(configuration?.result_configuration);
    const option = block(results?.encryption_configuration)?.encryption_option;
    // A literal, or a conditional whose every branch is a literal option.
    const options = typeof option === 'string' && option.startsWith('${') ? [...option.matchAll(/"([A-Z_]+)"/g)].map((m) => m[1]) : [option];
    if (options.length === 0 || options.some((o) => typeof o !== 'string' || !ATHENA_RESULT_ENCRYPTION.has(o))) report(address, `result encryption_option is ${JSON.stringify(option)}`);
    if (typeof results?.output_location !== 'string' || !view.bucketOfLocation(results.output_location)) report(address, `output_location ${JSON.stringify(results?.output_location)} is in no bucket of the stack`);
    const cutoff = view.effective(configuration?.bytes_scanned_cutoff_per_query);
    if (typeof cutoff !== 'number' || cutoff <= 0) report(address, `bytes_scanned_cutoff_per_query is ${JSON.stringify(configuration?.bytes_scanned_cutoff_per_query)}`);
  }
  return groups.length;
});

export const glueTablesInStackBuckets = rule('glue-tables', 'Glue tables of the stack live in a database of the stack and read from a bucket of the stack', (view, report) => {
  const tables = view.all('aws_glue_catalog_table');
  for (const [address, table] of tables) {
    const database = addressOf(table.database_name);
    if (!database?.startsWith('aws_glue_catalog_database.') || !view.resourceAt(database)) report(address, `database_name ${JSON.stringify(table.database_name)} is no database of the stack`);
    const location = block(table.storage_descriptor)?.location;
    if (typeof location !== 'string' || !view.bucketOfLocation(location)) report(address, `storage_descriptor.location ${JSON.stringify(location)} is in no bucket of the stack`);
  }
  return tables.length;
});

// ---------------------------------------------------------------------------------------------
// All rules
// ---------------------------------------------------------------------------------------------

/** Every rule, in the order of the sections above. */
export const ALL_RULES: readonly PolicyRule[] = [
  bucketsEncrypted, bucketsPrivate, bucketsTlsOnly, bucketsVersioned, bucketsOwnerEnforced, bucketsLifecycle, dataLocationsInStackBuckets,
  tablesRecoverable,
  queuesEncrypted, topicsEncrypted, keysRotated,
  secretsManaged, noSecretValuesInState, secretsReadNarrowly, sensitiveVariablesContained, noLiteralCredentials,
  logsExpire,
  invokeConfigsHaveDestination, eventTargetsHaveDeadLetters, consumedQueuesRedrive, deadLettersAlarmed, deadLettersWritable,
  deadLettersKeepLongEnough, consumedQueuesOutlastFunctions, retriesBounded, alarmsNotify, countsConsistent,
  identityPoliciesLeastPrivilege, keyPoliciesNarrow, noBroadManagedPolicies, rolesTrustOneService, lambdaPermissionsScoped, resourcePoliciesScoped, endpointsUseTls,
  passwordsStrong, clientsPublicAndBounded,
  routesAuthorized, noApiKeyOnlyRoutes, stagesThrottled, stagesLogAccess,
  functionsOwnRoles, functionsLogToStackGroups, functionsOnSupportedRuntime, functionEnvironmentsHoldNoSecrets, concurrencyBounded,
  streamsEncryptedAndScoped, workgroupsEnforced, glueTablesInStackBuckets,
];
