import { Fn, Op } from 'cdktf';

/**
 * A Terraform condition that is true when a string expression is not empty. Written as
 * `length(x) >= 1` on purpose: cdktf's operators render a falsy literal operand (`''`, `0`) as
 * `undefined`, so `x != ""` or `length(x) > 0` would synthesize into a broken condition.
 */
export function isNonEmpty(value: string) {
  return Op.gte(Fn.lengthOf(value), 1);
}
