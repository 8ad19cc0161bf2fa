/**
 * The report file of `--out`: checked before anything is read (and, on Athena, billed), then written
 * through a temporary file in the same folder renamed into place, so that the file is either the whole
 * new report or left as it was — never half-written, never emptied by a failed run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileWhole } from '../../local/files/write-file-whole';
import { describeError, UsageError } from './errors';

/**
 * Fails when `out` cannot be written: a folder, a missing folder, or one without write permission.
 * @throws UsageError naming --out and why
 */
export function checkWritable(out: string): void {
  const dir = path.dirname(path.resolve(out));
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(out);
  } catch {
    stat = undefined;
  }
  if (stat?.isDirectory()) throw new UsageError(`cannot write --out ${out}: it is a directory`);
  try {
    if (!fs.statSync(dir).isDirectory()) throw new Error('not a directory');
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'its folder does not exist' : code === 'EACCES' || code === 'EPERM' ? 'its folder is not writable' : describeError(error);
    throw new UsageError(`cannot write --out ${out}: ${why}`, { cause: error });
  }
}

/** Writes `text` to `file` whole or not at all (temporary file renamed into place). */
export function writeWhole(file: string, text: string): void {
  try {
    writeFileWhole(file, text);
  } catch (error) {
    throw new Error(`cannot write --out ${file}: ${describeError(error)}`, { cause: error });
  }
}
