/**
 * The local run's wall time: `tsx bench/start.ts`.
 *
 * Runs the whole `npm start` flow (`runLocal`) with its default options BENCH_RUNS times (default 3)
 * in a temporary folder and reports the median wall time, each step's median, and the time per HTTP
 * call of the simulated traffic against a baseline measured in the same process: the same number of
 * calls, at the same concurrency, to a bare node:http server that answers a fixed body (what any local
 * HTTP round trip costs here). Prints a short summary and ends with one JSON line.
 *
 * Target: the default run finishes within 60 s (the issue: "with defaults it finishes within a minute").
 * Environment: BENCH_RUNS (default 3), BENCH_TENANTS / BENCH_HOURS / BENCH_REQUESTS (default: npm start's).
 */
import '../scripts/start/quiet-functions';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { forEachLimited } from '../core/concurrency';
import { runLocal, type StepTiming } from '../local/run/run-local';
import { START_DEFAULTS } from '../scripts/start/options';
import { median, positiveIntegerFromEnv } from './support';

const TARGET_MS = 60_000;
const RUNS = positiveIntegerFromEnv('BENCH_RUNS', 3);
const TENANTS = positiveIntegerFromEnv('BENCH_TENANTS', START_DEFAULTS.tenants);
const HOURS = positiveIntegerFromEnv('BENCH_HOURS', START_DEFAULTS.hours);
const REQUESTS = positiveIntegerFromEnv('BENCH_REQUESTS', START_DEFAULTS.requests);

async function baselineMillis(calls: number, concurrency: number): Promise<number> {
  const body = JSON.stringify(['abcdefgh', 'ijklmnop']);
  const server = http.createServer((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  const started = performance.now();
  await forEachLimited(Array.from({ length: calls }, (_, i) => i), concurrency, async () => {
    await (await fetch(url)).text();
  });
  const millis = performance.now() - started;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return millis;
}

async function main(): Promise<void> {
  const totals: number[] = [];
  const steps = new Map<string, number[]>();
  let calls = 0;
  for (let run = 0; run < RUNS; run++) {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-start-'));
    const started = performance.now();
    const { result, environment } = await runLocal({ tenants: TENANTS, hours: HOURS, requests: REQUESTS, seed: START_DEFAULTS.seed, lakeFolder: path.join(folder, 'lake') });
    totals.push(performance.now() - started);
    await environment.close();
    fs.rmSync(folder, { recursive: true, force: true });
    if (!result.reconciliation.exact) throw new Error(`run ${run + 1} did not reconcile: ${result.reconciliation.problems.join('; ')}`);
    calls = result.traffic.requests;
    result.steps.forEach((step: StepTiming) => steps.set(step.name, [...(steps.get(step.name) ?? []), step.millis]));
  }
  const totalMs = median(totals);
  const trafficMs = median(steps.get('simulate hours') ?? [0]);
  const baselineMs = await baselineMillis(calls, 8);
  const perCallMs = trafficMs / calls;
  const baselinePerCallMs = baselineMs / calls;
  console.log(`npm start: ${TENANTS} tenants × ${HOURS} hours × ~${REQUESTS} calls, median of ${RUNS} runs`);
  console.log(`  total ${(totalMs / 1000).toFixed(2)} s (target ≤ ${TARGET_MS / 1000} s)`);
  for (const [name, values] of steps) console.log(`  ${name.padEnd(24)} ${Math.round(median(values)).toLocaleString('en').padStart(7)} ms`);
  console.log(`  per simulated HTTP call (API, handlers, Firehose, transform, DuckDB, hourly jobs): ${perCallMs.toFixed(2)} ms; bare local HTTP round trip: ${baselinePerCallMs.toFixed(2)} ms (ratio ${(perCallMs / baselinePerCallMs).toFixed(1)})`);
  console.log(JSON.stringify({ bench: 'start', tenants: TENANTS, hours: HOURS, requests: REQUESTS, calls, totalMs: Math.round(totalMs), targetMs: TARGET_MS, msPerCall: Number(perCallMs.toFixed(3)), baselineMsPerCall: Number(baselinePerCallMs.toFixed(3)), ratio: Number((perCallMs / baselinePerCallMs).toFixed(2)), met: totalMs <= TARGET_MS }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
