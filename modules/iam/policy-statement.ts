/** One IAM policy statement, as constructs grant them to a role. */
export interface PolicyStatement {
  /** @default 'Allow' */
  readonly effect?: 'Allow' | 'Deny';
  readonly actions: readonly string[];
  /** ARNs; may be Terraform references. */
  readonly resources: readonly string[];
  /** Optional conditions: `{ test, variable, values }` as in aws_iam_policy_document. */
  readonly conditions?: readonly { readonly test: string; readonly variable: string; readonly values: readonly string[] }[];
}

/** Converts statements to the shape of `aws_iam_policy_document`'s `statement` blocks. */
export function toPolicyDocumentStatements(statements: readonly PolicyStatement[]) {
  return statements.map((statement) => ({
    effect: statement.effect ?? 'Allow',
    actions: [...statement.actions],
    resources: [...statement.resources],
    condition: statement.conditions?.map((condition) => ({
      test: condition.test,
      variable: condition.variable,
      values: [...condition.values],
    })),
  }));
}
