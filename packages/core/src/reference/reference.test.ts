import { describe, expect, it } from 'vitest';
import { expectClose, fromNchw, randomArray, reference, shapeIn, tensor, toNchw, values } from '../__tests__/helpers.js';
import { geometryOf } from '../layout.js';
import { LAYOUTS, type Layout, type Shape } from '../types.js';
import { batchStatistics } from './kernels/batchStatistics.js';

const third = 1 / 3;

/**
 * Hand-computed cases. Values and ε are chosen so σ² + ε is a perfect square and every result
 * is a small fraction; the expected numbers below were worked out on paper, not by the code.
 */
describe('reference batch norm, NC [3, 2], ε = 1/3', () => {
  // feature 0: [1, 2, 3], μ = 2, σ² = 2/3, √(σ² + ε) = 1, x̂ = [−1, 0, 1]
  // feature 1: [2, 4, 9], μ = 5, σ² = 26/3, √(σ² + ε) = 3, x̂ = [−1, −1/3, 4/3]
  const attrs = { layout: 'NC', epsilon: third } as const;
  const x = tensor([1, 2, 2, 4, 3, 9], [3, 2]);
  const gamma = tensor([2, -1], [2]);
  const beta = tensor([0.5, 1], [2]);

  it('forward training: y, batch mean and biased variance', () => {
    const { y, mean, variance } = reference.batchNormForwardTraining({ x, gamma, beta }, attrs);
    expect(y.shape).toEqual([3, 2]);
    expectClose(values(y), [-1.5, 2, 0.5, 4 / 3, 2.5, -1 / 3]);
    expectClose(values(mean), [2, 5]);
    expectClose(values(variance), [2 / 3, 26 / 3]);
  });

  it('forward inference with given population statistics', () => {
    // std = √(11/3 + 1/3) = 2 and √(26/3 + 1/3) = 3
    const y = reference.batchNormForwardInference(
      { x, gamma, beta, mean: tensor([1, 2], [2]), variance: tensor([11 / 3, 26 / 3], [2]) },
      attrs,
    );
    expectClose(values(y), [0.5, 1, 1.5, 1 / 3, 2.5, -4 / 3]);
  });

  it('backward: dx, dγ, dβ', () => {
    const { saved } = reference.batchNormForwardTraining({ x, gamma, beta }, attrs);
    const dy = tensor([1, 0.5, 0, 1, -1, 2], [3, 2]);
    const { dx, dgamma, dbeta } = reference.batchNormBackward({ dy, x, gamma, saved }, attrs);
    expect(dx.shape).toEqual([3, 2]);
    expectClose(values(dx), [2 / 3, 1 / 54, 0, -1 / 81, -2 / 3, -1 / 162]);
    expectClose(values(dgamma), [-2, 11 / 6]);
    expectClose(values(dbeta), [0, 3.5]);
  });

  it('does not mutate its inputs', () => {
    reference.batchNormForwardTraining({ x, gamma, beta }, attrs);
    expect(values(x)).toEqual([1, 2, 2, 4, 3, 9]);
    expect(values(gamma)).toEqual([2, -1]);
    expect(values(beta)).toEqual([0.5, 1]);
  });
});

/**
 * One hand-computed case, N = 2, C = 2, H·W = 2, ε = 1/2, written out in each 4-d layout.
 * Per feature, in (n, s) order: feature 0 = [1, 2, 3, 6] (μ 3, σ² 3.5, std 2,
 * x̂ = [−1, −½, 0, 1.5]); feature 1 = [6, 9, 11, 14] (μ 10, σ² 8.5, std 3,
 * x̂ = [−4/3, −1/3, 1/3, 4/3]). γ = [2, −1], β = [½, 1].
 */
