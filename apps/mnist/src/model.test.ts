import { createReferenceBackend, KERNEL_NAMES, readSync, type Backend, type TensorHandle } from '@batchnorm/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { BatchSource } from './batches.js';
import { loadDataset, type Dataset } from './data.js';
import { Mlp, type Variant } from './model.js';

let data: Dataset;
beforeAll(async () => {
  data = await loadDataset();
});

/** The reference backend with every kernel call counted. */
function countingBackend(): { backend: Backend; calls: Map<string, number> } {
  const inner = createReferenceBackend() as Backend;
  const calls = new Map<string, number>();
  const backend = { ...inner } as Backend;
  for (const name of [...KERNEL_NAMES, 'upload', 'read', 'readSync'] as const) {
    const original = inner[name] as (...args: unknown[]) => unknown;
    (backend as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      calls.set(name, (calls.get(name) ?? 0) + 1);
      return original(...args);
    };
  }
  return { backend, calls };
}

function lossOn(model: Mlp, x: TensorHandle, y: TensorHandle): number {
  // A step with learning rate 0 evaluates the training loss without changing the weights.
  const loss = model.trainStep(x, y, 0);
  const value = readSync(model.backend, loss)[0]!;
  model.backend.dispose(loss);
  return value;
}

describe('initial weights', () => {
  const mean = (values: ArrayLike<number>) => Array.from(values).reduce((a, b) => a + b, 0) / values.length;
  const spread = (values: ArrayLike<number>) => {
    const m = mean(values);
    return Math.sqrt(Array.from(values).reduce((a, b) => a + (b - m) ** 2, 0) / values.length);
  };

  it('are the same for both variants, Glorot uniform by default', async () => {
    const backend = createReferenceBackend();
    const bn = new Mlp(backend, { variant: 'bn', seed: 4 });
    const plain = new Mlp(backend, { variant: 'plain', seed: 4 });
    expect((await bn.snapshot()).weights).toEqual((await plain.snapshot()).weights);
    const w = backend.readSync(plain.weights[0]!);
    const limit = Math.sqrt(6 / (784 + 100));
    expect(Math.max(...w)).toBeLessThanOrEqual(limit);
    expect(spread(w)).toBeCloseTo(limit / Math.sqrt(3), 3); // uniform(−a, a) has σ = a/√3
  });

  it('follow N(0, std²) for the paper\'s Gaussian initialization', () => {
    const backend = createReferenceBackend();
    const model = new Mlp(backend, { variant: 'plain', seed: 4, init: { kind: 'gaussian', std: 0.01 } });
    const w = backend.readSync(model.weights[0]!); // 78,400 draws
    expect(spread(w)).toBeGreaterThan(0.0098);
    expect(spread(w)).toBeLessThan(0.0102);
    expect(Math.abs(mean(w))).toBeLessThan(2e-4);
  });
});

describe.each<Variant>(['bn', 'plain'])('the %s network', (variant) => {
  it('reduces the training loss in a tiny run (reference backend)', () => {
    const backend = createReferenceBackend();
    const model = new Mlp(backend, { variant, seed: 3 });
    const source = new BatchSource(data.train, 60, 3);
    source.fill(0);
    const x = backend.upload(Float64Array.from(source.images), [60, 784]);
    const y = backend.upload(Float64Array.from(source.oneHot), [60, 10]);
    const before = lossOn(model, x, y);
    for (let step = 0; step < 20; step++) backend.dispose(model.trainStep(x, y, 0.5));
    const after = lossOn(model, x, y);
    expect(before).toBeGreaterThan(2); // ≈ ln 10 at the start
    // The plain sigmoid network leaves its initial plateau slowly (Figure 1a's slow start); BN
    // does not have the plateau.
    if (variant === 'bn') expect(after).toBeLessThan(before * 0.5);
    else expect(after).toBeLessThan(before - 0.15);
  }, 60_000);

  it('runs a whole step through the backend kernels', () => {
    const { backend, calls } = countingBackend();
    const model = new Mlp(backend, { variant, seed: 1 });
    const source = new BatchSource(data.train, 60, 1);
    source.fill(0);
    const x = backend.upload(Float64Array.from(source.images), [60, 784]);
    const y = backend.upload(Float64Array.from(source.oneHot), [60, 10]);
    calls.clear();
    backend.dispose(model.trainStep(x, y, 0.1));
    // 4 forward, 4 weight gradients, 3 input gradients.
    expect(calls.get('matMul')).toBe(11);
    expect(calls.get('sigmoid')).toBe(3);
    expect(calls.get('sigmoidBackward')).toBe(3);
    expect(calls.get('softmaxCrossEntropy')).toBe(1);
    if (variant === 'bn') {
      expect(calls.get('batchNormForwardTraining')).toBe(3);
      expect(calls.get('batchNormBackward')).toBe(3);
      expect(calls.get('addBias')).toBe(1); // output layer only: BN's β replaces the bias
      expect(calls.get('sgdUpdate')).toBe(4 + 1 + 3 * 2); // weights, output bias, γ and β
    } else {
      expect(calls.get('batchNormForwardTraining')).toBeUndefined();
      expect(calls.get('addBias')).toBe(4);
      expect(calls.get('sumRows')).toBe(4);
      expect(calls.get('sgdUpdate')).toBe(8);
    }
    expect(calls.get('upload')).toBeUndefined(); // nothing copied to the device mid-step
  }, 60_000);

  it('computes the gradient of the loss (finite differences, float64)', async () => {
    const backend = createReferenceBackend();
    const sizes = [5, 4, 3, 3];
    const model = new Mlp(backend, { variant, seed: 7, layerSizes: sizes });
    const n = 6;
    const xs = Float64Array.from({ length: n * 5 }, (_, i) => Math.sin(i * 1.7) * 2);
    const ys = new Float64Array(n * 3);
    for (let r = 0; r < n; r++) ys[r * 3 + (r % 3)] = 1;
    const x = backend.upload(xs, [n, 5]);
    const y = backend.upload(ys, [n, 3]);
    const h = 1e-6;
    for (let l = 0; l < 3; l++) {
      const saved = await model.snapshot();
      const original = backend.readSync(model.weights[l]!);
      // The SGD step reveals the analytic gradient: w' = w − lr·∂loss/∂w.
      const lr = 1e-3;
      backend.dispose(model.trainStep(x, y, lr));
      const stepped = backend.readSync(model.weights[l]!);
      const analytic = original.map((w, i) => (w - stepped[i]!) / lr);
      model.load(saved); // every other parameter back to where the gradient was taken
      const reset = (values: Float64Array) => {
        backend.dispose(model.weights[l]!);
        model.weights[l] = backend.upload(values, model.weights[l]!.shape);
      };
      for (const i of [0, 3, original.length - 1]) {
        const plus = Float64Array.from(original);
        plus[i]! += h;
        reset(plus);
        const lossPlus = lossOn(model, x, y);
        const minus = Float64Array.from(original);
        minus[i]! -= h;
        reset(minus);
        const lossMinus = lossOn(model, x, y);
        reset(Float64Array.from(original));
        const numeric = (lossPlus - lossMinus) / (2 * h);
        expect(Math.abs(analytic[i]! - numeric)).toBeLessThan(1e-6 + 1e-4 * Math.abs(numeric));
      }
    }
  }, 60_000);
});
