import { USAGE_EVENT_COLUMNS } from '../../core/lake/usage-event-table';
import { documentStatements, ref, resourceNamed, resourcesOfType, synthStack } from '../support/synth';

const { parsed: stack } = synthStack();

type Statement = { effect: string; actions: string[]; resources: string[] };

function routeOf(method: Record<string, unknown>): string {
  const resources = resourcesOfType(stack, 'aws_api_gateway_resource');
  const parts: string[] = [];
  let id = method.resource_id as string;
  for (let match = /^\$\{aws_api_gateway_resource\.([^.]+)\.id\}$/.exec(id); match; match = /^\$\{aws_api_gateway_resource\.([^.]+)\.id\}$/.exec(id)) {
    const resource = resources[match[1]];
    parts.unshift(resource.path_part as string);
    id = resource.parent_id as string;
  }
  return `${method.http_method} /${parts.join('/')}`;
}

const [fnName, fn] = resourceNamed(stack, 'aws_lambda_function', 'usage-events');
const roleName = (fn.role as string).replace(/^\$\{aws_iam_role\.([^.]+)\.arn\}$/, '$1');
const [streamName] = resourceNamed(stack, 'aws_kinesis_firehose_delivery_stream', 'stream');

describe('usage events endpoint', () => {
  const methods = Object.entries(resourcesOfType(stack, 'aws_api_gateway_method'));
  const byRoute = new Map(methods.map(([name, method]) => [routeOf(method), [name, method] as const]));

  it('takes tenants\' events on POST /usage behind the Cognito authorizer', () => {
    const [, method] = byRoute.get('POST /usage')!;
    const [authorizerName] = resourceNamed(stack, 'aws_api_gateway_authorizer', 'authorizer');
    expect(method).toMatchObject({ authorization: 'COGNITO_USER_POOLS', authorizer_id: ref('aws_api_gateway_authorizer', authorizerName, 'id') });
  });

  it('takes backends\' events on POST /backend/usage with IAM authorization only', () => {
    const [, method] = byRoute.get('POST /backend/usage')!;
    expect(method.authorization).toBe('AWS_IAM');
    expect(method.authorizer_id).toBeUndefined();
  });

  it('proxies both routes to the usage-events function, which API Gateway may invoke on those routes only', () => {
    for (const route of ['POST /usage', 'POST /backend/usage']) {
      const [methodName, method] = byRoute.get(route)!;
      const integrations = Object.values(resourcesOfType(stack, 'aws_api_gateway_integration'))
        .filter((i) => i.resource_id === method.resource_id && i.http_method === `\${aws_api_gateway_method.${methodName}.http_method}`);
      expect(integrations).toEqual([expect.objectContaining({ type: 'AWS_PROXY', uri: ref('aws_lambda_function', fnName, 'invoke_arn') })]);
    }
    const permissions = Object.values(resourcesOfType(stack, 'aws_lambda_permission')).filter((p) => p.function_name === ref('aws_lambda_function', fnName, 'function_name'));
    expect(permissions.map((p) => (p.source_arn as string).replace(/^.*\/\*\//, '')).sort()).toEqual(['POST/backend/usage', 'POST/usage']);
  });

  it('gives its function the stream name and exactly the right to put records on that stream (and its own logs)', () => {
    const env = (fn.environment as { variables: Record<string, string> }).variables;
    expect(env.DELIVERY_STREAM_NAME).toBe('amazon-apigateway-${var.name_prefix}');
    const statements = Object.values(resourcesOfType(stack, 'aws_iam_role_policy'))
      .filter((p) => p.role === `\${aws_iam_role.${roleName}.id}`)
      .flatMap((p) => documentStatements(stack, p.policy as string) as Statement[]);
    const grants = Object.fromEntries(statements.flatMap((s) => s.actions.map((a) => [a, s.resources])));
    expect(grants).toEqual({
      'logs:CreateLogStream': [expect.stringMatching(/usage-events_logs/)],
      'logs:PutLogEvents': [expect.stringMatching(/usage-events_logs/)],
      'firehose:PutRecordBatch': [expect.stringMatching(/:firehose:.*:deliverystream\/amazon-apigateway-\$\{var\.name_prefix\}$/)],
    });
    expect(streamName).toBeDefined();
  });

  it('offers backends a managed policy that allows invoking POST /backend/usage of the stage and nothing else', () => {
    const [, policy] = resourceNamed(stack, 'aws_iam_policy', 'backend-callers');
    const statements = documentStatements(stack, policy.policy as string) as Statement[];
    expect(statements).toEqual([
      expect.objectContaining({ effect: 'Allow', actions: ['execute-api:Invoke'], resources: [expect.stringMatching(/execution_arn\}\/\$\{aws_api_gateway_stage\.[^.]+\.stage_name\}\/POST\/backend\/usage$/)] }),
    ]);
    expect(stack.output.BackendCallerPolicyArn).toBeDefined();
    expect(stack.output.UsageEventsUrl).toBeDefined();
  });

  it('routes usage events in the transform to the usage-event table', () => {
    const [, transform] = resourceNamed(stack, 'aws_lambda_function', 'transform');
    const env = (transform.environment as { variables: Record<string, string> }).variables;
    expect(env.USAGE_EVENT_TABLE).toBe('usage_events');
    expect(env.USAGE_EVENT_DATABASE).toBe(env.ACCESS_LOG_DATABASE);
  });
});

describe('usage-event table DDL at deploy', () => {
  const [, invocation] = resourceNamed(stack, 'aws_lambda_invocation', 'usage-event-table');
  const input = invocation.input as string;

  it('creates an Iceberg table partitioned by the hour of the event, with the declared columns', () => {
    expect(invocation).toMatchObject({ lifecycle_scope: 'CRUD', terraform_key: 'tf' });
    expect(input).toMatch(/CREATE TABLE IF NOT EXISTS/);
    expect(input).toMatch(/PARTITIONED BY \(hour\(`event_time`\)\)/);
    expect(input).toMatch(/'table_type' = 'ICEBERG'/);
    expect(input).not.toMatch(/\{\{/);
    for (const column of USAGE_EVENT_COLUMNS) expect(input).toContain(`\`${column.name}\` ${column.type}`);
  });
});