const spatialCases: {
  layout: Layout;
  shape: Shape;
  x: number[];
  y: number[];
  yInference: number[];
  dy: number[];
  dx: number[];
}[] = [
  {
    layout: 'NCHW',
    shape: [2, 2, 1, 2],
    x: [1, 2, 6, 9, 3, 6, 11, 14],
    y: [-1.5, -0.5, 7 / 3, 4 / 3, 0.5, 3.5, 2 / 3, -1 / 3],
    yInference: [-0.5, 0.5, 7 / 3, 4 / 3, 1.5, 4.5, 2 / 3, -1 / 3],
    dy: [1, -1, 0, 3, 2, 0, 0, 3],
    dx: [0.375, -1.5625, 1 / 6, -7 / 12, 1.5, -0.3125, 7 / 12, -1 / 6],
  },
  {
    // the same flat data read as H = 2, W = 1: only H·W matters
    layout: 'NCHW',
    shape: [2, 2, 2, 1],
    x: [1, 2, 6, 9, 3, 6, 11, 14],
    y: [-1.5, -0.5, 7 / 3, 4 / 3, 0.5, 3.5, 2 / 3, -1 / 3],
    yInference: [-0.5, 0.5, 7 / 3, 4 / 3, 1.5, 4.5, 2 / 3, -1 / 3],
    dy: [1, -1, 0, 3, 2, 0, 0, 3],
    dx: [0.375, -1.5625, 1 / 6, -7 / 12, 1.5, -0.3125, 7 / 12, -1 / 6],
  },
  {
    layout: 'NHWC',
    shape: [2, 1, 2, 2],
    x: [1, 6, 2, 9, 3, 11, 6, 14],
    y: [-1.5, 7 / 3, -0.5, 4 / 3, 0.5, 2 / 3, 3.5, -1 / 3],
    yInference: [-0.5, 7 / 3, 0.5, 4 / 3, 1.5, 2 / 3, 4.5, -1 / 3],
    dy: [1, 0, -1, 3, 2, 0, 0, 3],
    dx: [0.375, 1 / 6, -1.5625, -7 / 12, 1.5, 7 / 12, -0.3125, -1 / 6],
  },
];

describe.each(spatialCases)('reference batch norm, $layout $shape, ε = 1/2', (c) => {
  const attrs = { layout: c.layout, epsilon: 0.5 };
  const x = tensor(c.x, c.shape);
  const gamma = tensor([2, -1], [2]);
  const beta = tensor([0.5, 1], [2]);

  it('forward training', () => {
    const { y, mean, variance } = reference.batchNormForwardTraining({ x, gamma, beta }, attrs);
    expect(y.shape).toEqual(c.shape);
    expectClose(values(y), c.y);
    expectClose(values(mean), [3, 10]);
    expectClose(values(variance), [3.5, 8.5]);
  });

  it('forward inference (E[x] = [2, 10], Var[x] = [3.5, 8.5])', () => {
    const y = reference.batchNormForwardInference(
      { x, gamma, beta, mean: tensor([2, 10], [2]), variance: tensor([3.5, 8.5], [2]) },
      attrs,
    );
    expectClose(values(y), c.yInference);
  });

  it('backward', () => {
    const { saved } = reference.batchNormForwardTraining({ x, gamma, beta }, attrs);
    const dy = tensor(c.dy, c.shape);
    const { dx, dgamma, dbeta } = reference.batchNormBackward({ dy, x, gamma, saved }, attrs);
    expectClose(values(dx), c.dx);
    expectClose(values(dgamma), [-0.5, 3]);
    expectClose(values(dbeta), [2, 6]);
  });
});

