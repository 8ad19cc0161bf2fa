/**
 * `npm start`: the whole metering and billing flow on local engines, with a report.
 *
 *   npm start [-- --tenants 4 --hours 6 --requests 120 --seed 1 --out .local/run --serve --port 8080]
 *
 * See `local/run/run-local.ts` for what runs, `START_USAGE` for the options. The report goes to
 * `<out>/report.html` and `<out>/report.json` (each written whole or not at all), the tenant metrics
 * to `<out>/tenant-metrics.ndjson`, a summary to the terminal. Exit codes: 0 exact, 1 failed or not exact, 2 invalid options or output folder.
 */
import './start/quiet-functions';
import * as path from 'node:path';
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import { describeError } from './cli/errors';
import { parseStartOptions, START_USAGE } from './start/options';
import { buildRunReport } from '../local/run/run-report-builder';
import { runLocal, type RunProgress } from '../local/run/run-local';
import { freshLakeFolder, OutputFolderError, prepareOutputFolder, writeFileWhole } from '../local/run/output-folder';
import { reportHtml } from '../local/report/report-html';
import { writeRunReport } from '../local/report/report-json';
import { terminalSummary } from '../local/report/terminal-summary';
import { startReportServer } from '../local/run/report-server';
import { optionsOrExitCode } from './cli/options';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

function terminalProgress(): RunProgress {
  if (!process.stderr.isTTY) {
    return { start: (step) => process.stderr.write(`${step}…\n`), tick: () => undefined, stop: () => undefined };
  }
  const bars = new MultiBar({ stream: process.stderr, format: '{step} {bar} {value}/{total} {detail}', hideCursor: true, clearOnComplete: false }, Presets.shades_classic);
  let bar: SingleBar | undefined;
  return {
    start(step, total) {
      bar = bars.create(total, 0, { step: step.padEnd(16), detail: '' });
    },
    tick(detail) {
      bar?.increment(1, { detail: detail ?? '' });
    },
    stop() {
      bar?.stop();
      bars.stop();
    },
  };
}

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseStartOptions(argv);
  const outcome = optionsOrExitCode(parsed, { name: 'npm start', help: 'npm start -- --help', usage: START_USAGE });
  if ('exitCode' in outcome) return outcome.exitCode;
  const { options } = outcome;
  let folder: string;
  let lakeFolder: string;
  try {
    folder = prepareOutputFolder(options.out);
    lakeFolder = freshLakeFolder(folder);
  } catch (error) {
    process.stderr.write(`npm start: ${error instanceof OutputFolderError ? error.message : describeError(error)}\n`);
    return EXIT_USAGE;
  }
  const started = Date.now();
  const { result, environment } = await runLocal({
    tenants: options.tenants,
    hours: options.hours,
    requests: options.requests,
    seed: options.seed,
    lakeFolder,
    ...(options.serve ? { apiPort: options.port } : {}),
    progress: terminalProgress(),
  });
  try {
    const report = buildRunReport(result, { generatedAt: Date.now(), durationMs: Date.now() - started, seed: options.seed });
    // Checked against the report's own rules (figures agree with each other) before it is written.
    writeRunReport(path.join(folder, 'report.json'), report);
    writeFileWhole(path.join(folder, 'report.html'), reportHtml(report));
    // The tenant metrics, one EMF line each, for `npm run costs -- --metrics` on the run's lake.
    writeFileWhole(path.join(folder, 'tenant-metrics.ndjson'), result.tenantMetricLines.map((line) => `${line}\n`).join(''));
    process.stdout.write(`${terminalSummary(report, { color: process.stdout.isTTY === true })}\n`);
    process.stdout.write(`report: ${path.join(folder, 'report.html')}\n`);
    if (options.serve) {
      environment.clock.followRealTime();
      const reportServer = await startReportServer(folder, options.port + 1);
      process.stdout.write(`\nServing until Ctrl-C:\n  API          ${environment.api.url}   (try: curl -H "Authorization: $TOKEN" "${environment.api.url}/random/strings?num=2&len=8")\n  report       ${reportServer.url}\n  registration ${environment.registration.registrationUrl}\n`);
      for (const tenant of result.tenants) process.stdout.write(`  TOKEN of ${tenant.companyName} (${tenant.tenantId}):\n    ${await environment.api.target.tokenFor(tenant.tenantId)}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await reportServer.close();
    }
    return report.verdict.exact ? EXIT_OK : EXIT_FAILED;
  } finally {
    await environment.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`npm start failed: ${describeError(error)}\n`);
    process.exitCode = error instanceof OutputFolderError ? EXIT_USAGE : EXIT_FAILED;
  },
);
