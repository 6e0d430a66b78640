import { describe, expect, it } from 'vitest';
import { expectClose, randomArray, reference, shapeIn, tensor, values } from './__tests__/helpers.js';
import { BatchNorm } from './BatchNorm.js';
import { flatIndex, geometryOf, type Geometry } from './layout.js';
import { LAYOUTS, type Layout, type VarianceCorrection } from './types.js';

/** Per-feature mean and biased variance, written independently of the kernels. */
function featureMoments(data: ArrayLike<number>, g: Geometry): { mean: number[]; variance: number[] } {
  const mean: number[] = [];
  const variance: number[] = [];
  for (let c = 0; c < g.c; c++) {
    const xs: number[] = [];
    for (let n = 0; n < g.n; n++) for (let s = 0; s < g.spatial; s++) xs.push(data[flatIndex(g, n, c, s)]!);
    const mu = xs.reduce((a, b) => a + b, 0) / xs.length;
    mean.push(mu);
    variance.push(xs.reduce((a, b) => a + (b - mu) ** 2, 0) / xs.length);
  }
  return { mean, variance };
}

// odd sizes, N = 3, C = 5, H·W = 7·3 (NC: [63, 5])
const dims = { n: 3, c: 5, h: 7, w: 3 };
const shapeOf = (layout: Layout) => shapeIn(layout, dims.n, dims.c, dims.h, dims.w);

describe.each(LAYOUTS)('training forward properties, %s', (layout) => {
  const shape = shapeOf(layout);
  const g = geometryOf(layout, shape);
  // features with very different offsets and scales
  const x = randomArray(1, g.size, 1);
  for (let n = 0; n < g.n; n++)
    for (let c = 0; c < g.c; c++)
      for (let s = 0; s < g.spatial; s++) {
        const i = flatIndex(g, n, c, s);
        x[i] = x[i]! * (1 + c * 3) + 100 * (c - 2);
      }
  const gamma = randomArray(2, g.c, 2);
  const beta = randomArray(3, g.c, 5);
  const dy = randomArray(4, g.size);

  it.each([1e-5, 0.5, 20])('output mean = β and variance = γ²·σ²/(σ² + ε), ε = %s', (epsilon) => {
    const { y } = reference.batchNormForwardTraining(
      { x: tensor(x, shape), gamma: tensor(gamma, [g.c]), beta: tensor(beta, [g.c]) },
      { layout, epsilon },
    );
    const input = featureMoments(x, g);
    const output = featureMoments(values(y), g);
    expectClose(output.mean, beta, 1e-12, 1e-12);
    const expectedVariance = input.variance.map((v, c) => (gamma[c]! ** 2 * v) / (v + epsilon));
    expectClose(output.variance, expectedVariance, 1e-12, 1e-10);
  });

  it('is invariant to a per-feature shift of the input (forward and backward)', () => {
    const shift = randomArray(5, g.c, 1000);
    const shifted = new Float64Array(g.size);
    for (let n = 0; n < g.n; n++)
      for (let c = 0; c < g.c; c++)
        for (let s = 0; s < g.spatial; s++) {
          const i = flatIndex(g, n, c, s);
          shifted[i] = x[i]! + shift[c]!;
        }
    const run = (data: Float64Array) => {
      const attrs = { layout, epsilon: 1e-5 };
      const inputs = { x: tensor(data, shape), gamma: tensor(gamma, [g.c]), beta: tensor(beta, [g.c]) };
      const forward = reference.batchNormForwardTraining(inputs, attrs);
      const backward = reference.batchNormBackward(
        { dy: tensor(dy, shape), x: inputs.x, gamma: inputs.gamma, saved: forward.saved, },
        attrs,
      );
      return { y: values(forward.y), dx: values(backward.dx), dgamma: values(backward.dgamma), mean: values(forward.mean) };
    };
    const plain = run(x);
    const moved = run(shifted);
    expectClose(moved.mean, plain.mean.map((m, c) => m + shift[c]!), 1e-9, 1e-12);
    expectClose(moved.y, plain.y, 1e-9, 1e-9);
    expectClose(moved.dx, plain.dx, 1e-9, 1e-9);
    expectClose(moved.dgamma, plain.dgamma, 1e-9, 1e-9);
  });
});

