import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { TerraformStack, Testing } from 'cdktf';
import { TENANT_CLAIM } from '../../core/access-log/fields';
import { BundledFunction } from '../../modules/bundled-function/bundled-function';
import { MeteredApi, type PublicRoute } from '../../modules/metered-api/metered-api';
import { resourceNamed, resourcesOfType, synthStack } from '../support/synth';

const { parsed: stack } = synthStack();

/** The Terraform address a `${type.name.attr}` reference points to. */
function refersTo(value: unknown, type: string, name: string): boolean {
  return typeof value === 'string' && value.includes(`${type}.${name}.`);
}

/** The routes anyone may call without a token: each one deliberate, listed here. */
const PUBLIC_ROUTES = [
  // AWS Marketplace sends the buyer here (fulfilment URL) before they have an account.
  'POST /marketplace/register',
];
/** Routes for the provider's backends: IAM-signed, no user-pool token. */
const IAM_ROUTES = ['POST /backend/usage'];

/** `<METHOD> /<path>` of a method, following its resource's parents up to the API root. */
function routeOf(method: Record<string, unknown>): string {
  const resources = resourcesOfType(stack, 'aws_api_gateway_resource');
  const parts: string[] = [];
  let id = method.resource_id as string;
  for (;;) {
    const match = /^\$\{aws_api_gateway_resource\.([^.]+)\.id\}$/.exec(id);
    if (!match) break;
    const resource = resources[match[1]];
    parts.unshift(resource.path_part as string);
    id = resource.parent_id as string;
  }
  expect(id).toMatch(/^\$\{aws_api_gateway_rest_api\.[^.]+\.root_resource_id\}$/);
  return `${method.http_method as string} /${parts.join('/')}`;
}

