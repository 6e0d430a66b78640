import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { outputPathProblem, temporaryPathOf, writeFileAtomic } from './index.js';

let work: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'core-node-'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('replaces a file whole, text or bytes, and leaves no temporary file', () => {
    const file = join(work, 'out.json');
    writeFileSync(file, 'old');
    writeFileAtomic(file, 'new');
    expect(readFileSync(file, 'utf8')).toBe('new');
    writeFileAtomic(file, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(file)]).toEqual([1, 2, 3]);
    expect(readdirSync(work)).toEqual(['out.json']);
  });

  it('makes missing parent directories', () => {
    const file = join(work, 'a', 'b', 'c.txt');
    writeFileAtomic(file, 'x');
    expect(readFileSync(file, 'utf8')).toBe('x');
  });

  it('throws the error with its code, keeps the old file and removes the temporary one', () => {
    const target = join(work, 'dir');
    mkdirSync(target);
    // renaming a file over a directory fails after the temporary file was written
    expect(() => writeFileAtomic(target, 'text')).toThrow(expect.objectContaining({ code: 'EISDIR' }));
    expect(readdirSync(work)).toEqual(['dir']);
  });

  it.skipIf(!existsSync('/dev/full'))('on a full disk leaves the previous content untouched', () => {
    const file = join(work, 'state.json');
    writeFileSync(file, 'previous');
    symlinkSync('/dev/full', temporaryPathOf(file));
    expect(() => writeFileAtomic(file, 'x'.repeat(1 << 16))).toThrow(expect.objectContaining({ code: 'ENOSPC' }));
    expect(readFileSync(file, 'utf8')).toBe('previous');
    expect(readdirSync(work)).toEqual(['state.json']);
  });
});

describe('temporaryPathOf', () => {
  it('is beside the target and names the process', () => {
    expect(temporaryPathOf('/x/y.json')).toBe(`/x/y.json.${process.pid}.tmp`);
  });
});

describe('outputPathProblem', () => {
  it('accepts a new file, an existing file and a path whose directories are missing', () => {
    const existing = join(work, 'r.md');
    writeFileSync(existing, '');
    expect(outputPathProblem(join(work, 'new.md'))).toBeUndefined();
    expect(outputPathProblem(existing)).toBeUndefined();
    expect(outputPathProblem(join(work, 'a', 'b', 'c.md'))).toBeUndefined();
  });

  it('names a directory, a file on the way and an unwritable directory', () => {
    const file = join(work, 'file');
    writeFileSync(file, '');
    expect(outputPathProblem(work)).toBe('is a directory');
    expect(outputPathProblem(join(file, 'report.md'))).toBe(`${file} is not a directory`);
    expect(outputPathProblem(join(file, 'x', 'y', 'report.md'))).toBe(`${file} is not a directory`);
  });

  it.skipIf(process.getuid?.() === 0)('names a directory that is not writable', () => {
    const readOnly = join(work, 'ro');
    mkdirSync(readOnly);
    chmodSync(readOnly, 0o555);
    expect(outputPathProblem(join(readOnly, 'report.md'))).toBe(`${readOnly} is not writable (EACCES)`);
    chmodSync(readOnly, 0o755);
  });
});
