import { App, Testing } from 'cdktf';
import type { AppConfig } from '../../modules/app-config';
import { MeteringStack } from '../../modules/stack/metering-stack';

/** The synthesized Terraform JSON of a stack, as Terraform reads it. */
export interface SynthesizedStack {
  readonly resource: Record<string, Record<string, Record<string, unknown>>>;
  readonly data: Record<string, Record<string, Record<string, unknown>>>;
  readonly variable: Record<string, Record<string, unknown>>;
  readonly output: Record<string, Record<string, unknown>>;
  readonly terraform: Record<string, unknown>;
  readonly provider: Record<string, unknown[]>;
}

const LOCAL: AppConfig = { stackName: 'test-stack', backend: { kind: 'local' } };

/** Builds the metering stack in a test app. */
export function buildStack(config: AppConfig = LOCAL): { app: App; stack: MeteringStack } {
  const app = Testing.app();
  const stack = new MeteringStack(app, config.stackName, config);
  return { app, stack };
}

const cache = new Map<string, { json: string; parsed: SynthesizedStack }>();

/** Synthesizes the metering stack (once per configuration per test file). */
export function synthStack(config: AppConfig = LOCAL): { json: string; parsed: SynthesizedStack } {
  const key = JSON.stringify(config);
  let result = cache.get(key);
  if (!result) {
    const { stack } = buildStack(config);
    const json = Testing.synth(stack);
    result = { json, parsed: JSON.parse(json) as SynthesizedStack };
    cache.set(key, result);
  }
  return result;
}

/** Every resource of one type, keyed by its Terraform name. */
export function resourcesOfType(stack: SynthesizedStack, type: string): Record<string, Record<string, unknown>> {
  return stack.resource[type] ?? {};
}

/** The only resource of a type whose key contains `fragment`; fails when there is not exactly one. */
export function resourceNamed(stack: SynthesizedStack, type: string, fragment: string): [string, Record<string, unknown>] {
  const matches = Object.entries(resourcesOfType(stack, type)).filter(([name]) => name.includes(fragment));
  if (matches.length !== 1) {
    throw new Error(`expected one ${type} matching ${fragment}, found ${matches.map(([n]) => n).join(', ') || 'none'}`);
  }
  return matches[0];
}

/** `${type.name.attribute}`: a Terraform reference as the synthesized JSON writes it. */
export function ref(type: string, name: string, attribute: string): string {
  return `\${${type}.${name}.${attribute}}`;
}

/** The statements of a policy document referenced as `${data.aws_iam_policy_document.<name>[0]?.json}`. */
export function documentStatements(synth: SynthesizedStack, reference: string): { effect: string; actions: string[]; resources: string[] }[] {
  const name = reference.replace(/^\$\{data\.aws_iam_policy_document\.([^.[]+)(\[0\])?\.json\}$/, '$1');
  return (synth.data.aws_iam_policy_document[name] as { statement: { effect: string; actions: string[]; resources: string[] }[] }).statement;
}