describe.each(LAYOUTS)('the chain rule equals the simplified backward fast kernels use, %s', (layout) => {
  it('dx = (γ/(m·√(σ² + ε)))·(m·dy − Σdy − x̂·Σ(dy·x̂))', () => {
    const shape = shapeOf(layout);
    const g = geometryOf(layout, shape);
    const epsilon = 1e-3;
    const x = randomArray(80, g.size, 2, 3);
    const dy = randomArray(81, g.size);
    const gamma = randomArray(82, g.c);
    const inputs = { x: tensor(x, shape), gamma: tensor(gamma, [g.c]), beta: tensor(new Float64Array(g.c), [g.c]) };
    const attrs = { layout, epsilon };
    const { mean, variance, saved } = reference.batchNormForwardTraining(inputs, attrs);
    const { dx } = reference.batchNormBackward({ dy: tensor(dy, shape), x: inputs.x, gamma: inputs.gamma, saved }, attrs);
    const mu = values(mean);
    const sigma2 = values(variance);
    const simplified = new Float64Array(g.size);
    for (let c = 0; c < g.c; c++) {
      const invStd = 1 / Math.sqrt(sigma2[c]! + epsilon);
      const indices: number[] = [];
      for (let n = 0; n < g.n; n++) for (let s = 0; s < g.spatial; s++) indices.push(flatIndex(g, n, c, s));
      const xHat = (i: number) => (x[i]! - mu[c]!) * invStd;
      const sumDy = indices.reduce((sum, i) => sum + dy[i]!, 0);
      const sumDyXHat = indices.reduce((sum, i) => sum + dy[i]! * xHat(i), 0);
      for (const i of indices) simplified[i] = ((gamma[c]! * invStd) / g.m) * (g.m * dy[i]! - sumDy - xHat(i) * sumDyXHat);
    }
    expectClose(values(dx), simplified, 1e-12, 1e-9);
  });
});

describe('scale invariance, paper §3.3: BN(aWu) = BN(Wu)', () => {
  // u: a batch of 9 inputs of 6 units; W: 6 → 5 features; x = u·W is [N, C]
  const [batch, inputs, features] = [9, 6, 5];
  const u = tensor(randomArray(40, batch * inputs), [batch, inputs]);
  const weights = randomArray(41, inputs * features, 0.7);
  const gamma = tensor(randomArray(42, features), [features]);
  const beta = tensor(randomArray(43, features), [features]);
  const dy = tensor(randomArray(44, batch * features), [batch, features]);

  /** Forward and backward of l = Σ dy·BN(u·W): y, ∂l/∂u, ∂l/∂W. */
  function layer(w: Float64Array, epsilon: number) {
    const weightTensor = tensor(w, [inputs, features]);
    const x = reference.matMul(u, weightTensor);
    const attrs = { layout: 'NC', epsilon } as const;
    const forward = reference.batchNormForwardTraining({ x, gamma, beta }, attrs);
    const { dx } = reference.batchNormBackward(
      { dy, x, gamma, saved: forward.saved, },
      attrs,
    );
    return {
      y: values(forward.y),
      du: values(reference.matMul(dx, weightTensor, { transposeB: true })),
      dW: values(reference.matMul(u, dx, { transposeA: true })),
    };
  }

  it.each([3.7, 0.25, 1e3])('a = %s: equal outputs, equal ∂/∂u, ∂/∂(aW) = (1/a)·∂/∂W (ε scaled by a²)', (a) => {
    // with ε the identity is exact when ε scales with the variance, i.e. by a²
    const epsilon = 1e-3;
    const plain = layer(weights, epsilon);
    const scaled = layer(weights.map((v) => a * v), a * a * epsilon);
    expectClose(scaled.y, plain.y, 1e-12, 1e-10);
    expectClose(scaled.du, plain.du, 1e-12, 1e-10);
    expectClose(scaled.dW, plain.dW.map((v) => v / a), 1e-12, 1e-10);
  });

  it('needs a > 0: a negative a flips the normalized value', () => {
    const epsilon = 1e-3;
    const plain = layer(weights, epsilon);
    const flipped = layer(weights.map((v) => -2 * v), 4 * epsilon);
    const betaValues = values(beta);
    const centered = (y: number[]) => y.map((v, i) => v - betaValues[i % features]!);
    expectClose(centered(flipped.y), centered(plain.y).map((v) => -v), 1e-12, 1e-10);
  });

  it('with a fixed small ε it holds up to the O(ε/σ²) term', () => {
    const a = 3.7;
    const epsilon = 1e-8;
    const plain = layer(weights, epsilon);
    const scaled = layer(weights.map((v) => a * v), epsilon);
    expectClose(scaled.y, plain.y, 1e-7, 1e-7);
    expectClose(scaled.du, plain.du, 1e-7, 1e-7);
  });
});

