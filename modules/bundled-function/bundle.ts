import { buildSync, formatMessagesSync, type BuildFailure, type Message } from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUILD_DIR, FUNCTIONS_DIR, PROJECT_ROOT } from '../project-paths';

/** The Lambda runtime the bundles are built for; keep with `LAMBDA_RUNTIME`. */
export const BUNDLE_TARGET = 'node22';
export const LAMBDA_RUNTIME = 'nodejs22.x';
/** The handler string of every bundled function: `index.js` exporting `handler`. */
export const LAMBDA_HANDLER = 'index.handler';

export interface BundleResult {
  /** Folder holding `index.js` and `index.js.map`, ready to be zipped. */
  readonly outDir: string;
  /** Size of `index.js` in bytes. */
  readonly bytes: number;
}

/** Thrown when esbuild cannot bundle a function; the message holds esbuild's own diagnostics. */
export class BundlingError extends Error {
  constructor(entry: string, details: string) {
    super(`Bundling functions/${entry} failed:\n${details}`);
    this.name = 'BundlingError';
  }
}

const cache = new Map<string, BundleResult>();

function isBuildFailure(error: unknown): error is BuildFailure {
  return error instanceof Error && Array.isArray((error as Partial<BuildFailure>).errors);
}

function describe(messages: Message[]): string {
  return formatMessagesSync(messages, { kind: 'error', color: false }).join('').trim();
}

/**
 * Bundles `functions/<entry>/index.ts` with esbuild into one minified CommonJS file with a source
 * map, for the Lambda Node.js runtime on arm64 or x86_64 alike (no native code). Everything is
 * bundled, the AWS SDK v3 included, so each function runs the SDK version pinned by the lockfile
 * rather than whatever the runtime ships. Paths in the output are relative to the repository, so the
 * bytes — and therefore the asset hash — change only when the code or its dependencies do.
 *
 * Results are cached per process: several stacks or tests synthesizing the same function bundle once.
 */
export function bundleFunction(entry: string, functionsDir: string = FUNCTIONS_DIR): BundleResult {
  const cacheKey = `${functionsDir}\0${entry}`;
  const cached = cache.get(cacheKey);
  if (cached) return cached;

  const entryFile = path.join(functionsDir, entry, 'index.ts');
  if (!fs.existsSync(entryFile)) {
    throw new BundlingError(entry, `entry point ${path.relative(PROJECT_ROOT, entryFile)} does not exist`);
  }
  const outDir = path.join(BUILD_DIR, 'functions', entry);
  fs.rmSync(outDir, { recursive: true, force: true });

  try {
    const result = buildSync({
      absWorkingDir: PROJECT_ROOT,
      entryPoints: [path.relative(PROJECT_ROOT, entryFile)],
      outfile: path.relative(PROJECT_ROOT, path.join(outDir, 'index.js')),
      bundle: true,
      platform: 'node',
      target: BUNDLE_TARGET,
      format: 'cjs',
      mainFields: ['module', 'main'],
      minify: true,
      sourcemap: true,
      sourcesContent: false,
      legalComments: 'none',
      // SQL files are imported as text: the function runs exactly the SQL kept in sql/.
      loader: { '.sql': 'text' },
      logLevel: 'silent',
      metafile: true,
    });
    if (result.errors.length > 0) throw new BundlingError(entry, describe(result.errors));
  } catch (error) {
    if (error instanceof BundlingError) throw error;
    throw new BundlingError(entry, isBuildFailure(error) ? describe(error.errors) : String(error));
  }

  const bundled = { outDir, bytes: fs.statSync(path.join(outDir, 'index.js')).size };
  cache.set(cacheKey, bundled);
  return bundled;
}

/** Forgets bundles built earlier in this process (for tests that change a function's code). */
export function clearBundleCache(): void {
  cache.clear();
}
