import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

/** Environment for the Terraform CLI: no prompts, no checkpoint calls, no missing CLI config file. */
export function terraformEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TF_IN_AUTOMATION: '1', TF_INPUT: '0', CHECKPOINT_DISABLE: '1' };
  if (env.TF_CLI_CONFIG_FILE && !fs.existsSync(env.TF_CLI_CONFIG_FILE)) delete env.TF_CLI_CONFIG_FILE;
  return env;
}

/** Runs `terraform <args>` in `cwd`; returns its exit code and combined output (colour off). */
export function terraform(cwd: string, args: string[]): { code: number | null; output: string } {
  const result = spawnSync('terraform', [...args, '-no-color'], { cwd, env: terraformEnvironment(), encoding: 'utf8', timeout: 120_000 });
  if (result.error) throw new Error(`terraform could not run (is it installed and on PATH?): ${result.error.message}`);
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}
