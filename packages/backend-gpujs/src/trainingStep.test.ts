import { afterAll, describe, expect, it } from 'vitest';
import { allClose } from '@batchnorm/conformance/testing';
import { backendFor, reference, TESTED_MODES } from './__tests__/helpers.js';
import { trainingStep } from './__tests__/trainingStep.js';
import type { GpuJsBackend } from './backend.js';

for (const mode of TESTED_MODES) {
  describe(`an MLP training step with BatchNorm on gpujs, mode ${mode}`, () => {
    let backend: GpuJsBackend | undefined;
    afterAll(() => backend?.destroy());

    it('runs with no read-back until the final explicit read, and matches the reference', () => {
      backend = backendFor(mode);
      const step = trainingStep(backend);
      // Nothing left the device: no read/readSync, and no readPixels on the GL context.
      expect(backend.readbacks).toBe(0);
      expect(backend.pixelReads).toBe(0);

      const loss = backend.readSync(step.loss);
      expect(backend.readbacks).toBe(1);
      if (mode !== 'cpu') expect(backend.pixelReads).toBeGreaterThan(0);

      const want = trainingStep(reference);
      for (const [name, got, expected] of [
        ['loss', loss, want.loss.data],
        ['w1', backend.readSync(step.w1), want.w1.data],
        ['w2', backend.readSync(step.w2), want.w2.data],
        ['b2', backend.readSync(step.b2), want.b2.data],
      ] as const) {
        const { ok, message } = allClose(got, expected, 1e-4, 1e-3);
        expect(ok, `${name}: ${message}`).toBe(true);
      }
    });
  });
}
