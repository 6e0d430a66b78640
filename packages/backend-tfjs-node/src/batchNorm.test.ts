import { flatIndex, geometryOf, LAYOUTS, type BatchNormAttrs, type Layout, type Shape } from '@batchnorm/core';
import { batchInput, expectAllClose, layoutShape, randomValues } from '@batchnorm/conformance/testing';
import { describe, expect, it } from 'vitest';
import { compareWithReference, runOn, tfjs } from './__tests__/helpers.js';
import { routeOf } from './route.js';

/** Every spatial axis longer than 1, 120 values per feature. */
const medium = (layout: Layout): Shape => layoutShape(layout, 4, 6, [5, 3, 2]);
/** m = 100,352 values per feature for 64 features. */
const large = (layout: Layout): Shape => layoutShape(layout, 32, 64, [4, 28, 28]);

function inputsFor(layout: Layout, shape: Shape, seed: number, offset = 0) {
  const { c, size } = geometryOf(layout, shape);
  return {
    x: { data: randomValues(seed, size, 2, offset), shape },
    gamma: { data: randomValues(seed + 1, c, 0.5, 1), shape: [c] },
    beta: { data: randomValues(seed + 2, c), shape: [c] },
    dy: { data: randomValues(seed + 3, size), shape },
    mean: { data: randomValues(seed + 4, c), shape: [c] },
    variance: { data: randomValues(seed + 5, c, 0.3, 1).map(Math.abs), shape: [c] },
  };
}

// Each kernel's values against the reference, over every layout and value regime, are the
// conformance suite's (conformance.test.ts); here, what TensorFlow's ops make particular.
describe.each(LAYOUTS)('batch norm on tfjs-node, layout %s', (layout) => {
  const attrs: BatchNormAttrs = { layout, epsilon: 1e-5 };

  it('returns the biased batch variance (÷m), not TensorFlow’s Bessel-corrected one', () => {
    // m = 4 values per feature: the two conventions differ by 4/3.
    const shape = layoutShape(layout, 1, 2, [4, 1, 1]);
    const { c, m, size } = geometryOf(layout, shape);
    const x = Float32Array.from({ length: size }, (_, i) => (i * 7) % 5);
    const [variance] = runOn(tfjs, [{ data: Float64Array.from(x), shape }, { data: new Float64Array(c).fill(1), shape: [c] }, { data: new Float64Array(c), shape: [c] }], (b, [xt, g, bt]) => {
      const out = b.batchNormForwardTraining({ x: xt!, gamma: g!, beta: bt! }, attrs);
      b.dispose(out.y);
      b.dispose(out.mean);
      b.disposeSaved(out.saved);
      return [out.variance];
    });
    const geometry = geometryOf(layout, shape);
    for (let feature = 0; feature < c; feature++) {
      const values: number[] = [];
      for (let n = 0; n < geometry.n; n++) {
        for (let s = 0; s < geometry.spatial; s++) {
          values.push(x[flatIndex(geometry, n, feature, s)]!);
        }
      }
      const mean = values.reduce((a, v) => a + v, 0) / m;
      const biased = values.reduce((a, v) => a + (v - mean) ** 2, 0) / m;
      expect(variance![feature]).toBeCloseTo(biased, 5);
      expect(Math.abs(variance![feature]! - (biased * m) / (m - 1))).toBeGreaterThan(0.1);
    }
  });

  it('keeps precision for inputs far from zero (the grid\'s offset1e4: 1e4 + N(0, 1)), tighter than the suite', () => {
    const shape = medium(layout);
    const { gamma, beta } = inputsFor(layout, shape, 20);
    const x = { data: batchInput(layout, shape, 'offset1e4', 20), shape };
    const { got, want } = compareWithReference([x, gamma, beta], (b, [xt, g, bt]) => {
      const out = b.batchNormForwardTraining({ x: xt!, gamma: g!, beta: bt! }, attrs);
      b.disposeSaved(out.saved);
      return [out.y, out.mean, out.variance];
    });
    // The variance is what a one-pass E[x²] − E[x]² would ruin: it must stay float32-accurate.
    expectAllClose(got[2], want[2], 0, 2e-5);
    // The mean is accurate to a few float32 ulps (one ulp at 1e4 is 1e-3); y inherits that error
    // divided by σ ≈ 1, so its tolerance is a few ulps of the mean, not of y.
    expectAllClose(got[1], want[1], 0, 1e-6);
    expectAllClose(got[0], want[0], 5e-3, 0);
  });

  it('keeps mean and variance float32-accurate over m = 100,352 values of 1e4 + sin(i)', () => {
    // A naive float32 sum of this many values near 1e4 drifts by units (TensorFlow's own Mean over
    // NCHW's axes [0, 2, 3] gave a variance of 55.8 for 0.5 at [32,64,56,56]).
    const shape = large(layout);
    const { size } = geometryOf(layout, shape);
    const x = { data: Float64Array.from({ length: size }, (_, i) => 1e4 + Math.sin(i)), shape };
    const ones = { data: new Float64Array(64).fill(1), shape: [64] };
    const zeros = { data: new Float64Array(64), shape: [64] };
    const { got, want } = compareWithReference([x, ones, zeros], (b, [xt, g, bt]) => {
      const out = b.batchNormForwardTraining({ x: xt!, gamma: g!, beta: bt! }, attrs);
      b.dispose(out.y);
      b.disposeSaved(out.saved);
      return [out.mean, out.variance];
    });
    expectAllClose(got[0], want[0], 0, 1e-6);
    expectAllClose(got[1], want[1], 0, 1e-3);
  });

});

