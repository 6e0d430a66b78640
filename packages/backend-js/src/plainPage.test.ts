// A browser page that is not cross-origin isolated, simulated in Node: the browser platform
// module, and no SharedArrayBuffer global (Chromium removes it from such a page). Before the
// platform split, the default options threw `ReferenceError: SharedArrayBuffer is not defined`
// at 2¹⁸ elements, and { simd: false } at the first upload. Real Chromium runs in tools/browser.
import { BatchNorm, createReferenceBackend, type Backend, type Shape, type TensorHandle } from '@batchnorm/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { randomFloat32 } from './__tests__/helpers.js';

vi.mock('#platform', () => import('./platform.browser.js'));

const { createBackend } = await import('./backend.js');

beforeAll(() => {
  vi.stubGlobal('SharedArrayBuffer', undefined);
  vi.stubGlobal('crossOriginIsolated', false);
  vi.stubGlobal('navigator', { hardwareConcurrency: 4 });
});
afterAll(() => vi.unstubAllGlobals());

/** One training forward and backward of a BatchNorm layer on `backend`; the values read back. */
async function trainingStep<T extends TensorHandle>(backend: Backend<T>, shape: Shape, x: Float32Array, dy: Float32Array) {
  const bn = new BatchNorm(backend, { numFeatures: shape.at(-1)!, layout: 'NHWC' });
  const tx = backend.upload(x, shape);
  const tdy = backend.upload(dy, shape);
  const y = bn.forward(tx);
  const dx = bn.backward(tdy);
  const values = { y: await backend.read(y), dx: await backend.read(dx) };
  for (const t of [tx, tdy, y, dx]) backend.dispose(t);
  bn.dispose();
  return values;
}

describe('js backend in a page that is not cross-origin isolated', () => {
  it.each([{}, { simd: false }, { threads: 4 }, { threads: 4, simd: false }])(
    'createBackend(%j) runs a BN step on 2¹⁸ elements on one thread and says why in details',
    async (options) => {
      expect(typeof SharedArrayBuffer).toBe('undefined');
      const backend = createBackend(options);
      expect(backend.details.threads).toBe(1);
      expect(backend.details.threadsReason).toMatch(/not cross-origin isolated \(no SharedArrayBuffer\)/);

      const shape = [16, 16, 32, 32]; // NHWC, 2¹⁸ elements: the default parallelMinElements
      const x = randomFloat32(1, 1 << 18, 2, 0.5);
      const dy = randomFloat32(2, 1 << 18);
      const reference = createReferenceBackend();
      const ours = await trainingStep(backend, shape, x, dy);
      const theirs = await trainingStep(reference, shape, x, dy);
      for (const key of ['y', 'dx'] as const) {
        let worst = 0;
        for (let i = 0; i < ours[key].length; i++) worst = Math.max(worst, Math.abs(ours[key][i]! - theirs[key][i]!));
        expect(worst, key).toBeLessThan(1e-4);
      }
      expect(backend.helperChunks()).toBe(0);
      backend.destroy();
      reference.destroy();
    },
    60_000,
  );

  it('{ threads: 1 } needs no reason', () => {
    const backend = createBackend({ threads: 1 });
    expect(backend.details).not.toHaveProperty('threadsReason');
    backend.destroy();
  });
});
