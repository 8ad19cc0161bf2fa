import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freshLakeFolder, OutputFolderError, prepareOutputFolder, writeFileWhole } from '../../../local/run/output-folder';

let root: string;
beforeEach(() => { root = fs.mkdtempSync(path.join(os.tmpdir(), 'out-folder-')); });
afterEach(() => {
  fs.chmodSync(root, 0o755);
  fs.rmSync(root, { recursive: true, force: true });
});

describe('the local run\'s output folder', () => {
  it('is created when missing and proved writable, leaving no probe behind', () => {
    const folder = prepareOutputFolder(path.join(root, 'a', 'b'));
    expect(fs.readdirSync(folder)).toEqual([]);
  });

  it('refuses a folder where a file is in the way', () => {
    fs.writeFileSync(path.join(root, 'file'), 'x');
    expect(() => prepareOutputFolder(path.join(root, 'file'))).toThrow(`cannot write to the output folder ${path.join(root, 'file')}: a file is in the way`);
  });

  it('refuses a folder it cannot write to (unless running as root, which may write anywhere)', () => {
    const locked = path.join(root, 'locked');
    fs.mkdirSync(locked, { mode: 0o555 });
    if (process.getuid?.() === 0) {
      expect(prepareOutputFolder(locked)).toBe(locked);
    } else {
      expect(() => prepareOutputFolder(locked)).toThrow('permission denied');
    }
  });

  it('replaces the lake of an earlier run, never a folder it did not create', () => {
    const lake = freshLakeFolder(root);
    fs.writeFileSync(path.join(lake, 'old.parquet'), 'x');
    expect(fs.readdirSync(freshLakeFolder(root))).toEqual(['.created-by-npm-start']);
    const foreign = path.join(root, 'other');
    fs.mkdirSync(path.join(foreign, 'lake'), { recursive: true });
    fs.writeFileSync(path.join(foreign, 'lake', 'precious.txt'), 'keep');
    expect(() => freshLakeFolder(foreign)).toThrow('was not created by npm start');
    expect(fs.readFileSync(path.join(foreign, 'lake', 'precious.txt'), 'utf8')).toBe('keep');
  });

  it('writes a file whole through a temporary file, and leaves nothing when it cannot', () => {
    const file = path.join(root, 'report.html');
    writeFileWhole(file, '<p>one</p>');
    writeFileWhole(file, '<p>two</p>');
    expect(fs.readFileSync(file, 'utf8')).toBe('<p>two</p>');
    expect(fs.readdirSync(root)).toEqual(['report.html']);
    expect(() => writeFileWhole(path.join(root, 'missing', 'x.html'), 'x')).toThrow(OutputFolderError);
  });
});
