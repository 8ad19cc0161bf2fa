import { ref, TerraformStack, Token, type TerraformDataSource, type TerraformResource } from 'cdktf';

/**
 * `${<address>[0].<attribute>}`: an attribute of the single instance of a resource (or data source)
 * whose `count` is 0 or 1. cdktf renders a plain reference without the index, which Terraform refuses
 * for a counted resource. Use it only in resources switched by the same condition, so that the
 * reference is never evaluated when the count is 0.
 */
export function onlyInstance(element: TerraformResource | TerraformDataSource, attribute: string): string {
  return Token.asString(ref(`${element.fqn}[0].${attribute}`, TerraformStack.of(element)));
}
