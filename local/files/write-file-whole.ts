/**
 * Writes a file whole or not at all: the text goes to a temporary file in the same folder, which is
 * then renamed over the target (atomic on one file system). A failure removes the temporary file and
 * leaves the target as it was; the error is the file system's own, for the caller to word.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function writeFileWhole(file: string, text: string): void {
  const temporary = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    fs.writeFileSync(temporary, text, { flag: 'wx' });
    fs.renameSync(temporary, file);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}
