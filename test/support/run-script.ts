import { execFile } from 'node:child_process';
import { PROJECT_ROOT } from '../../modules/project-paths';

/** What a command printed and how it ended. */
export interface ScriptRun {
  /** Exit code (-1 when it did not exit on its own, e.g. killed on timeout). */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `scripts/<name>.ts` as `npm run` does (tsx, from the project root) and collects its output. */
export function runScript(script: string, args: readonly string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ScriptRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', script, ...args], { cwd: PROJECT_ROOT, timeout: options.timeoutMs ?? 60_000, ...(options.env ? { env: options.env } : {}) }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}
