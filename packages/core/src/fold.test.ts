import { describe, expect, it } from 'vitest';
import { randomArray, reference } from './__tests__/helpers.js';
import { BatchNorm } from './BatchNorm.js';
import { foldNormalization } from './fold.js';

const C = 257;
const gamma = randomArray(1, C);
const beta = randomArray(2, C);
const mean = randomArray(3, C, 10);
const variance = randomArray(4, C).map((v) => v * v);
const epsilon = 1e-5;

describe('foldNormalization', () => {
  it('is scale = γ/√(σ²+ε), shift = β − μ·scale, bit for bit in float64', () => {
    const scale = new Float64Array(C);
    const shift = new Float64Array(C);
    foldNormalization(gamma, beta, mean, variance, epsilon, scale, shift);
    for (let c = 0; c < C; c++) {
      const s = gamma[c]! / Math.sqrt(variance[c]! + epsilon);
      expect(Object.is(scale[c], s) && Object.is(shift[c], beta[c]! - mean[c]! * s), `feature ${c}`).toBe(true);
    }
  });

  it('into float32 arrays: the shift is computed from the stored (rounded) scale', () => {
    const scale = new Float32Array(C);
    const shift = new Float32Array(C);
    foldNormalization(gamma, beta, mean, variance, epsilon, scale, shift);
    let differs = 0;
    for (let c = 0; c < C; c++) {
      const s = Math.fround(gamma[c]! / Math.sqrt(variance[c]! + epsilon));
      expect(scale[c]).toBe(s);
      expect(shift[c]).toBe(Math.fround(beta[c]! - mean[c]! * s));
      // the unrounded scale would give another shift for some features: the test can tell
      if (Math.fround(beta[c]! - mean[c]! * (gamma[c]! / Math.sqrt(variance[c]! + epsilon))) !== shift[c]) differs++;
    }
    expect(differs).toBeGreaterThan(0);
  });

  it('writes plain arrays and only gamma.length entries', () => {
    const scale = [0, 0, 0, 7];
    const shift = [0, 0, 0, 7];
    foldNormalization([2, 1, -1], [1, 0, 3], [0, 4, 1], [3, 0, 8], 1, scale, shift);
    expect(scale).toEqual([1, 1, -1 / 3, 7]);
    expect(shift).toEqual([1, -4, 3 + 1 / 3, 7]);
  });

  it("is what the layer's fold() returns", async () => {
    const layer = new BatchNorm(reference, { numFeatures: C, gamma, beta });
    layer.load({ ...layer.stateSync(), runningMean: Array.from(mean), runningVar: Array.from(variance) });
    const scale = new Float64Array(C);
    const shift = new Float64Array(C);
    foldNormalization(gamma, beta, mean, variance, epsilon, scale, shift);
    expect(layer.foldSync()).toEqual({ scale, shift });
    expect(await layer.fold()).toEqual({ scale, shift });
  });
});