describe('saved on tfjs-node', () => {
  it.each(LAYOUTS)('%s: serves two backward calls with equal results, is released once, then refused', (layout) => {
    const attrs: BatchNormAttrs = { layout, epsilon: 1e-5 };
    const { x, gamma, beta, dy } = inputsFor(layout, medium(layout), 60, 1e4);
    const [xt, g, bt, dyt] = [x, gamma, beta, dy].map(({ data, shape }) => tfjs.upload(data, shape));
    const forward = tfjs.batchNormForwardTraining({ x: xt!, gamma: g!, beta: bt! }, attrs);
    expect(forward.saved.route).toBe(routeOf(geometryOf(layout, x.shape)));
    for (const t of [forward.y, forward.mean, forward.variance]) tfjs.dispose(t);
    const first = tfjs.batchNormBackward({ dy: dyt!, x: xt!, gamma: g!, saved: forward.saved }, attrs);
    const second = tfjs.batchNormBackward({ dy: dyt!, x: xt!, gamma: g!, saved: forward.saved }, attrs);
    for (const k of ['dx', 'dgamma', 'dbeta'] as const) {
      expect(Array.from(tfjs.readSync(second[k]))).toEqual(Array.from(tfjs.readSync(first[k])));
    }
    tfjs.disposeSaved(forward.saved);
    tfjs.disposeSaved(forward.saved);
    expect(() => tfjs.batchNormBackward({ dy: dyt!, x: xt!, gamma: g!, saved: forward.saved }, attrs)).toThrow(
      expect.objectContaining({ name: 'BatchNormError', code: 'INVALID_HANDLE', argument: 'saved' }),
    );
    for (const t of [xt, g, bt, dyt, first.dx, first.dgamma, first.dbeta, second.dx, second.dgamma, second.dbeta]) tfjs.dispose(t!);
  });

  it('a saved value of the other route is refused, naming saved', () => {
    const x = tfjs.upload(randomValues(1, 24), [2, 3, 4]);
    const gamma = tfjs.upload(new Float32Array(3).fill(1), [3]);
    const forward = tfjs.batchNormForwardTraining({ x, gamma, beta: gamma }, { layout: 'NCL', epsilon: 1e-5 });
    const xLast = tfjs.upload(randomValues(1, 24), [2, 4, 3]);
    expect(() => tfjs.batchNormBackward({ dy: xLast, x: xLast, gamma, saved: forward.saved }, { layout: 'NLC', epsilon: 1e-5 })).toThrow(
      expect.objectContaining({ name: 'BatchNormError', code: 'INVALID_ARGUMENT', argument: 'saved' }),
    );
    tfjs.disposeSaved(forward.saved);
    for (const t of [x, gamma, xLast, forward.y, forward.mean, forward.variance]) tfjs.dispose(t);
  });
});