describe('running statistics', () => {
  const layout = 'NCHW';
  const shape = [2, 3, 2, 2];
  const g = geometryOf(layout, shape);
  const m = g.m; // 8
  const batches = Array.from({ length: 5 }, (_, k) => randomArray(50 + k, g.size, 1 + k, 3 * k - 4));
  const moments = batches.map((b) => featureMoments(b, g));
  const initialMean = [0.5, -1, 2];
  const initialVar = [1.5, 2, 0.25];

  function runLayer(momentum: number | null, varianceCorrection: VarianceCorrection) {
    const layer = new BatchNorm(reference, { numFeatures: g.c, layout, momentum, varianceCorrection });
    layer.load({ ...layer.stateSync(), runningMean: initialMean, runningVar: initialVar });
    for (const b of batches) layer.forward(tensor(b, shape));
    return layer.stateSync();
  }

  const correction = (vc: VarianceCorrection) => (vc === 'unbiased' ? m / (m - 1) : 1);

  describe.each(['unbiased', 'biased'] as const)('varianceCorrection %s', (varianceCorrection) => {
    const scale = correction(varianceCorrection);

    it('momentum 0.1: r_K = 0.9^K·r_0 + Σ_k 0.1·0.9^(K−k)·batch_k', () => {
      const state = runLayer(0.1, varianceCorrection);
      const K = batches.length;
      const closedForm = (initial: number[], batchValue: (k: number, c: number) => number) =>
        initial.map((r0, c) => {
          let r = 0.9 ** K * r0;
          for (let k = 1; k <= K; k++) r += 0.1 * 0.9 ** (K - k) * batchValue(k - 1, c);
          return r;
        });
      expectClose(state.runningMean, closedForm(initialMean, (k, c) => moments[k]!.mean[c]!), 1e-12, 1e-12);
      expectClose(state.runningVar, closedForm(initialVar, (k, c) => scale * moments[k]!.variance[c]!), 1e-12, 1e-12);
      expect(state.numBatchesTracked).toBe(K);
    });

    it('momentum 0: the running statistics never move', () => {
      const state = runLayer(0, varianceCorrection);
      expect(state.runningMean).toEqual(initialMean);
      expect(state.runningVar).toEqual(initialVar);
      expect(state.numBatchesTracked).toBe(batches.length);
    });

    it('momentum 1: the running statistics are the last batch’s', () => {
      const state = runLayer(1, varianceCorrection);
      const last = moments[moments.length - 1]!;
      expectClose(state.runningMean, last.mean, 1e-12, 1e-12);
      expectClose(state.runningVar, last.variance.map((v) => scale * v), 1e-12, 1e-12);
    });

    it('momentum null: the exact average over batches (the paper’s E_B and m/(m−1)·E_B[σ²_B])', () => {
      const state = runLayer(null, varianceCorrection);
      const average = (pick: (k: number) => number) =>
        batches.reduce((sum, _b, k) => sum + pick(k), 0) / batches.length;
      expectClose(state.runningMean, initialMean.map((_, c) => average((k) => moments[k]!.mean[c]!)), 1e-12, 1e-12);
      expectClose(
        state.runningVar,
        initialVar.map((_, c) => scale * average((k) => moments[k]!.variance[c]!)),
        1e-12,
        1e-12,
      );
    });
  });

  it('momentum null continues the average across state() / load()', () => {
    const first = new BatchNorm(reference, { numFeatures: g.c, layout, momentum: null });
    for (const b of batches.slice(0, 2)) first.forward(tensor(b, shape));
    const second = new BatchNorm(reference, { numFeatures: g.c, layout });
    second.load(first.stateSync());
    for (const b of batches.slice(2)) second.forward(tensor(b, shape));
    expect(second.numBatchesTracked).toBe(batches.length);
    const mean = (c: number) => moments.reduce((s, mo) => s + mo.mean[c]!, 0) / moments.length;
    expectClose(second.stateSync().runningMean, [0, 1, 2].map(mean), 1e-12, 1e-12);
  });
});

describe.each(LAYOUTS)('fold() equals inference, %s', (layout) => {
  it('y = scale·x + shift per feature', () => {
    const shape = shapeOf(layout);
    const g = geometryOf(layout, shape);
    const layer = new BatchNorm(reference, {
      numFeatures: g.c,
      layout,
      epsilon: 1e-2,
      gamma: randomArray(60, g.c),
      beta: randomArray(61, g.c),
    });
    for (let k = 0; k < 3; k++) layer.forward(tensor(randomArray(62 + k, g.size, 2, 1), shape));
    layer.eval();
    const x = randomArray(70, g.size, 3);
    const y = values(layer.forward(tensor(x, shape)));
    const { scale, shift } = layer.foldSync();
    expect(scale.length).toBe(g.c);
    const folded = new Float64Array(g.size);
    for (let n = 0; n < g.n; n++)
      for (let c = 0; c < g.c; c++)
        for (let s = 0; s < g.spatial; s++) {
          const i = flatIndex(g, n, c, s);
          folded[i] = scale[c]! * x[i]! + shift[c]!;
        }
    expectClose(folded, y, 1e-12, 1e-12);
  });
});
