import { ApiGatewayAuthorizer } from '@cdktf/provider-aws/lib/api-gateway-authorizer';
import { ApiGatewayDeployment } from '@cdktf/provider-aws/lib/api-gateway-deployment';
import { ApiGatewayIntegration } from '@cdktf/provider-aws/lib/api-gateway-integration';
import { ApiGatewayMethod } from '@cdktf/provider-aws/lib/api-gateway-method';
import { ApiGatewayMethodSettings } from '@cdktf/provider-aws/lib/api-gateway-method-settings';
import { ApiGatewayResource } from '@cdktf/provider-aws/lib/api-gateway-resource';
import { ApiGatewayRestApi } from '@cdktf/provider-aws/lib/api-gateway-rest-api';
import { ApiGatewayStage } from '@cdktf/provider-aws/lib/api-gateway-stage';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { Fn, Token } from 'cdktf';
import { Construct } from 'constructs';
import { accessLogFormat } from '../../core/access-log/fields';
import { BundledFunction } from '../bundled-function/bundled-function';
import { TenantUserPool } from './tenant-user-pool';

/** HTTP methods a route may declare (API Gateway's, plus `ANY`). */
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ANY'] as const;

/**
 * A route of the API that anyone may call, without a token: a Lambda proxy to `function`. Only for
 * pages that must work before the caller has an account (the AWS Marketplace registration page); such a
 * route is not metered for any tenant (its access-log lines carry no tenant).
 */
export interface PublicRoute {
  /** Path segments under the API root, e.g. `['marketplace', 'register']` for `/marketplace/register`. */
  readonly pathParts: readonly string[];
  /** HTTP method of the route, e.g. `POST`. */
  readonly httpMethod: (typeof HTTP_METHODS)[number];
  /** The function that answers (Lambda proxy integration); API Gateway is allowed to invoke it on this route only. */
  readonly function: BundledFunction;
}

export interface MeteredApiProps {
  /** Prefix of every resource name (may be a Terraform variable). */
  readonly namePrefix: string;
  /** @default 'prod' */
  readonly stageName?: string;
  /**
   * ARN of the Firehose delivery stream that receives the stage's access logs. API Gateway accepts only
   * streams whose name starts with `amazon-apigateway-` (the usage-ingestion module makes one).
   */
  readonly accessLogDestinationArn: string;
  /** Days to keep function logs. */
  readonly logRetentionDays: number;
  /** Steady-state requests per second allowed across the stage's methods. @default 100 */
  readonly throttleRateLimit?: number;
  /** Burst of requests allowed above the steady rate. @default 200 */
  readonly throttleBurstLimit?: number;
  /** `ACTIVE` keeps the user pool from being deleted. @default 'ACTIVE' */
  readonly userPoolDeletionProtection?: string;
  /**
   * Routes without the Cognito authorizer (`authorization = NONE`). Every other method of the API
   * requires a user-pool token or, for {@link iamRoutes}, an IAM signature. @default none
   */
  readonly publicRoutes?: readonly PublicRoute[];
  /** More routes behind the Cognito authorizer (the caller's tenant comes from its verified token). @default none */
  readonly tenantRoutes?: readonly PublicRoute[];
  /**
   * Routes for the SaaS provider's own backends: IAM authorization (`AWS_IAM`, SigV4-signed calls),
   * no user-pool token. A managed policy allowing exactly these routes is created for the operator to
   * attach to the backend's role ({@link backendCallerPolicyArn}). @default none
   */
  readonly iamRoutes?: readonly PublicRoute[];
}

/** How a route is authorised. */
type RouteAuthorization = 'NONE' | 'COGNITO_USER_POOLS' | 'AWS_IAM';

/**
 * The metered API: a REST API whose every method sits behind a Cognito user-pool authorizer (except the
 * declared {@link PublicRoute}s) and whose stage writes one JSON access-log line per request, tenant
 * included, to Firehose. The demo method is `GET /random/strings` (Lambda proxy to `functions/random-strings`).
 */
export class MeteredApi extends Construct {
  readonly userPool: TenantUserPool;
  readonly api: ApiGatewayRestApi;
  readonly stage: ApiGatewayStage;
  readonly randomStrings: BundledFunction;
  /** Invoke URL of the stage (output `RestApiEndpoint`), e.g. `https://abc.execute-api.us-east-1.amazonaws.com/prod`. */
  readonly endpointUrl: string;
  /** The routes declared public, as `<METHOD> /<path>` (e.g. `POST /marketplace/register`). */
  readonly publicRoutes: readonly string[];
  /** The IAM-authorised routes, as `<METHOD> /<path>`. */
  readonly iamRoutes: readonly string[];
  /** ARN of the managed policy that lets a backend call the IAM-authorised routes (undefined without any). */
  readonly backendCallerPolicyArn?: string;
  /** API resources by path (`random/strings`), so that routes sharing a prefix share its resources. */
  private readonly resources = new Map<string, ApiGatewayResource>();

