import type { Shape } from '@batchnorm/core';
import { afterAll, describe, expect, it } from 'vitest';
import { expectAllClose, randomValues } from '@batchnorm/conformance/testing';
import { backendFor, reference, sizeOf, TESTED_MODES } from './__tests__/helpers.js';
import type { GpuJsBackend } from './backend.js';
import type { GpuTensor } from './tensor.js';

const ATOL = 1e-4;
const RTOL = 1e-3;

for (const mode of TESTED_MODES) {
  // What is particular to gpujs: its modes, textures that outlive or are consumed, the tree
  // reductions at sizes the shared suite does not reach. Each kernel's values against the
  // reference, over every layout and value regime, are the conformance suite's (conformance.test.ts).
  describe(`gpujs kernels, mode ${mode}`, () => {
    let backend: GpuJsBackend | undefined;
    const open = (): GpuJsBackend => (backend ??= backendFor(mode));
    afterAll(() => backend?.destroy());

    const upload = (data: Float64Array, shape: Shape): GpuTensor =>
      open().upload(Float32Array.from(data), shape);
    // The reference sees the same float32-rounded inputs.
    const refUpload = (data: Float64Array, shape: Shape) => reference.upload(Float64Array.from(Float32Array.from(data)), shape);

    it(`runs in mode ${mode}`, () => {
      expect(open().mode).toBe(mode);
      expect(open().details['mode']).toBe(mode);
    });

    it('saved outlives y, mean and variance, serves several backward calls, and is released once', () => {
      const b = open();
      const shape = [6, 4, 5];
      const attrs = { layout: 'NLC', epsilon: 1e-5 } as const;
      const xData = randomValues(41, sizeOf(shape), 1, 1e4);
      const dyData = randomValues(42, sizeOf(shape));
      const x = upload(xData, shape);
      const dy = upload(dyData, shape);
      const gamma = upload(randomValues(43, 5, 0.5, 1), [5]);
      const beta = upload(randomValues(44, 5), [5]);
      const out = b.batchNormForwardTraining({ x, gamma, beta }, attrs);
      for (const t of [out.y, out.mean, out.variance]) b.dispose(t);
      const first = b.batchNormBackward({ dy, x, gamma, saved: out.saved }, attrs);
      const second = b.batchNormBackward({ dy, x, gamma, saved: out.saved }, attrs);
      const rx = refUpload(xData, shape);
      const rgamma = reference.upload(b.readSync(gamma), [5]);
      const want = reference.batchNormBackward(
        {
          dy: refUpload(dyData, shape),
          x: rx,
          gamma: rgamma,
          saved: reference.batchNormForwardTraining({ x: rx, gamma: rgamma, beta: reference.upload(b.readSync(beta), [5]) }, attrs).saved,
        },
        attrs,
      );
      // The shifted statistics keep x̂'s digits at 1e4 though mean and variance were disposed.
      expectAllClose(b.readSync(first.dx), want.dx.data, ATOL, RTOL);
      expectAllClose(b.readSync(first.dgamma), want.dgamma.data, ATOL, RTOL);
      for (const k of ['dx', 'dgamma', 'dbeta'] as const) {
        expect(Array.from(b.readSync(second[k]))).toEqual(Array.from(b.readSync(first[k])));
      }
      b.disposeSaved(out.saved);
      b.disposeSaved(out.saved);
      let error: unknown;
      try {
        b.batchNormBackward({ dy, x, gamma, saved: out.saved }, attrs);
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ name: 'BatchNormError', code: 'INVALID_HANDLE', argument: 'saved' });
      for (const t of [x, dy, gamma, beta, first.dx, first.dgamma, first.dbeta, second.dx, second.dgamma, second.dbeta]) {
        b.dispose(t);
      }
    });

    it('read captures the values when called: the tensor may be disposed at once', async () => {
      const b = open();
      const a = upload(Float64Array.of(1, 2, 3, 4), [2, 2]);
      const identity = upload(Float64Array.of(1, 0, 0, 1), [2, 2]);
      const t = b.matMul(a, identity);
      const pending = b.read(t);
      b.dispose(t);
      expect(Array.from(await pending)).toEqual([1, 2, 3, 4]);
      b.dispose(a);
      b.dispose(identity);
    });

    it('large offset [4096, 64] at 1e4: mean within one float32 rounding, variance to 1e-5', () => {
      const b = open();
      const shape = [4096, 64];
      const xData = Float64Array.from(Float32Array.from(randomValues(31, 4096 * 64, 1, 1e4)));
      const ones = new Float64Array(64).fill(1);
      const out = b.batchNormForwardTraining(
        { x: upload(xData, shape), gamma: upload(ones, [64]), beta: upload(new Float64Array(64), [64]) },
        { layout: 'NC', epsilon: 1e-5 },
      );
      const want = reference.batchNormForwardTraining(
        { x: reference.upload(xData, shape), gamma: reference.upload(ones, [64]), beta: reference.upload(new Float64Array(64), [64]) },
        { layout: 'NC', epsilon: 1e-5 },
      );
      const mean = b.readSync(out.mean);
      const variance = b.readSync(out.variance);
      // A float32 number near 1e4 is a multiple of 2⁻¹⁰: the best answer is within half of that.
      let worstMean = 0;
      let worstVariance = 0;
      let worstNaive = 0;
      for (let c = 0; c < 64; c++) {
        worstMean = Math.max(worstMean, Math.abs(mean[c]! - want.mean.data[c]!));
        worstVariance = Math.max(worstVariance, Math.abs(variance[c]! / want.variance.data[c]! - 1));
        // What a naive float32 running sum would give, for contrast.
        let naive = 0;
        for (let n = 0; n < 4096; n++) naive = Math.fround(naive + xData[n * 64 + c]!);
        worstNaive = Math.max(worstNaive, Math.abs(Math.fround(naive / 4096) - want.mean.data[c]!));
      }
      expect(worstMean).toBeLessThanOrEqual(2 ** -11 + 1e-6);
      expect(worstVariance).toBeLessThan(1e-5);
      expect(worstNaive).toBeGreaterThan(2 ** -11);
    });

    it('sumRows over many rows (tree reduction)', () => {
      const b = open();
      const shape = [5000, 3];
      const data = randomValues(12, sizeOf(shape), 1, 100);
      expectAllClose(b.readSync(b.sumRows(upload(data, shape))), reference.sumRows(refUpload(data, shape)).data, ATOL, RTOL);
    });

    it('sgdUpdate consumes param and returns the update', () => {
      const b = open();
      const p = randomValues(14, 20);
      const gr = randomValues(15, 20);
      const param = upload(p, [4, 5]);
      const got = b.sgdUpdate(param, upload(gr, [4, 5]), { learningRate: 0.3 });
      const want = reference.sgdUpdate(refUpload(p, [4, 5]), refUpload(gr, [4, 5]), { learningRate: 0.3 });
      expectAllClose(b.readSync(got), want.data, ATOL, RTOL);
      expect(param.value).toBeNull();
    });
  });
}
