import { ApiGatewayAuthorizer } from '@cdktf/provider-aws/lib/api-gateway-authorizer';
import { ApiGatewayDeployment } from '@cdktf/provider-aws/lib/api-gateway-deployment';
import { ApiGatewayIntegration } from '@cdktf/provider-aws/lib/api-gateway-integration';
import { ApiGatewayMethod } from '@cdktf/provider-aws/lib/api-gateway-method';
import { ApiGatewayMethodSettings } from '@cdktf/provider-aws/lib/api-gateway-method-settings';
import { ApiGatewayResource } from '@cdktf/provider-aws/lib/api-gateway-resource';
import { ApiGatewayRestApi } from '@cdktf/provider-aws/lib/api-gateway-rest-api';
import { ApiGatewayStage } from '@cdktf/provider-aws/lib/api-gateway-stage';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { Fn, Token } from 'cdktf';
import { Construct } from 'constructs';
import { accessLogFormat } from '../../core/access-log/fields';
import { BundledFunction } from '../bundled-function/bundled-function';
import { TenantUserPool } from './tenant-user-pool';

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
}

/**
 * The metered API: a REST API whose every method sits behind a Cognito user-pool authorizer and whose
 * stage writes one JSON access-log line per request, tenant included, to Firehose.
 * The demo method is `GET /random/strings` (Lambda proxy to `functions/random-strings`).
 */
export class MeteredApi extends Construct {
  readonly userPool: TenantUserPool;
  readonly api: ApiGatewayRestApi;
  readonly stage: ApiGatewayStage;
  readonly randomStrings: BundledFunction;
  /** Invoke URL of the stage (output `RestApiEndpoint`), e.g. `https://abc.execute-api.us-east-1.amazonaws.com/prod`. */
  readonly endpointUrl: string;

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

    const deployment = new ApiGatewayDeployment(this, 'deployment', {
      restApiId: this.api.id,
      description: 'Managed by Terraform; replaced when the API definition changes',
      triggers: {
        redeployment: Fn.sha1(Fn.jsonencode([
          random.id, strings.id, getStrings.id, getStrings.authorization, getStrings.authorizerId,
          integration.id, integration.uri, authorizer.id,
        ])),
      },
      lifecycle: { createBeforeDestroy: true },
      dependsOn: [getStrings, integration],
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
  }
}