describe('metered API', () => {
  it('puts every method but the declared public routes behind the Cognito user-pool authorizer', () => {
    const [authorizerName, authorizer] = resourceNamed(stack, 'aws_api_gateway_authorizer', 'authorizer');
    expect(authorizer).toMatchObject({ type: 'COGNITO_USER_POOLS', identity_source: 'method.request.header.Authorization' });
    const [poolName] = resourceNamed(stack, 'aws_cognito_user_pool', 'user-pool');
    expect(refersTo((authorizer.provider_arns as string[])[0], 'aws_cognito_user_pool', poolName)).toBe(true);

    const methods = Object.values(resourcesOfType(stack, 'aws_api_gateway_method'));
    expect(methods.map(routeOf)).toContain('GET /random/strings');
    for (const method of methods.filter((m) => !PUBLIC_ROUTES.includes(routeOf(m)) && !IAM_ROUTES.includes(routeOf(m)))) {
      expect(method.authorization).toBe('COGNITO_USER_POOLS');
      expect(refersTo(method.authorizer_id, 'aws_api_gateway_authorizer', authorizerName)).toBe(true);
    }
    const [, strings] = resourceNamed(stack, 'aws_api_gateway_resource', 'strings');
    expect(strings.path_part).toBe('strings');
  });

  it('has exactly the listed public routes, without authorizer', () => {
    const open = Object.values(resourcesOfType(stack, 'aws_api_gateway_method')).filter((m) => m.authorization === 'NONE');
    expect(open.map(routeOf).sort()).toEqual([...PUBLIC_ROUTES].sort());
    for (const method of open) {
      expect(method.authorization).toBe('NONE');
      expect(method.authorizer_id).toBeUndefined();
    }
  });

  it('proxies each public route to its function, invocable by this API on that route only', () => {
    const methods = Object.entries(resourcesOfType(stack, 'aws_api_gateway_method')).filter(([, m]) => PUBLIC_ROUTES.includes(routeOf(m)));
    expect(methods).toHaveLength(PUBLIC_ROUTES.length);
    const [fnName] = resourceNamed(stack, 'aws_lambda_function', 'marketplace-registration');
    for (const [methodName, method] of methods) {
      const integrations = Object.values(resourcesOfType(stack, 'aws_api_gateway_integration'))
        .filter((i) => i.resource_id === method.resource_id && i.http_method === `\${aws_api_gateway_method.${methodName}.http_method}`);
      expect(integrations).toHaveLength(1);
      expect(integrations[0]).toMatchObject({ type: 'AWS_PROXY', integration_http_method: 'POST' });
      expect(refersTo(integrations[0].uri, 'aws_lambda_function', fnName)).toBe(true);
    }
    const permissions = Object.values(resourcesOfType(stack, 'aws_lambda_permission')).filter((p) => refersTo(p.function_name, 'aws_lambda_function', fnName));
    expect(permissions).toHaveLength(1);
    expect(permissions[0].principal).toBe('apigateway.amazonaws.com');
    expect(permissions[0].source_arn).toMatch(/execution_arn\}\/\*\/POST\/marketplace\/register$/);
  });

  it('redeploys the API when a public route changes', () => {
    const [, deployment] = resourceNamed(stack, 'aws_api_gateway_deployment', 'deployment');
    const redeployment = (deployment.triggers as Record<string, string>).redeployment;
    for (const [name, method] of Object.entries(resourcesOfType(stack, 'aws_api_gateway_method')).filter(([, m]) => PUBLIC_ROUTES.includes(routeOf(m)))) {
      expect(redeployment).toContain(`aws_api_gateway_method.${name}.id`);
      expect(redeployment).toContain(`aws_api_gateway_method.${name}.authorization`);
      expect(redeployment).toContain((method.resource_id as string).replace(/^\$\{(.*)\}$/, '$1'));
      expect(deployment.depends_on).toContain(`aws_api_gateway_method.${name}`);
    }
  });

  it('proxies the method to the random-strings function, invocable only by this API on that route', () => {
    const [, integration] = resourceNamed(stack, 'aws_api_gateway_integration', 'get-strings');
    expect(integration).toMatchObject({ type: 'AWS_PROXY', integration_http_method: 'POST' });
    const [fnName, fn] = resourceNamed(stack, 'aws_lambda_function', 'random-strings');
    expect(refersTo(integration.uri, 'aws_lambda_function', fnName)).toBe(true);
    expect(fn).toMatchObject({ runtime: 'nodejs22.x', architectures: ['arm64'], handler: 'index.handler' });

    const [, permission] = resourceNamed(stack, 'aws_lambda_permission', 'invoke-random-strings');
    expect(permission.principal).toBe('apigateway.amazonaws.com');
    expect(permission.source_arn).toMatch(/execution_arn\}\/\*\/GET\/random\/strings$/);
  });

  it('logs every request of the stage to an amazon-apigateway-* Firehose stream, with the request id and the tenant claim', () => {
    const [, stage] = resourceNamed(stack, 'aws_api_gateway_stage', 'stage');
    const settings = stage.access_log_settings as { destination_arn: string; format: string };
    const [streamName, streamResource] = resourceNamed(stack, 'aws_kinesis_firehose_delivery_stream', 'stream');
    expect(refersTo(settings.destination_arn, 'aws_kinesis_firehose_delivery_stream', streamName)).toBe(true);
    expect(streamResource.name).toMatch(/^amazon-apigateway-/);
    expect(settings.format).toContain('$context.requestId');
    expect(settings.format).toContain(`$context.authorizer.claims['${TENANT_CLAIM}']`);
    // The format is valid JSON once API Gateway substitutes its variables.
    expect(() => JSON.parse(settings.format)).not.toThrow();
  });

  it('throttles the stage', () => {
    const [, settings] = resourceNamed(stack, 'aws_api_gateway_method_settings', 'throttling');
    expect(settings.method_path).toBe('*/*');
    expect(settings.settings).toMatchObject({
      throttling_rate_limit: '${var.api_throttle_rate_limit}',
      throttling_burst_limit: '${var.api_throttle_burst_limit}',
    });
  });

  it('redeploys the API when its definition changes', () => {
    const [, deployment] = resourceNamed(stack, 'aws_api_gateway_deployment', 'deployment');
    expect((deployment.triggers as Record<string, string>).redeployment).toMatch(/sha1\(jsonencode/);
    expect(deployment.lifecycle).toEqual({ create_before_destroy: true });
  });

  it('gives the random-strings role nothing but its own log stream', () => {
    const [fnName, fn] = resourceNamed(stack, 'aws_lambda_function', 'random-strings');
    const roleRef = fn.role as string;
    const roleName = roleRef.replace(/^\$\{aws_iam_role\.([^.]+)\.arn\}$/, '$1');
    expect(resourcesOfType(stack, 'aws_iam_role')[roleName]).toBeDefined();
    const policies = Object.values(resourcesOfType(stack, 'aws_iam_role_policy')).filter((p) => p.role === `\${aws_iam_role.${roleName}.id}`);
    expect(policies).toHaveLength(1);
    const documentName = (policies[0].policy as string).replace(/^\$\{data\.aws_iam_policy_document\.([^.]+)\.json\}$/, '$1');
    const document = stack.data.aws_iam_policy_document[documentName] as { statement: { actions: string[]; resources: string[] }[] };
    expect(document.statement).toHaveLength(1);
    expect(document.statement[0].actions.sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    const [logGroupName] = resourceNamed(stack, 'aws_cloudwatch_log_group', 'random-strings');
    expect(document.statement[0].resources).toEqual([`\${aws_cloudwatch_log_group.${logGroupName}.arn}:*`]);
    expect(Object.values(resourcesOfType(stack, 'aws_iam_role_policy_attachment')).filter((a) => a.role === `\${aws_iam_role.${roleName}.name}`)).toHaveLength(0);
    expect(fnName).toBeTruthy();
  });
});

