import * as path from 'node:path';

/** The repository root (this file lives in `modules/`). */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

/** Where Lambda entry points live: `functions/<name>/index.ts`. */
export const FUNCTIONS_DIR = path.join(PROJECT_ROOT, 'functions');

/** Scratch space for build output that is not part of the synthesized stack (git-ignored). */
export const BUILD_DIR = path.join(PROJECT_ROOT, '.build');
