import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { Fn, Op, Token } from 'cdktf';
import { Construct } from 'constructs';
import { toPolicyDocumentStatements, type PolicyStatement } from '../iam/policy-statement';
import { onlyInstance } from '../marketplace/terraform-references';

/**
 * Switching optional parts of the stack with boolean Terraform variables. A variable is a runtime
 * value: synth cannot leave a resource out, so each switched resource gets `count = flag ? 1 : 0`.
 * Literal booleans (tests, callers without a variable) are folded at synth, because cdktf renders a
 * falsy literal operand of its operators as `undefined`.
 */

/** `count` of a resource that exists when `flag` is true. */
export function countWhen(flag: boolean): number {
  if (typeof flag === 'boolean') return flag ? 1 : 0;
  return Token.asNumber(Fn.conditional(flag, 1, 0));
}

/** `a && b` for flags that may be variables or literals. */
export function bothTrue(a: boolean, b: boolean): boolean {
  if (typeof a === 'boolean') return a ? b : false;
  if (typeof b === 'boolean') return b ? a : false;
  return Op.and(a, b) as unknown as boolean;
}

/**
 * `flag ? value : otherwise` where `value` may address a switched resource's single instance: Terraform
 * evaluates only the chosen branch, so the reference is never read when the resource does not exist.
 */
export function whenEnabled(flag: boolean, value: string, otherwise: string): string {
  if (typeof flag === 'boolean') return flag ? value : otherwise;
  return Token.asString(Fn.conditional(flag, value, otherwise));
}

/**
 * Grants a role the statements as one inline policy named `purpose`, created only when `count` is 1
 * (so the statements may name switched resources of the same condition).
 */
export function grantWhen(scope: Construct, purpose: string, roleId: string, count: number, statements: readonly PolicyStatement[]): IamRolePolicy {
  const document = new DataAwsIamPolicyDocument(scope, `policy-${purpose}`, {
    count,
    statement: toPolicyDocumentStatements(statements),
  });
  return new IamRolePolicy(scope, `role-policy-${purpose}`, {
    count,
    name: purpose,
    role: roleId,
    policy: onlyInstance(document, 'json'),
  });
}
