import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { Fn, Token } from 'cdktf';
import { Construct } from 'constructs';
import { isNonEmpty } from '../terraform-expressions';

/**
 * Lets a role use a customer-managed KMS key, when one is configured. `kmsKeyArn` is an expression
 * that is empty when the data is encrypted with S3-managed keys: the policy then is not created.
 */
export function grantKmsKeyUse(scope: Construct, id: string, roleId: string, kmsKeyArn: string): IamRolePolicy {
  const document = new DataAwsIamPolicyDocument(scope, `${id}-document`, {
    statement: [{
      effect: 'Allow',
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [kmsKeyArn],
    }],
  });
  return new IamRolePolicy(scope, id, {
    count: Token.asNumber(Fn.conditional(isNonEmpty(kmsKeyArn), 1, 0)),
    name: 'kms',
    role: roleId,
    policy: document.json,
  });
}
