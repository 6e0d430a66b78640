import { describe, expect, it } from 'vitest';
import { expectClose, randomArray, reference, tensor, values } from './__tests__/helpers.js';
import { trackingBackend } from './__tests__/trackingBackend.js';
import { BatchNorm } from './BatchNorm.js';

// The hand-computed NC case of the reference tests: per feature [1, 2, 3] and [2, 4, 9],
// μ = [2, 5], σ² = [2/3, 26/3], unbiased (m = 3) [1, 13].
const xValues = [1, 2, 2, 4, 3, 9];

describe('BatchNorm defaults', () => {
  const layer = new BatchNorm(reference, { numFeatures: 2 });

  it('follows PyTorch and the paper: ε 1e-5, momentum 0.1, unbiased, NC, training', () => {
    expect(layer.epsilon).toBe(1e-5);
    expect(layer.momentum).toBe(0.1);
    expect(layer.varianceCorrection).toBe('unbiased');
    expect(layer.layout).toBe('NC');
    expect(layer.training).toBe(true);
    expect(layer.checkFinite).toBe(true);
    expect(layer.numBatchesTracked).toBe(0);
  });

  it('starts with γ = 1, β = 0, running mean 0 and running variance 1', () => {
    const state = layer.stateSync();
    expect(state.gamma).toEqual([1, 1]);
    expect(state.beta).toEqual([0, 0]);
    expect(state.runningMean).toEqual([0, 0]);
    expect(state.runningVar).toEqual([1, 1]);
  });
});

describe('BatchNorm training and inference', () => {
  const epsilon = 1 / 3;
  const options = { numFeatures: 2, epsilon, gamma: [2, -1], beta: [0.5, 1] };

  it('training forward normalizes with the batch statistics and updates the running ones', () => {
    const layer = new BatchNorm(reference, options);
    const y = layer.forward(tensor(xValues, [3, 2]));
    expectClose(values(y), [-1.5, 2, 0.5, 4 / 3, 2.5, -1 / 3]);
    const state = layer.stateSync();
    // 0.9·0 + 0.1·μ and 0.9·1 + 0.1·(m/(m−1))·σ²
    expectClose(state.runningMean, [0.2, 0.5]);
    expectClose(state.runningVar, [1, 2.2]);
    expect(layer.numBatchesTracked).toBe(1);
  });

  it('eval() normalizes with the running statistics and changes nothing', () => {
    const layer = new BatchNorm(reference, options);
    layer.forward(tensor(xValues, [3, 2]));
    const before = layer.stateSync();
    layer.eval();
    expect(layer.training).toBe(false);
    const y = values(layer.forward(tensor(xValues, [3, 2])));
    const expected = xValues.map((v, i) => {
      const k = i % 2;
      return (options.gamma[k]! * (v - before.runningMean[k]!)) / Math.sqrt(before.runningVar[k]! + epsilon) + options.beta[k]!;
    });
    expectClose(y, expected);
    expect(layer.stateSync()).toEqual(before);
  });

  it('eval() accepts a single sample (m = 1)', () => {
    const layer = new BatchNorm(reference, options).eval();
    const y = values(layer.forward(tensor([1, 2], [1, 2])));
    // running mean 0, var 1: y = γ·x/√(1 + 1/3) + β
    expectClose(y, [0.5 + (2 * 1) / Math.sqrt(4 / 3), 1 - 2 / Math.sqrt(4 / 3)]);
  });

  it('train() switches back to batch statistics', () => {
    const layer = new BatchNorm(reference, options).eval().train();
    expect(layer.training).toBe(true);
    expectClose(values(layer.forward(tensor(xValues, [3, 2]))), [-1.5, 2, 0.5, 4 / 3, 2.5, -1 / 3]);
  });

  it('backward returns the kernel dx and keeps dγ, dβ; sgdStep applies them', () => {
    const layer = new BatchNorm(reference, options);
    const x = tensor(xValues, [3, 2]);
    layer.forward(x);
    expect(layer.gradients).toBeUndefined();
    const dx = layer.backward(tensor([1, 0.5, 0, 1, -1, 2], [3, 2]));
    expectClose(values(dx), [2 / 3, 1 / 54, 0, -1 / 81, -2 / 3, -1 / 162]);
    expectClose(values(layer.gradients!.gamma), [-2, 11 / 6]);
    expectClose(values(layer.gradients!.beta), [0, 3.5]);
    layer.sgdStep(0.1);
    const state = layer.stateSync();
    expectClose(state.gamma, [2 + 0.2, -1 - 0.1 * (11 / 6)]);
    expectClose(state.beta, [0.5, 1 - 0.35]);
  });

  it('backward refers to the last forward, and may be repeated', () => {
    const layer = new BatchNorm(reference, options);
    layer.forward(tensor(randomArray(1, 6), [3, 2]));
    layer.forward(tensor(xValues, [3, 2]));
    const dy = tensor([1, 0.5, 0, 1, -1, 2], [3, 2]);
    const first = values(layer.backward(dy));
    const second = values(layer.backward(dy));
    expectClose(first, [2 / 3, 1 / 54, 0, -1 / 81, -2 / 3, -1 / 162]);
    expect(second).toEqual(first);
  });

  it('copies γ and β given as arrays, so later changes by the caller do not reach it', () => {
    const gamma = Float32Array.from([2, 3]);
    const layer = new BatchNorm(reference, { numFeatures: 2, gamma });
    gamma[0] = 100;
    expect(layer.stateSync().gamma).toEqual([2, 3]);
  });

  it('varianceCorrection "biased" feeds σ² itself into the running variance', () => {
    const layer = new BatchNorm(reference, { ...options, varianceCorrection: 'biased', momentum: 0.5 });
    layer.forward(tensor(xValues, [3, 2]));
    expectClose(layer.stateSync().runningVar, [0.5 + 0.5 * (2 / 3), 0.5 + 0.5 * (26 / 3)]);
  });
});

