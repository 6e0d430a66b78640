import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { outputPathProblem, writeFileAtomic } from './files.js';

const work = mkdtempSync(path.join(tmpdir(), 'batchnorm-conformance-files-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('replaces the file whole and leaves nothing beside it', () => {
    const dir = mkdtempSync(path.join(work, 'ok-'));
    const file = path.join(dir, 'out.md');
    writeFileSync(file, 'old');
    writeFileAtomic(file, 'new');
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(readdirSync(dir)).toEqual(['out.md']);
  });

  it('leaves no .tmp behind when the rename fails, and throws', () => {
    const dir = mkdtempSync(path.join(work, 'rename-'));
    // a non-empty directory where the file should go: the temporary file is written, the rename fails
    const target = path.join(dir, 'report.md');
    mkdirSync(target);
    writeFileSync(path.join(target, 'inside'), 'keep');
    expect(() => writeFileAtomic(target, 'text')).toThrow();
    expect(readdirSync(dir)).toEqual(['report.md']);
    expect(readFileSync(path.join(target, 'inside'), 'utf8')).toBe('keep');
  });
});

describe('outputPathProblem', () => {
  it('accepts a new file, an existing file, and a file in directories still to be made', () => {
    const existing = path.join(work, 'existing.md');
    writeFileSync(existing, '');
    expect(outputPathProblem(path.join(work, 'new.md'))).toBeUndefined();
    expect(outputPathProblem(existing)).toBeUndefined();
    expect(outputPathProblem(path.join(work, 'a', 'b', 'c.md'))).toBeUndefined();
    expect(readdirSync(work)).not.toContain('a');
  });

  it('names what is in the way: a directory, a file as a parent', () => {
    const file = path.join(work, 'plain');
    writeFileSync(file, '');
    expect(outputPathProblem(work)).toBe('is a directory');
    expect(outputPathProblem(path.join(file, 'report.md'))).toBe(`${file} is not a directory`);
    expect(outputPathProblem(path.join(file, 'x', 'y', 'report.md'))).toBe(`${file} is not a directory`);
  });

  // root may write anywhere, so this can only be seen as another user
  it.skipIf(process.getuid?.() === 0)('names a directory that is not writable', () => {
    const readOnly = path.join(work, 'read-only');
    mkdirSync(readOnly, { mode: 0o555 });
    chmodSync(readOnly, 0o555);
    expect(outputPathProblem(path.join(readOnly, 'report.md'))).toBe(`${readOnly} is not writable (EACCES)`);
  });
});
