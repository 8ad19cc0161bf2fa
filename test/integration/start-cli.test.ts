/**
 * `npm start` as a newcomer runs it: the real command in a child process. A small run exits 0 with an
 * exact report written; invalid options, an unusable output folder and a busy port each give one
 * clear line and a non-zero exit, with no report claiming success.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { readRunReport } from '../../local/report/report-json';
import { runScript } from '../support/run-script';

const start = (args: string[]) => runScript('scripts/start.ts', args, { timeoutMs: 60_000, env: { ...process.env, NO_COLOR: '1' } });

let root: string;
beforeAll(() => { root = fs.mkdtempSync(path.join(os.tmpdir(), 'start-cli-')); });
afterAll(() => { fs.rmSync(root, { recursive: true, force: true }); });

it('runs the whole flow and writes an exact report', async () => {
  const out = path.join(root, 'run');
  const run = await start(['--tenants', '2', '--hours', '2', '--requests', '20', '--seed', '3', '--out', out]);
  expect(run.stderr).not.toContain('failed');
  expect(run.code).toBe(0);
  expect(run.stdout).toContain('EXACT');
  expect(run.stdout).toContain(`report: ${path.join(out, 'report.html')}`);
  const report = readRunReport(path.join(out, 'report.json'));
  expect(report.verdict).toEqual({ exact: true, problems: [] });
  expect(report.options).toEqual({ tenants: 2, hours: 2, requests: 20, seed: 3 });
  expect(fs.readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('<svg');
  expect(fs.readdirSync(path.join(out, 'lake')).length).toBeGreaterThan(1);
}, 60_000);

it('refuses invalid options with one line and exit 2', async () => {
  const run = await start(['--tenants', '0', '--out', path.join(root, 'never')]);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('npm start: --tenants must be a whole number from 1 to 50, got 0.');
  expect(fs.existsSync(path.join(root, 'never'))).toBe(false);
});

it('refuses an output folder it cannot write, before doing anything', async () => {
  const blocked = path.join(root, 'blocked');
  fs.writeFileSync(blocked, 'a file, not a folder');
  const run = await start(['--out', blocked]);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain(`npm start: cannot write to the output folder ${blocked}: a file is in the way`);
  expect(run.stdout).not.toContain('EXACT');
});

it('stops with a clear message when the --serve port is busy, writing no report', async () => {
  const busy = net.createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', () => resolve()));
  const port = (busy.address() as net.AddressInfo).port;
  try {
    const out = path.join(root, 'busy');
    const run = await start(['--tenants', '1', '--hours', '1', '--requests', '1', '--serve', '--port', String(port), '--out', out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`port ${port} is in use`);
    expect(fs.existsSync(path.join(out, 'report.json'))).toBe(false);
  } finally {
    busy.close();
  }
}, 30_000);
