import { spawn } from 'node:child_process';
import * as fs from 'node:fs';

export interface MeasuredRun {
  readonly wallSeconds: number;
  /** Highest sum of resident memory over the process and all its descendants, MiB. */
  readonly peakMemoryMb: number;
  readonly exitCode: number | null;
  readonly output: string;
}

function childrenOf(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function rssKb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

function treeRssKb(root: number): number {
  let total = 0;
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    total += rssKb(pid);
    stack.push(...childrenOf(pid));
  }
  return total;
}

/**
 * Runs a command and measures its wall time and the peak resident memory of its whole process tree
 * (sampled every `sampleMs` from /proc, so a spike shorter than that can be missed). Linux only.
 */
export function measureCommand(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; sampleMs?: number }): Promise<MeasuredRun> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    let peakKb = 0;
    const timer = setInterval(() => {
      if (child.pid !== undefined) peakKb = Math.max(peakKb, treeRssKb(child.pid));
    }, options.sampleMs ?? 20);
    child.on('error', (error) => {
      clearInterval(timer);
      reject(error);
    });
    child.on('close', (exitCode) => {
      clearInterval(timer);
      const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      resolve({ wallSeconds, peakMemoryMb: peakKb / 1024, exitCode, output });
    });
  });
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
