import { CognitoUserPool } from '@cdktf/provider-aws/lib/cognito-user-pool';
import { CognitoUserPoolClient } from '@cdktf/provider-aws/lib/cognito-user-pool-client';
import { Construct } from 'constructs';
import { TENANT_CLAIM } from '../../core/access-log/fields';

export interface TenantUserPoolProps {
  /** User pool name (may be a Terraform expression). */
  readonly name: string;
  /** `ACTIVE` refuses to delete the pool (may be a Terraform variable). @default 'ACTIVE' */
  readonly deletionProtection?: string;
  /** Let anyone sign up through the app client; their tokens carry no tenant until the backend sets one. @default false */
  readonly allowSelfSignUp?: boolean;
  /** @default 12 */
  readonly minimumPasswordLength?: number;
  /** Lifetime of ID and access tokens, minutes. @default 60 */
  readonly tokenValidityMinutes?: number;
  /** Lifetime of refresh tokens, days. @default 30 */
  readonly refreshTokenValidityDays?: number;
}

/** Name of the custom attribute (without the `custom:` prefix) that holds a user's tenant. */
export const TENANT_ATTRIBUTE = TENANT_CLAIM.replace(/^custom:/, '');

/**
 * The Cognito user pool of the SaaS's users. Users sign in with their email. Each user belongs to one
 * tenant, held in the immutable custom attribute `tenant_id`: set by the backend when it creates the
 * user, readable by the app client, never writable by it, so a user cannot move to another tenant.
 */
export class TenantUserPool extends Construct {
  readonly userPool: CognitoUserPool;
  readonly client: CognitoUserPoolClient;
  /** User pool id (output `UserPoolId`). */
  readonly userPoolId: string;
  /** User pool ARN, for the API authorizer. */
  readonly userPoolArn: string;
  /** App client id (output `UserPoolClientId`). */
  readonly clientId: string;

  constructor(scope: Construct, id: string, props: TenantUserPoolProps) {
    super(scope, id);
    const tokenMinutes = props.tokenValidityMinutes ?? 60;

    this.userPool = new CognitoUserPool(this, 'user-pool', {
      name: props.name,
      usernameAttributes: ['email'],
      autoVerifiedAttributes: ['email'],
      deletionProtection: props.deletionProtection ?? 'ACTIVE',
      mfaConfiguration: 'OPTIONAL',
      softwareTokenMfaConfiguration: { enabled: true },
      passwordPolicy: {
        minimumLength: props.minimumPasswordLength ?? 12,
        requireLowercase: true,
        requireUppercase: true,
        requireNumbers: true,
        requireSymbols: true,
        temporaryPasswordValidityDays: 3,
      },
      adminCreateUserConfig: { allowAdminCreateUserOnly: !(props.allowSelfSignUp ?? false) },
      accountRecoverySetting: { recoveryMechanism: [{ name: 'verified_email', priority: 1 }] },
      schema: [{
        name: TENANT_ATTRIBUTE,
        attributeDataType: 'String',
        mutable: false,
        developerOnlyAttribute: false,
        required: false,
        stringAttributeConstraints: { minLength: '1', maxLength: '64' },
      }],
    });

    this.client = new CognitoUserPoolClient(this, 'client', {
      name: `${props.name}-app`,
      userPoolId: this.userPool.id,
      generateSecret: false,
      explicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      preventUserExistenceErrors: 'ENABLED',
      enableTokenRevocation: true,
      readAttributes: ['email', 'email_verified', 'name', TENANT_CLAIM],
      // The tenant attribute is deliberately absent: only the backend (admin APIs) may set it.
      writeAttributes: ['email', 'name'],
      idTokenValidity: tokenMinutes,
      accessTokenValidity: tokenMinutes,
      refreshTokenValidity: props.refreshTokenValidityDays ?? 30,
      tokenValidityUnits: [{ idToken: 'minutes', accessToken: 'minutes', refreshToken: 'days' }],
    });

    this.userPoolId = this.userPool.id;
    this.userPoolArn = this.userPool.arn;
    this.clientId = this.client.id;
  }
}
