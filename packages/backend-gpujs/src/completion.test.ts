import type { KernelCompletion } from '@batchnorm/core';
import { afterAll, describe, expect, it } from 'vitest';
import { backendFor, TESTED_MODES } from './__tests__/helpers.js';
import type { GpuJsMode } from './modes.js';

/** What each tested mode declares: the bench and the tools wait (or not) by it. */
const DECLARED: Readonly<Record<GpuJsMode, KernelCompletion>> = {
  cpu: 'on-return',
  headlessgl: 'queued',
  webgl: 'queued',
  webgl2: 'queued',
};

const X = [-2, -0.5, 0, 1.5, 3, -4];
const RELU_X = [0, 0, 0, 1.5, 3, 0];

for (const mode of TESTED_MODES) {
  describe(`gpujs completion, mode ${mode}`, () => {
    const backend = backendFor(mode);
    afterAll(() => backend.destroy());

    it(`declares '${DECLARED[mode]}' and has no onSubmittedWorkDone (a pixel read is its only wait)`, () => {
      expect(backend.completion).toBe(DECLARED[mode]);
      expect(backend.onSubmittedWorkDone).toBeUndefined();
    });

    if (DECLARED[mode] === 'on-return') {
      it('on-return: the result is on the host when the kernel returns, before any read', () => {
        const x = backend.upload(Float32Array.from(X), [2, 3]);
        const y = backend.relu(x);
        // the tensor holds the computed values themselves, not a handle to pending work
        expect(y.value).toBeInstanceOf(Float32Array);
        expect(Array.from(y.value as Float32Array)).toEqual(RELU_X);
        expect(backend.readbacks).toBe(0);
        expect(Array.from(backend.readSync(y))).toEqual(RELU_X);
        for (const t of [x, y]) backend.dispose(t);
      });
    } else {
      it('queued: the kernel returns a texture without reading a pixel; a read right after sees the result', async () => {
        const x = backend.upload(Float32Array.from(X), [2, 3]);
        // two kernels in a row, the second consuming the first's texture: all queued on the context
        const first = backend.relu(x);
        const y = backend.relu(first);
        expect(y.value).not.toBeInstanceOf(Float32Array);
        expect(backend.pixelReads).toBe(0);
        const read = backend.read(y);
        for (const t of [x, first, y]) backend.dispose(t);
        expect(Array.from(await read)).toEqual(RELU_X);
        expect(backend.pixelReads).toBeGreaterThan(0);
        expect(backend.readbacks).toBe(1);
      });
    }
  });
}