  constructor(scope: Construct, id: string, props: MeteredApiProps) {
    super(scope, id);
    const accessLogArn = props.accessLogDestinationArn;
    if (!Token.isUnresolved(accessLogArn) && !/:deliverystream\/amazon-apigateway-/.test(accessLogArn)) {
      throw new Error(`MeteredApi: accessLogDestinationArn must name a Firehose stream starting with "amazon-apigateway-", got ${accessLogArn}`);
    }

    this.userPool = new TenantUserPool(this, 'users', {
      name: `${props.namePrefix}-users`,
      deletionProtection: props.userPoolDeletionProtection,
    });

    this.randomStrings = new BundledFunction(this, 'random-strings', {
      entry: 'random-strings',
      functionName: `${props.namePrefix}-random-strings`,
      description: 'GET /random/strings of the metered API',
      logRetentionDays: props.logRetentionDays,
    });

    this.api = new ApiGatewayRestApi(this, 'api', {
      name: `${props.namePrefix}-api`,
      description: 'Metered API: every request is logged with its tenant for usage billing',
      endpointConfiguration: { types: ['REGIONAL'] },
    });
    const authorizer = new ApiGatewayAuthorizer(this, 'authorizer', {
      name: 'cognito',
      restApiId: this.api.id,
      type: 'COGNITO_USER_POOLS',
      providerArns: [this.userPool.userPoolArn],
      identitySource: 'method.request.header.Authorization',
    });

    const random = new ApiGatewayResource(this, 'random', {
      restApiId: this.api.id,
      parentId: this.api.rootResourceId,
      pathPart: 'random',
    });
    const strings = new ApiGatewayResource(this, 'strings', {
      restApiId: this.api.id,
      parentId: random.id,
      pathPart: 'strings',
    });
    this.resources.set('random', random);
    this.resources.set('random/strings', strings);
    const getStrings = new ApiGatewayMethod(this, 'get-strings', {
      restApiId: this.api.id,
      resourceId: strings.id,
      httpMethod: 'GET',
      authorization: 'COGNITO_USER_POOLS',
      authorizerId: authorizer.id,
    });
    const integration = new ApiGatewayIntegration(this, 'get-strings-integration', {
      restApiId: this.api.id,
      resourceId: strings.id,
      httpMethod: getStrings.httpMethod,
      type: 'AWS_PROXY',
      integrationHttpMethod: 'POST',
      uri: this.randomStrings.invokeArn,
    });
    new LambdaPermission(this, 'invoke-random-strings', {
      statementId: 'AllowApiGatewayInvoke',
      action: 'lambda:InvokeFunction',
      functionName: this.randomStrings.functionName,
      principal: 'apigateway.amazonaws.com',
      sourceArn: `${this.api.executionArn}/*/GET/random/strings`,
    });

    const seen = new Set<string>(['GET /random/strings']);
    const publicRoutes = [
      ...this.addRoutes(props.publicRoutes ?? [], 'NONE', seen),
      ...this.addRoutes(props.tenantRoutes ?? [], 'COGNITO_USER_POOLS', seen, authorizer.id),
    ];
    const iamRoutes = this.addRoutes(props.iamRoutes ?? [], 'AWS_IAM', seen);
    this.publicRoutes = publicRoutes.filter((route) => route.authorization === 'NONE').map((route) => route.name);
    this.iamRoutes = iamRoutes.map((route) => route.name);
    publicRoutes.push(...iamRoutes);

    const deployment = new ApiGatewayDeployment(this, 'deployment', {
      restApiId: this.api.id,
      description: 'Managed by Terraform; replaced when the API definition changes',
      triggers: {
        redeployment: Fn.sha1(Fn.jsonencode([
          random.id, strings.id, getStrings.id, getStrings.authorization, getStrings.authorizerId,
          integration.id, integration.uri, authorizer.id,
          ...publicRoutes.flatMap((route) => route.triggers),
        ])),
      },
      lifecycle: { createBeforeDestroy: true },
      dependsOn: [getStrings, integration, ...publicRoutes.flatMap((route) => [route.method, route.integration])],
    });

    this.stage = new ApiGatewayStage(this, 'stage', {
      restApiId: this.api.id,
      deploymentId: deployment.id,
      stageName: props.stageName ?? 'prod',
      accessLogSettings: { destinationArn: accessLogArn, format: accessLogFormat() },
    });
    new ApiGatewayMethodSettings(this, 'throttling', {
      restApiId: this.api.id,
      stageName: this.stage.stageName,
      methodPath: '*/*',
      settings: {
        throttlingRateLimit: props.throttleRateLimit ?? 100,
        throttlingBurstLimit: props.throttleBurstLimit ?? 200,
        metricsEnabled: true,
      },
    });
    this.endpointUrl = this.stage.invokeUrl;

    if (iamRoutes.length > 0) {
      const document = new DataAwsIamPolicyDocument(this, 'backend-callers-document', {
        statement: [{
          effect: 'Allow',
          actions: ['execute-api:Invoke'],
          resources: iamRoutes.map((route) => `${this.api.executionArn}/${this.stage.stageName}/${route.sourcePath}`),
        }],
      });
      this.backendCallerPolicyArn = new IamPolicy(this, 'backend-callers', {
        namePrefix: `${props.namePrefix}-backend-callers-`,
        description: `Lets a backend of the SaaS call the IAM-authorised routes of the metered API (${this.iamRoutes.join(', ')})`,
        policy: document.json,
      }).arn;
    }
  }

