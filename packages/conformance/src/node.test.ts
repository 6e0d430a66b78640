import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as main from './index.js';
import { loadVectorFile, SHIPPED_VECTORS } from './node.js';
import { VectorFileError } from './vectorFile.js';

const dir = mkdtempSync(path.join(tmpdir(), 'conformance-node-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('@batchnorm/conformance/node', () => {
  it('loads the shipped vectors', async () => {
    const cases = await loadVectorFile(SHIPPED_VECTORS);
    expect(cases.length).toBeGreaterThan(0);
  });

  it('names the path of a missing file, and of a file that is not JSON', async () => {
    const missing = path.join(dir, 'missing.json');
    await expect(loadVectorFile(missing)).rejects.toThrow(VectorFileError);
    await expect(loadVectorFile(missing)).rejects.toThrow(`${missing}: cannot read the file (ENOENT)`);
    const broken = path.join(dir, 'broken.json');
    writeFileSync(broken, '{"schema":');
    await expect(loadVectorFile(broken)).rejects.toThrow(`${broken}: not valid JSON`);
  });

  it('is not in the main entry any more (moved, so the main entry stays browser-safe)', () => {
    expect('loadVectorFile' in main).toBe(false);
    expect(typeof main.parseVectorFile).toBe('function');
  });
});
