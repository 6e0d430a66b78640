import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { asyncOnly, createReferenceBackend, hasSyncReads } from '@batchnorm/core';
import { describe, expect, it } from 'vitest';
import { errorScenarios } from './errorCheck.js';
import { gradientCheckCases } from './gradientCheck.js';
import { buildGrid } from './grid.js';
import { runCases } from './runner.js';
import { runningStatsCases } from './runningStats.js';
import { runSuite } from './suite.js';
import { loadVectorFile } from './node.js';

/**
 * The suite on a backend that only reads asynchronously (as WebGPU does): every read must go
 * through `await backend.read`, the layer checks through `await layer.state()`, and a non-finite
 * batch is reported when its check settles. The kernels are the reference's, so every result is
 * bit-identical to the expected values.
 */
describe('the whole suite on asyncOnly(createReferenceBackend())', () => {
  it('has no synchronous read to fall back on', () => {
    const backend = asyncOnly(createReferenceBackend());
    expect(hasSyncReads(backend)).toBe(false);
    expect(backend.readInto).toBeUndefined();
  });

  it('passes the quick grid, the running-statistics, gradient and error checks', async () => {
    const backend = asyncOnly(createReferenceBackend());
    const grid = buildGrid('quick');
    const results = await runSuite(backend, { grid: 'quick' });
    expect(results.filter((r) => !r.pass).map((r) => `${r.case}: ${r.message}`)).toEqual([]);
    expect(results).toHaveLength(
      grid.length + runningStatsCases().length + 2 * gradientCheckCases().length + errorScenarios().length,
    );
    // the reference's own kernels behind an asynchronous read: not a bit off
    const gridResults = results.slice(0, grid.length);
    expect(gridResults.filter((r) => r.maxAbsError !== 0).map((r) => r.case)).toEqual([]);
    // the non-finite batches were reported (after settling) exactly as on the reference
    for (const name of ['errors/forward/NDHWC/NaNInBatch', 'errors/forward/NCL/InfinityInBatch']) {
      expect(results.find((r) => r.case === name)).toMatchObject({ pass: true });
    }
  }, 120_000);

  it('passes the shared PyTorch / ONNX Runtime vectors (batchnorm-vectors/1, as written before the new layouts)', async () => {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
    const file = path.join(root, '..', 'shared', 'vectors', 'pytorch-onnxruntime-sample.json');
    expect(existsSync(file), `${file} is missing`).toBe(true);
    const cases = await loadVectorFile(file);
    expect(cases.length).toBeGreaterThan(0);
    const results = await runCases(asyncOnly(createReferenceBackend()), cases);
    expect(results.filter((r) => !r.pass).map((r) => `${r.case}: ${r.message}`)).toEqual([]);
  });
});
