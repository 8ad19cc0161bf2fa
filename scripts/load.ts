/**
 * Load generator for the metered REST API.
 *
 *   npm run load -- --url <base url> --token <ID token> --count <n> --concurrency <n>
 *
 * The summary goes to stdout (a table, or one JSON line with --json); the progress bar (TTY
 * only) and diagnostics go to stderr. Exit codes are listed in `--help`.
 */
import { Presets, SingleBar } from 'cli-progress';
import { LOAD_USAGE, parseLoadOptions, type LoadOptions } from './load/options';
import { buildTargetUrl, runLoad, type LoadRun } from './load/run-load';
import { formatSummary, summarize } from './load/summary';
import { optionsOrExitCode } from './cli/options';

const EXIT_OK = 0;
const EXIT_NOT_ALL_2XX = 1;
const EXIT_INTERRUPTED = 130;

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseLoadOptions(argv);
  const outcome = optionsOrExitCode(parsed, { name: 'load', help: 'npm run load -- --help', usage: LOAD_USAGE });
  if ('exitCode' in outcome) return outcome.exitCode;
  const { options } = outcome;
  const targetUrl = buildTargetUrl(options.url, options.path, options.query);
  process.stderr.write(
    `GET ${targetUrl}: ${options.count} requests, concurrency ${options.concurrency}, timeout ${options.timeoutMs} ms\n`,
  );

  const run = await runWithProgress(options);
  const summary = summarize(run.results, run.wallMs);
  process.stdout.write(options.json ? `${JSON.stringify(summary)}\n` : `${formatSummary(summary)}\n`);

  if (run.interrupted) {
    process.stderr.write(`Interrupted: ${run.results.length} of ${options.count} requests completed.\n`);
    return EXIT_INTERRUPTED;
  }
  return summary.successRate === 1 ? EXIT_OK : EXIT_NOT_ALL_2XX;
}

/** Runs the load with a progress bar on stderr (TTY only); the first Ctrl-C ends it early. */
async function runWithProgress(options: LoadOptions): Promise<LoadRun> {
  const bar = process.stderr.isTTY
    ? new SingleBar(
        {
          stream: process.stderr,
          format: '{bar} {percentage}% | {value}/{total} requests | ETA {eta_formatted}',
          hideCursor: true,
        },
        Presets.shades_classic,
      )
    : undefined;
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  process.once('SIGINT', onSigint); // a second Ctrl-C gets Node's default behaviour: exit now
  bar?.start(options.count, 0);
  try {
    return await runLoad({
      ...options,
      signal: interrupt.signal,
      onProgress: (done) => bar?.update(done),
    });
  } finally {
    bar?.stop();
    process.removeListener('SIGINT', onSigint);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `load: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = EXIT_NOT_ALL_2XX;
  },
);
