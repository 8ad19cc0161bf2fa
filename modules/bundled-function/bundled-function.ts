import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { AssetType, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';
import { toPolicyDocumentStatements, type PolicyStatement } from '../iam/policy-statement';
import { bundleFunction, LAMBDA_HANDLER, LAMBDA_RUNTIME } from './bundle';

/** CloudWatch namespace of the tenant metrics every function may write (embedded metric format). */
export const TENANT_METRICS_NAMESPACE = 'SaaSMetering/Tenants';

export interface BundledFunctionProps {
  /** The folder under `functions/` whose `index.ts` exports `handler`, e.g. `random-strings`. */
  readonly entry: string;
  /** The Lambda function name (may be a Terraform expression). */
  readonly functionName: string;
  /** @default `functions/<entry>` */
  readonly description?: string;
  /** Days to keep the function's logs (may be a Terraform variable). */
  readonly logRetentionDays: number;
  /** Environment variables besides the defaults this construct sets. @default none */
  readonly environment?: Record<string, string>;
  /** @default 10 */
  readonly timeoutSeconds?: number;
  /** @default 256 */
  readonly memorySizeMb?: number;
  /** @default 'arm64' (Graviton: about 20% cheaper per GB-second than x86_64) */
  readonly architecture?: 'arm64' | 'x86_64';
  /**
   * What the function may do besides writing its own logs. The role holds exactly these statements.
   * More can be granted later with {@link BundledFunction.grant}. @default none
   */
  readonly policyStatements?: readonly PolicyStatement[];
  /** Reserved concurrency; -1 for unreserved. @default -1 */
  readonly reservedConcurrentExecutions?: number;
  /** Folder holding the function folders. @default the repository's `functions/` */
  readonly functionsDir?: string;
  /** Tags for the function, role and log group, besides the provider's default tags. @default none */
  readonly tags?: Record<string, string>;
}

/** Default timeout and memory of bundled functions (see {@link BundledFunctionProps}). */
export const FUNCTION_DEFAULTS = { timeoutSeconds: 10, memorySizeMb: 256, architecture: 'arm64' } as const;

/**
 * A Lambda function built from `functions/<entry>/index.ts`: bundled with esbuild at synth (a bundling
 * error fails synth with esbuild's message), zipped as a Terraform asset whose hash changes only when
 * the bundle does, with its own IAM role (its log stream plus what the caller grants, nothing more)
 * and its own log group with retention.
 */
export class BundledFunction extends Construct {
  readonly function: LambdaFunction;
  readonly role: IamRole;
  readonly logGroup: CloudwatchLogGroup;
  /** Function ARN. */
  readonly functionArn: string;
  /** Function name. */
  readonly functionName: string;
  /** ARN API Gateway uses to invoke the function. */
  readonly invokeArn: string;

  constructor(scope: Construct, id: string, props: BundledFunctionProps) {
    super(scope, id);
    const bundle = bundleFunction(props.entry, props.functionsDir);
    const asset = new TerraformAsset(this, 'code', { path: bundle.outDir, type: AssetType.ARCHIVE });

    this.logGroup = new CloudwatchLogGroup(this, 'logs', {
      name: `/aws/lambda/${props.functionName}`,
      retentionInDays: props.logRetentionDays,
      tags: props.tags,
    });

    const assumeRole = new DataAwsIamPolicyDocument(this, 'assume-role', {
      statement: [{
        effect: 'Allow',
        actions: ['sts:AssumeRole'],
        principals: [{ type: 'Service', identifiers: ['lambda.amazonaws.com'] }],
      }],
    });
    this.role = new IamRole(this, 'role', {
      namePrefix: 'fn-',
      description: `Runs ${props.functionName}`,
      assumeRolePolicy: assumeRole.json,
      tags: props.tags,
    });
    this.grant('logs', [{
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [`${this.logGroup.arn}:*`],
    }]);
    if (props.policyStatements && props.policyStatements.length > 0) this.grant('grants', props.policyStatements);

    this.function = new LambdaFunction(this, 'function', {
      functionName: props.functionName,
      description: props.description ?? `functions/${props.entry}`,
      role: this.role.arn,
      runtime: LAMBDA_RUNTIME,
      handler: LAMBDA_HANDLER,
      architectures: [props.architecture ?? FUNCTION_DEFAULTS.architecture],
      filename: asset.path,
      sourceCodeHash: asset.assetHash,
      timeout: props.timeoutSeconds ?? FUNCTION_DEFAULTS.timeoutSeconds,
      memorySize: props.memorySizeMb ?? FUNCTION_DEFAULTS.memorySizeMb,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      loggingConfig: { logFormat: 'JSON', logGroup: this.logGroup.name },
      environment: {
        variables: {
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_SERVICE_NAME: props.entry,
          // Where the functions' tenant metrics (cost allocation's consumption) go.
          POWERTOOLS_METRICS_NAMESPACE: TENANT_METRICS_NAMESPACE,
          ...props.environment,
        },
      },
      tags: props.tags,
      dependsOn: [this.logGroup],
    });
    this.functionArn = this.function.arn;
    this.functionName = this.function.functionName;
    this.invokeArn = this.function.invokeArn;
  }

  /**
   * Grants the function's role the given statements, as one inline policy named after `purpose`.
   * Grant only what the function calls.
   */
  grant(purpose: string, statements: readonly PolicyStatement[]): void {
    const document = new DataAwsIamPolicyDocument(this, `policy-${purpose}`, {
      statement: toPolicyDocumentStatements(statements),
    });
    new IamRolePolicy(this, `role-policy-${purpose}`, {
      name: purpose,
      role: this.role.id,
      policy: document.json,
    });
  }
}