describe('tenant user pool', () => {
  const [, pool] = resourceNamed(stack, 'aws_cognito_user_pool', 'user-pool');
  const [, client] = resourceNamed(stack, 'aws_cognito_user_pool_client', 'client');

  it('signs users in by email with a strong password policy', () => {
    expect(pool.username_attributes).toEqual(['email']);
    expect(pool.password_policy).toMatchObject({ minimum_length: 12, require_lowercase: true, require_uppercase: true, require_numbers: true, require_symbols: true });
  });

  it('holds the tenant in an immutable custom attribute', () => {
    expect(pool.schema).toEqual([expect.objectContaining({ name: 'tenant_id', attribute_data_type: 'String', mutable: false })]);
  });

  it('lets the app client read but never write the tenant', () => {
    expect(client.read_attributes).toContain(TENANT_CLAIM);
    expect(client.write_attributes).not.toContain(TENANT_CLAIM);
    expect(client.generate_secret).toBe(false);
    expect((client.explicit_auth_flows as string[]).sort()).toEqual(['ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH']);
  });

  it('lets only the backend create users, so every user gets a tenant', () => {
    expect(pool.admin_create_user_config).toEqual({ allow_admin_create_user_only: true });
  });
});

describe('stack outputs', () => {
  it.each(['UserPoolId', 'UserPoolClientId', 'RestApiEndpoint'])('outputs %s', (name) => {
    expect(stack.output[name]).toBeDefined();
  });

  it('outputs the registration page\'s URL on the stage', () => {
    const [stageName] = resourceNamed(stack, 'aws_api_gateway_stage', 'stage');
    expect(stack.output.MarketplaceRegistrationUrl.value).toBe(`\${aws_api_gateway_stage.${stageName}.invoke_url}/marketplace/register`);
  });
});

describe('public routes', () => {
  const STREAM = 'arn:aws:firehose:us-east-1:123456789012:deliverystream/amazon-apigateway-test';

  function apiWith(routes: (fn: BundledFunction) => PublicRoute[]) {
    const app = Testing.app();
    const test = new TerraformStack(app, 'public-routes');
    new AwsProvider(test, 'aws', { region: 'us-east-1' });
    const fn = new BundledFunction(test, 'page', { entry: 'random-strings', functionName: 'page', logRetentionDays: 7 });
    const api = new MeteredApi(test, 'api', { namePrefix: 't', accessLogDestinationArn: STREAM, logRetentionDays: 7, publicRoutes: routes(fn) });
    return { api, synth: JSON.parse(Testing.synth(test)) as { resource: Record<string, Record<string, Record<string, unknown>>> } };
  }

  it('declares none by default', () => {
    const { api, synth } = apiWith(() => []);
    expect(api.publicRoutes).toEqual([]);
    expect(Object.values(synth.resource.aws_api_gateway_method).map((m) => m.authorization)).toEqual(['COGNITO_USER_POOLS']);
  });

  it('shares the resources of a common path prefix, and uses "*" for path parameters in the invoke permission', () => {
    const { api, synth } = apiWith((fn) => [
      { pathParts: ['pages', 'a'], httpMethod: 'POST', function: fn },
      { pathParts: ['pages', '{id}'], httpMethod: 'GET', function: fn },
    ]);
    expect(api.publicRoutes).toEqual(['POST /pages/a', 'GET /pages/{id}']);
    const parts = Object.values(synth.resource.aws_api_gateway_resource).map((r) => r.path_part).sort();
    expect(parts).toEqual(['a', 'pages', 'random', 'strings', '{id}']);
    const arns = Object.values(synth.resource.aws_lambda_permission).map((p) => p.source_arn as string);
    expect(arns).toEqual(expect.arrayContaining([expect.stringMatching(/\/\*\/POST\/pages\/a$/), expect.stringMatching(/\/\*\/GET\/pages\/\*$/)]));
  });

  it.each([
    ['no path', [], 'POST', /at least one path segment/],
    ['an invalid segment', ['a/b'], 'POST', /invalid path segment/],
    ['an invalid method', ['a'], 'FETCH', /invalid HTTP method/],
    ['the authorized demo route', ['random', 'strings'], 'GET', /declared already/],
  ])('refuses %s', (_, pathParts, httpMethod, message) => {
    expect(() => apiWith((fn) => [{ pathParts: pathParts as string[], httpMethod: httpMethod as PublicRoute['httpMethod'], function: fn }])).toThrow(message);
  });

  it('refuses a route declared twice', () => {
    expect(() => apiWith((fn) => [{ pathParts: ['a'], httpMethod: 'POST', function: fn }, { pathParts: ['a'], httpMethod: 'POST', function: fn }])).toThrow(/declared already/);
  });
});
