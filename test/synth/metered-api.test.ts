import { TENANT_CLAIM } from '../../core/access-log/fields';
import { resourceNamed, resourcesOfType, synthStack } from '../support/synth';

const { parsed: stack } = synthStack();

/** The Terraform address a `${type.name.attr}` reference points to. */
function refersTo(value: unknown, type: string, name: string): boolean {
  return typeof value === 'string' && value.includes(`${type}.${name}.`);
}

describe('metered API', () => {
  it('puts GET /random/strings behind the Cognito user-pool authorizer', () => {
    const [authorizerName, authorizer] = resourceNamed(stack, 'aws_api_gateway_authorizer', 'authorizer');
    expect(authorizer).toMatchObject({ type: 'COGNITO_USER_POOLS', identity_source: 'method.request.header.Authorization' });
    const [poolName] = resourceNamed(stack, 'aws_cognito_user_pool', 'user-pool');
    expect(refersTo((authorizer.provider_arns as string[])[0], 'aws_cognito_user_pool', poolName)).toBe(true);

    const methods = Object.values(resourcesOfType(stack, 'aws_api_gateway_method'));
    expect(methods.length).toBeGreaterThan(0);
    for (const method of methods) {
      expect(method.authorization).toBe('COGNITO_USER_POOLS');
      expect(refersTo(method.authorizer_id, 'aws_api_gateway_authorizer', authorizerName)).toBe(true);
    }
    const [, strings] = resourceNamed(stack, 'aws_api_gateway_resource', 'strings');
    expect(strings.path_part).toBe('strings');
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
});
