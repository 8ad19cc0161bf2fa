/**
 * `npm run bench:synth`: wall time and peak memory of a full `cdktf synth` of the stack (CLI + app +
 * esbuild bundling of every function), against a baseline measured in the same run: the smallest real
 * cdktf app (one stack, the AWS provider, one bucket). Targets: ≤ 10 s and ≤ 600 MB on 2 cores.
 *
 * Options: --runs N (default 3; the median is reported).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../modules/project-paths';
import { measureCommand, median, type MeasuredRun } from './support/process-tree';

const TARGET_SECONDS = 10;
const TARGET_MEMORY_MB = 600;

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 20) {
  console.error('--runs must be a whole number from 1 to 20');
  process.exit(2);
}

const cdktf = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'cdktf');
const env = { ...process.env, CHECKPOINT_DISABLE: '1', CI: '1' };

interface SynthRun extends MeasuredRun {
  readonly resources: number;
}

async function synth(app: string | undefined): Promise<SynthRun> {
  const output = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-synth-'));
  try {
    const args = ['synth', '--output', output, ...(app ? ['--app', app] : [])];
    const run = await measureCommand(cdktf, args, { cwd: PROJECT_ROOT, env });
    if (run.exitCode !== 0) throw new Error(`cdktf synth failed (exit ${run.exitCode}):\n${run.output}`);
    return { ...run, resources: countResources(output) };
  } finally {
    fs.rmSync(output, { recursive: true, force: true });
  }
}

/** Resources (not data sources) in the synthesized stacks under `outDir`. */
function countResources(outDir: string): number {
  const stacks = path.join(outDir, 'stacks');
  if (!fs.existsSync(stacks)) return 0;
  let count = 0;
  for (const stack of fs.readdirSync(stacks)) {
    const file = path.join(stacks, stack, 'cdk.tf.json');
    if (!fs.existsSync(file)) continue;
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { resource?: Record<string, Record<string, unknown>> };
    for (const byName of Object.values(json.resource ?? {})) count += Object.keys(byName).length;
  }
  return count;
}

async function main(): Promise<void> {
  const full: SynthRun[] = [];
  const baseline: SynthRun[] = [];
  // Warm-up: fills the OS file cache and esbuild's first-run costs, not counted.
  await synth(undefined);
  for (let i = 0; i < runs; i += 1) {
    baseline.push(await synth('node --import tsx bench/fixtures/minimal-app.ts'));
    full.push(await synth(undefined));
    process.stderr.write(`run ${i + 1}/${runs}: stack ${full[i].wallSeconds.toFixed(2)} s ${full[i].peakMemoryMb.toFixed(0)} MB, baseline ${baseline[i].wallSeconds.toFixed(2)} s ${baseline[i].peakMemoryMb.toFixed(0)} MB\n`);
  }
  const result = {
    bench: 'synth',
    runs,
    wallSeconds: Number(median(full.map((r) => r.wallSeconds)).toFixed(2)),
    peakMemoryMb: Number(median(full.map((r) => r.peakMemoryMb)).toFixed(0)),
    baselineWallSeconds: Number(median(baseline.map((r) => r.wallSeconds)).toFixed(2)),
    baselinePeakMemoryMb: Number(median(baseline.map((r) => r.peakMemoryMb)).toFixed(0)),
    ratioToBaseline: 0,
    resources: full[0].resources,
    targetSeconds: TARGET_SECONDS,
    targetMemoryMb: TARGET_MEMORY_MB,
    meetsTarget: false,
  };
  result.ratioToBaseline = Number((result.wallSeconds / result.baselineWallSeconds).toFixed(2));
  result.meetsTarget = result.wallSeconds <= TARGET_SECONDS && result.peakMemoryMb <= TARGET_MEMORY_MB;
  console.log(`full synth: ${result.wallSeconds} s, peak ${result.peakMemoryMb} MB (${result.resources} resources); baseline app: ${result.baselineWallSeconds} s, ${result.baselinePeakMemoryMb} MB; ratio ${result.ratioToBaseline}`);
  console.log(JSON.stringify(result));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