describe('layouts agree through transposition', () => {
  // Odd sizes so an axis mix-up cannot hide behind a symmetric shape.
  const [n, c, h, w] = [3, 5, 4, 3];
  const epsilon = 1e-3;
  const xNchw = randomArray(11, n * c * h * w, 2, 0.5);
  const dyNchw = randomArray(12, n * c * h * w);
  const gammaValues = randomArray(13, c);
  const betaValues = randomArray(14, c);
  const meanValues = randomArray(15, c);
  const varianceValues = randomArray(16, c).map((v) => v * v + 0.1);

  function run(layout: Layout) {
    const shape = shapeIn(layout, n, c, h, w);
    const attrs = { layout, epsilon };
    const x = tensor(fromNchw(layout, xNchw, n, c, h, w), shape);
    const dy = tensor(fromNchw(layout, dyNchw, n, c, h, w), shape);
    const gamma = tensor(gammaValues, [c]);
    const beta = tensor(betaValues, [c]);
    const forward = reference.batchNormForwardTraining({ x, gamma, beta }, attrs);
    const backward = reference.batchNormBackward(
      { dy, x, gamma, saved: forward.saved },
      attrs,
    );
    const inference = reference.batchNormForwardInference(
      { x, gamma, beta, mean: tensor(meanValues, [c]), variance: tensor(varianceValues, [c]) },
      attrs,
    );
    const back = (t: { data: Float64Array }) => toNchw(layout, t.data, n, c, h, w);
    return {
      y: back(forward.y),
      mean: values(forward.mean),
      variance: values(forward.variance),
      dx: back(backward.dx),
      dgamma: values(backward.dgamma),
      dbeta: values(backward.dbeta),
      inference: back(inference),
    };
  }

  const nchw = run('NCHW');
  it.each(['NHWC', 'NC'] as const)('%s gives the NCHW results', (layout) => {
    const other = run(layout);
    for (const key of Object.keys(nchw) as (keyof typeof nchw)[]) {
      expectClose(other[key], nchw[key], 1e-12, 1e-12);
    }
  });

  it('the NCHW results are not trivial (normalized per feature map)', () => {
    for (let k = 0; k < c; k++) {
      let sum = 0;
      for (let b = 0; b < n; b++) for (let s = 0; s < h * w; s++) sum += nchw.y[(b * c + k) * h * w + s]!;
      expect(sum / (n * h * w)).toBeCloseTo(betaValues[k]!, 10);
    }
  });
});

describe('batchStatistics', () => {
  it('keeps full precision for a large offset (two passes, not E[x²] − E[x]²)', () => {
    const offset = 1e9;
    const g = geometryOf('NC', [4, 1]);
    const { mean, variance } = batchStatistics(Float64Array.from([1, 2, 3, 4], (v) => offset + v), g);
    expect(mean[0]).toBe(offset + 2.5);
    expect(variance[0]).toBe(1.25);
  });

  it.each(LAYOUTS)('reads every value of a feature exactly once in %s', (layout) => {
    const shape = shapeIn(layout, 2, 3, layout === 'NC' ? 1 : 2, 1);
    const g = geometryOf(layout, shape);
    // x = feature index everywhere: mean is the index, variance 0
    const x = new Float64Array(g.size);
    for (let i = 0; i < g.size; i++) x[i] = g.channelsLast ? i % g.c : Math.floor(i / g.spatial) % g.c;
    const { mean, variance } = batchStatistics(x, g);
    expect(Array.from(mean)).toEqual([0, 1, 2]);
    expect(Array.from(variance)).toEqual([0, 0, 0]);
  });
});

describe('runningAverage', () => {
  it('computes (1 − factor)·running + factor·batchScale·batch', () => {
    const out = reference.runningAverage(
      { running: tensor([1, 2], [2]), batch: tensor([3, 5], [2]) },
      { factor: 0.25, batchScale: 2 },
    );
    expect(values(out)).toEqual([2.25, 4]);
  });
});

describe('reference backend tensors', () => {
  it('upload copies, read returns a copy, shape is kept', async () => {
    const data = Float64Array.from([1, 2, 3, 4, 5, 6]);
    const t = reference.upload(data, [2, 3]);
    data[0] = 99;
    expect(t.shape).toEqual([2, 3]);
    const read = await reference.read(t);
    expect(Array.from(read)).toEqual([1, 2, 3, 4, 5, 6]);
    read[1] = 99;
    expect(values(t)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('accepts Float32Array data and widens it to float64', () => {
    const t = reference.upload(Float32Array.from([0.1, 0.2]), [2]);
    expect(reference.dtype).toBe('float64');
    expect(values(t)[0]).toBe(Math.fround(0.1));
  });

  it('reports its name and specification version', () => {
    expect(reference.name).toBe('reference');
    expect(reference.specificationVersion).toBe('v2');
  });
});