describe('BatchNorm state', () => {
  function trained() {
    const layer = new BatchNorm(reference, { numFeatures: 3, layout: 'NHWC', momentum: null, epsilon: 1e-3 });
    for (let seed = 0; seed < 3; seed++) layer.forward(tensor(randomArray(seed, 2 * 2 * 3 * 3, 2, 1), [2, 2, 3, 3]));
    layer.backward(tensor(randomArray(9, 36), [2, 2, 3, 3]));
    layer.sgdStep(0.5);
    return layer;
  }

  it('state() is plain JSON and round-trips through JSON.stringify', () => {
    const state = trained().stateSync();
    expect(state.schema).toBe('batchnorm-state/1');
    expect(state.numBatchesTracked).toBe(3);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });

  it('load() restores everything: the same eval outputs and the same next training update', () => {
    const original = trained();
    const copy = new BatchNorm(reference, { numFeatures: 3, layout: 'NHWC' });
    copy.load(JSON.parse(JSON.stringify(original.stateSync())));
    expect(copy.stateSync()).toEqual(original.stateSync());
    expect(copy.momentum).toBeNull();
    expect(copy.epsilon).toBe(1e-3);

    const x = tensor(randomArray(20, 36), [2, 2, 3, 3]);
    expect(values(copy.forward(x))).toEqual(values(original.forward(x)));
    expect(copy.stateSync()).toEqual(original.stateSync());
    original.eval();
    copy.eval();
    expect(values(copy.forward(x))).toEqual(values(original.forward(x)));
  });

  it('fromState() builds the same layer', () => {
    const original = trained();
    const copy = BatchNorm.fromState(reference, original.stateSync());
    expect(copy.layout).toBe('NHWC');
    expect(copy.stateSync()).toEqual(original.stateSync());
  });
});

describe('BatchNorm tensor ownership', () => {
  it('disposes everything it owns and nothing the caller owns', () => {
    const { backend, live } = trackingBackend(reference);
    const layer = new BatchNorm(backend, { numFeatures: 2 });
    expect(live.size).toBe(4); // γ, β, running mean, running variance
    const x = backend.upload(Float64Array.from(xValues), [3, 2]);
    const dy = backend.upload(Float64Array.from(xValues), [3, 2]);
    const caller = new Set([x, dy]);
    for (let step = 0; step < 3; step++) {
      const y = layer.forward(x);
      const dx = layer.backward(dy);
      layer.sgdStep(0.1);
      backend.dispose(y);
      backend.dispose(dx);
    }
    layer.eval();
    backend.dispose(layer.forward(x));
    const stateBefore = layer.stateSync();
    layer.load(stateBefore);
    // the caller's two and the layer's four: load() released the saved batch and dγ, dβ
    expect(live.size).toBe(caller.size + 4);
    layer.dispose();
    expect([...live]).toEqual([x, dy]);
  });

  it('a training forward rejected for non-finite values leaks nothing', () => {
    const { backend, live } = trackingBackend(reference);
    const layer = new BatchNorm(backend, { numFeatures: 2 });
    const x = backend.upload(Float64Array.from([1, NaN, 2, 3, 4, 5]), [3, 2]);
    expect(() => layer.forward(x)).toThrow();
    expect(live.size).toBe(4 + 1);
  });
});

describe('BatchNorm on a float32 backend', () => {
  it('uploads its parameters and statistics as Float32Array', () => {
    const uploaded: string[] = [];
    const float32 = {
      ...reference,
      dtype: 'float32' as const,
      upload(data: Float32Array | Float64Array, shape: readonly number[]) {
        uploaded.push(data.constructor.name);
        return reference.upload(data, shape);
      },
    };
    const layer = new BatchNorm(float32, { numFeatures: 2, gamma: [0.1, 0.2] });
    layer.load(layer.stateSync());
    expect(uploaded).toEqual(new Array(8).fill('Float32Array'));
    expect(layer.stateSync().gamma).toEqual([Math.fround(0.1), Math.fround(0.2)]);
  });
});
