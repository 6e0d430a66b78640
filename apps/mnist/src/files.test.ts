import { existsSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporaryPathOf, writeFileAtomic } from './files.js';

// Issue 13, item 4: /dev/full fails every write with ENOSPC, like a full disk.
describe.skipIf(!existsSync('/dev/full'))('writeFileAtomic on a full disk', () => {
  it('keeps the previous file, removes its temporary file and names the file in the error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mnist-files-'));
    const path = join(dir, 'checkpoint.json');
    writeFileSync(path, 'the previous checkpoint');
    // The temporary file lands on the full disk.
    symlinkSync('/dev/full', temporaryPathOf(path));
    expect(() => writeFileAtomic(path, 'x'.repeat(1 << 20))).toThrow(new RegExp(`${path}: .*ENOSPC`));
    expect(readFileSync(path, 'utf8')).toBe('the previous checkpoint');
    expect(readdirSync(dir)).toEqual(['checkpoint.json']);
  });

  it('leaves nothing behind when there was no previous file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mnist-files-'));
    const path = join(dir, 'metrics.json');
    symlinkSync('/dev/full', temporaryPathOf(path));
    expect(() => writeFileAtomic(path, '{}')).toThrow(/ENOSPC/);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file whole', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mnist-files-'));
    const path = join(dir, 'a.json');
    writeFileAtomic(path, 'one');
    writeFileAtomic(path, 'two');
    expect(readFileSync(path, 'utf8')).toBe('two');
    expect(readdirSync(dir)).toEqual(['a.json']);
  });
});