  /** The invoke URL of a path of the stage, e.g. `routeUrl(['marketplace', 'register'])`. */
  routeUrl(pathParts: readonly string[]): string {
    return `${this.endpointUrl}/${pathParts.join('/')}`;
  }

  /**
   * Creates each route: its resources, a method with the given authorization (public ones are
   * declared in `publicRoutes` and listed in the synth tests), the proxy integration and the invoke
   * permission.
   */
  private addRoutes(routes: readonly PublicRoute[], authorization: RouteAuthorization, seen: Set<string>, authorizerId?: string) {
    const prefix = { NONE: 'public', COGNITO_USER_POOLS: 'tenant', AWS_IAM: 'iam' }[authorization];
    return routes.map((route) => {
      validatePublicRoute(route);
      const path = route.pathParts.join('/');
      const name = `${route.httpMethod} /${path}`;
      if (seen.has(name)) throw new Error(`MeteredApi: the route ${name} is declared already (twice, or it is the authorized demo route)`);
      seen.add(name);
      const id = `${prefix}-${route.httpMethod.toLowerCase()}-${constructIdOf(path)}`;
      const resource = this.resourceFor(route.pathParts);
      const method = new ApiGatewayMethod(this, id, {
        restApiId: this.api.id,
        resourceId: resource.id,
        httpMethod: route.httpMethod,
        authorization,
        ...(authorizerId === undefined ? {} : { authorizerId }),
      });
      const integration = new ApiGatewayIntegration(this, `${id}-integration`, {
        restApiId: this.api.id,
        resourceId: resource.id,
        httpMethod: method.httpMethod,
        type: 'AWS_PROXY',
        integrationHttpMethod: 'POST',
        uri: route.function.invokeArn,
      });
      // This method (any for ANY) and this path (`*` for a path parameter).
      const sourcePath = `${route.httpMethod === 'ANY' ? '*' : route.httpMethod}/${route.pathParts.map((part) => (part.startsWith('{') ? '*' : part)).join('/')}`;
      new LambdaPermission(this, `${id}-invoke`, {
        statementId: `AllowApiGatewayInvoke-${route.httpMethod}-${constructIdOf(path)}`,
        action: 'lambda:InvokeFunction',
        functionName: route.function.functionName,
        principal: 'apigateway.amazonaws.com',
        sourceArn: `${this.api.executionArn}/*/${sourcePath}`,
      });
      return { name, authorization, sourcePath, method, integration, triggers: [resource.id, method.id, method.authorization, integration.id, integration.uri] };
    });
  }

  /** The resource of a path, creating the missing ones along it (shared with other routes). */
  private resourceFor(pathParts: readonly string[]): ApiGatewayResource {
    let parentId = this.api.rootResourceId;
    let resource: ApiGatewayResource | undefined;
    pathParts.forEach((part, index) => {
      const path = pathParts.slice(0, index + 1).join('/');
      resource = this.resources.get(path);
      if (resource === undefined) {
        resource = new ApiGatewayResource(this, `resource-${constructIdOf(path)}`, { restApiId: this.api.id, parentId, pathPart: part });
        this.resources.set(path, resource);
      }
      parentId = resource.id;
    });
    return resource!;
  }
}

/** A path segment API Gateway accepts: a name, or a `{parameter}` / `{proxy+}`. */
const PATH_PART = /^(?:[A-Za-z0-9._~-]+|\{[A-Za-z0-9_]+\+?\})$/;

function validatePublicRoute(route: PublicRoute): void {
  if (route.pathParts.length === 0) throw new Error('MeteredApi: a public route needs at least one path segment (the API root is not public)');
  const bad = route.pathParts.filter((part) => !PATH_PART.test(part));
  if (bad.length > 0) throw new Error(`MeteredApi: invalid path segment(s) ${bad.map((b) => JSON.stringify(b)).join(', ')} in a public route`);
  if (!(HTTP_METHODS as readonly string[]).includes(route.httpMethod)) throw new Error(`MeteredApi: invalid HTTP method ${route.httpMethod} of a public route`);
}

/** A path as a construct id / statement id fragment: `marketplace/register` → `marketplace-register`. */
function constructIdOf(path: string): string {
  return path.replace(/[^A-Za-z0-9-]+/g, '-');
}
