import { flatIndex, geometryOf, isChannelsLast, LAYOUTS, type BatchNormAttrs, type Layout, type Shape } from '@batchnorm/core';
import { describe, expect, it } from 'vitest';
import { compareWithReference, expectClose, randomValues, runOn, tfjs } from './__tests__/helpers.js';
import { routeOf } from './route.js';

// Per layout, a shape with a spatial extent > 1 in every axis.
const MEDIUM: Record<Layout, Shape> = {
  NC: [16, 5],
  NCL: [4, 6, 15],
  NLC: [4, 15, 6],
  NCHW: [4, 6, 5, 3],
  NHWC: [4, 5, 3, 6],
  NCDHW: [4, 6, 5, 3, 2],
  NDHWC: [4, 5, 3, 2, 6],
};
// m = 100,352 values per feature for 64 features, in every layout.
const LARGE: Record<Layout, Shape> = {
  NC: [100352, 64],
  NCL: [32, 64, 3136],
  NLC: [32, 3136, 64],
  NCHW: [32, 64, 56, 56],
  NHWC: [32, 56, 56, 64],
  NCDHW: [32, 64, 4, 28, 28],
  NDHWC: [32, 4, 28, 28, 64],
};

/** `[N, C, ...spatial]` or `[N, ...spatial, C]` with spatial axes of product `spatial` (1 for NC). */
function shapeOf(layout: Layout, n: number, c: number, spatial: number): Shape {
  if (layout.length === 2) return [n * spatial, c];
  const axes = [spatial, ...new Array<number>(layout.length - 3).fill(1)];
  return isChannelsLast(layout) ? [n, ...axes, c] : [n, c, ...axes];
}

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
    const shape = shapeOf(layout, 1, 2, 4);
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

  it('keeps precision for inputs far from zero (1e4 + N(0, 1))', () => {
    const shape = MEDIUM[layout];
    const { x, gamma, beta } = inputsFor(layout, shape, 20, 1e4);
    x.data.forEach((v, i) => (x.data[i] = 1e4 + (v - 1e4) / 2));
    const { got, want } = compareWithReference([x, gamma, beta], (b, [xt, g, bt]) => {
      const out = b.batchNormForwardTraining({ x: xt!, gamma: g!, beta: bt! }, attrs);
      b.disposeSaved(out.saved);
      return [out.y, out.mean, out.variance];
    });
    // The variance is what a one-pass E[x²] − E[x]² would ruin: it must stay float32-accurate.
    expectClose(got[2], want[2], 0, 2e-5);
    // The mean is accurate to a few float32 ulps (one ulp at 1e4 is 1e-3); y inherits that error
    // divided by σ ≈ 1, so its tolerance is a few ulps of the mean, not of y.
    expectClose(got[1], want[1], 0, 1e-6);
    expectClose(got[0], want[0], 5e-3, 0);
  });

  it('keeps mean and variance float32-accurate over m = 100,352 values of 1e4 + sin(i)', () => {
    // A naive float32 sum of this many values near 1e4 drifts by units (TensorFlow's own Mean over
    // NCHW's axes [0, 2, 3] gave a variance of 55.8 for 0.5 at [32,64,56,56]).
    const shape = LARGE[layout];
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
    expectClose(got[0], want[0], 0, 1e-6);
    expectClose(got[1], want[1], 0, 1e-3);
  });

});

describe('saved on tfjs-node', () => {
  it.each(LAYOUTS)('%s: serves two backward calls with equal results, is released once, then refused', (layout) => {
    const attrs: BatchNormAttrs = { layout, epsilon: 1e-5 };
    const { x, gamma, beta, dy } = inputsFor(layout, MEDIUM[layout], 60, 1e4);
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
