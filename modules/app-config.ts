/**
 * What the app needs before synth: the stack name and where Terraform keeps its state. Read from the
 * environment so CI and operators set it without code changes. Everything else an operator sets is a
 * Terraform variable of the stack (see `modules/stack/stack-variables.ts`).
 */
export interface AppConfig {
  /** Name of the one stack the app synthesizes (folder under `cdktf.out/stacks/`). */
  readonly stackName: string;
  readonly backend: LocalBackendConfig | CloudBackendConfig;
}

export interface LocalBackendConfig {
  readonly kind: 'local';
}

export interface CloudBackendConfig {
  readonly kind: 'cloud';
  /** Terraform Cloud / HCP Terraform organization. */
  readonly organization: string;
  /** CLI-driven workspace holding this stack's state. */
  readonly workspace: string;
  /** @default 'app.terraform.io' */
  readonly hostname: string;
}

export const DEFAULT_STACK_NAME = 'saas-metering';

const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,62}$/;
const TFC_NAME = /^[A-Za-z0-9_-]{1,90}$/;

/** A configuration problem, raised before any resource is built. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Reads the app configuration: `STACK_NAME` (default `saas-metering`); `TFC_ORGANIZATION` and
 * `TFC_WORKSPACE` together select the Terraform Cloud backend (`TFC_HOSTNAME` optional), neither selects
 * a local backend, and only one of them is an error.
 */
export function loadAppConfig(env: Readonly<Record<string, string | undefined>>): AppConfig {
  const stackName = env.STACK_NAME?.trim() || DEFAULT_STACK_NAME;
  if (!STACK_NAME.test(stackName)) {
    throw new ConfigError(`STACK_NAME must start with a letter and hold only letters, digits and dashes (at most 63), got ${JSON.stringify(stackName)}`);
  }
  const organization = env.TFC_ORGANIZATION?.trim() || undefined;
  const workspace = env.TFC_WORKSPACE?.trim() || undefined;
  if (organization === undefined && workspace === undefined) {
    return { stackName, backend: { kind: 'local' } };
  }
  if (organization === undefined || workspace === undefined) {
    throw new ConfigError('Set both TFC_ORGANIZATION and TFC_WORKSPACE to use Terraform Cloud, or neither for a local backend');
  }
  for (const [name, value] of [['TFC_ORGANIZATION', organization], ['TFC_WORKSPACE', workspace]] as const) {
    if (!TFC_NAME.test(value)) throw new ConfigError(`${name} may hold only letters, digits, "-" and "_" (at most 90), got ${JSON.stringify(value)}`);
  }
  const hostname = env.TFC_HOSTNAME?.trim() || 'app.terraform.io';
  return { stackName, backend: { kind: 'cloud', organization, workspace, hostname } };
}
