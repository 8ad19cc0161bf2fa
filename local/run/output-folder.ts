/**
 * The local run's output folder: checked writable before any work starts (an unwritable folder is an
 * error up front, not after a minute of simulation), files written whole or not at all (temporary
 * file renamed into place), and the run's own lake replaced on each run — but only a lake this command
 * created, never a folder of something else.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileWhole as writeWhole } from '../files/write-file-whole';

/** The output folder cannot be used; the message says why. */
export class OutputFolderError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OutputFolderError';
  }
}

const LAKE_MARKER = '.created-by-npm-start';

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOTDIR' || code === 'EEXIST') return 'a file is in the way';
  if (code === 'EROFS') return 'read-only file system';
  if (code === 'ENOSPC') return 'no space left on the device';
  return error instanceof Error ? error.message : String(error);
}

/** Creates the folder if needed and proves it writable. */
export function prepareOutputFolder(out: string): string {
  const folder = path.resolve(out);
  try {
    fs.mkdirSync(folder, { recursive: true });
    const probe = path.join(folder, `.write-probe-${process.pid}`);
    fs.writeFileSync(probe, '');
    fs.rmSync(probe);
  } catch (error) {
    throw new OutputFolderError(`cannot write to the output folder ${folder}: ${reason(error)}`, { cause: error });
  }
  return folder;
}

/** A fresh, empty lake folder inside `folder` (an earlier run's lake is replaced; anything else is refused). */
export function freshLakeFolder(folder: string): string {
  const lake = path.join(folder, 'lake');
  if (fs.existsSync(lake)) {
    const entries = fs.readdirSync(lake);
    if (entries.length > 0 && !entries.includes(LAKE_MARKER)) {
      throw new OutputFolderError(`${lake} exists and was not created by npm start: choose another --out, or remove it`);
    }
    fs.rmSync(lake, { recursive: true, force: true });
  }
  fs.mkdirSync(lake, { recursive: true });
  fs.writeFileSync(path.join(lake, LAKE_MARKER), 'The local lake of the last `npm start` run; replaced by the next one.\n');
  return lake;
}

/** Writes `content` to `file` through a temporary file renamed into place: whole or not at all. */
export function writeFileWhole(file: string, content: string): void {
  try {
    writeWhole(file, content);
  } catch (error) {
    throw new OutputFolderError(`cannot write ${file}: ${reason(error)}`, { cause: error });
  }
}
