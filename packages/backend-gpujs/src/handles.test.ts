import { afterAll, describe, expect, it } from 'vitest';
import { BatchNorm, type BatchNormAttrs } from '@batchnorm/core';
import type { GpuTensor } from './tensor.js';
import { randomValues } from '@batchnorm/conformance/testing';
import { backendFor, reference, TESTED_MODES } from './__tests__/helpers.js';

// Issue 13, item 8 on the gpujs backend (conformance's errors/handles/* run every kind on every
// kernel): the hazards particular to this backend, each of which failed before the fix.

const attrs: BatchNormAttrs = { layout: 'NC', epsilon: 1e-5 };
const shape = [8, 3];

/** A BatchNormError INVALID_HANDLE naming `argument` (a TypeError or another error does not match). */
const invalidHandle = (argument: string) => expect.objectContaining({ name: 'BatchNormError', code: 'INVALID_HANDLE', argument });

for (const mode of TESTED_MODES) {
  describe(`gpujs (${mode})`, () => {
    const backend = backendFor(mode);
    const other = backendFor(mode);
    afterAll(() => {
      backend.destroy();
      other.destroy();
    });
    const upload = (seed: number, s: number[]) => backend.upload(Float32Array.from(randomValues(seed, s.reduce((a, b) => a * b, 1))), s);

    it('a tensor of another gpujs instance (another GL context): INVALID_HANDLE, through the kernel and the layer', () => {
      const foreign = other.upload(Float32Array.from(randomValues(1, 24)), shape);
      expect(() => backend.relu(foreign)).toThrow(invalidHandle('x'));
      const layer = new BatchNorm(backend, { numFeatures: 3 });
      expect(() => layer.forward(foreign)).toThrow(invalidHandle('x'));
      expect(layer.numBatchesTracked).toBe(0);
      expect(() => backend.dispose(foreign)).toThrow(invalidHandle('t'));
      expect(Array.from(other.readSync(foreign))).toHaveLength(24);
      layer.dispose();
    });

    it("the reference's dy into backward: INVALID_HANDLE dy, not a TypeError", () => {
      const x = upload(2, shape);
      const gamma = upload(3, [3]);
      const { saved } = backend.batchNormForwardTraining({ x, gamma, beta: gamma }, attrs);
      const dy = reference.upload(randomValues(4, 24), shape) as unknown as GpuTensor;
      expect(() => backend.batchNormBackward({ dy, x, gamma, saved }, attrs)).toThrow(invalidHandle('dy'));
      backend.disposeSaved(saved);
    });

    it('a disposed tensor, and a layer whose x was disposed before backward: INVALID_HANDLE', () => {
      const t = upload(5, shape);
      backend.dispose(t);
      expect(() => backend.sigmoid(t)).toThrow(invalidHandle('x'));
      const layer = new BatchNorm(backend, { numFeatures: 3 });
      const x = upload(6, shape);
      layer.forward(x);
      backend.dispose(x);
      const state = layer.stateSync();
      expect(() => layer.backward(upload(7, shape))).toThrow(invalidHandle('x'));
      expect(layer.stateSync()).toEqual(state);
      layer.dispose();
    });

    it('a shape cannot be changed (it hung the cpu mode)', () => {
      const t = upload(8, shape);
      expect(() => {
        (t.shape as number[])[0] = 1000;
      }).toThrow(TypeError);
      expect(() => {
        (t as unknown as { shape: number[] }).shape = [1000, 3];
      }).toThrow(TypeError);
      expect([...t.shape]).toEqual(shape);
      expect(Array.from(backend.readSync(backend.relu(t)))).toHaveLength(24);
    });
  });
}
