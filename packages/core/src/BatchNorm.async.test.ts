import { describe, expect, it } from 'vitest';
import { expectBatchNormError, expectBatchNormErrorAsync, randomArray, reference } from './__tests__/helpers.js';
import { trackingBackend } from './__tests__/trackingBackend.js';
import { asyncOnly } from './asyncOnly.js';
import type { Backend } from './backend.js';
import { BatchNorm, type BatchNormState } from './BatchNorm.js';
import { geometryOf } from './layout.js';
import type { ReferenceTensor } from './reference/tensor.js';

// The layer on a backend that only reads asynchronously (as WebGPU): the same results as on a
// synchronous one, and a non-finite batch reported when its check settles, with the layer as
// it was before that batch.

const shape = [4, 3, 2] as const; // NCL: C = 3, m = 8
const options = { numFeatures: 3, layout: 'NCL', gamma: [1.5, -0.5, 2], beta: [0.1, 0.2, -0.3] } as const;
const size = 24;
const batch = (seed: number) => randomArray(seed, size, 2, 1);
const poisoned = (seed: number) => batch(seed).map((v, i) => (i === 7 ? NaN : v));
const macrotask = () => new Promise((resolve) => setTimeout(resolve, 0));

/** One SGD step of the layer on batch `x` (dy = a fixed pattern), as a training loop does it. */
function step<T extends ReferenceTensor>(layer: BatchNorm<T>, b: Backend<T>, x: Float64Array): void {
  const xt = b.upload(x, shape);
  b.dispose(layer.forward(xt));
  const dy = b.upload(randomArray(99, size), shape);
  b.dispose(layer.backward(dy));
  layer.sgdStep(0.25);
  b.dispose(dy);
}

function syncTwin(x: Float64Array[]): BatchNormState {
  const layer = new BatchNorm(reference, options);
  for (const data of x) step(layer, reference, data);
  return layer.stateSync();
}

describe('BatchNorm on an asynchronous-only backend', () => {
  it('trains to the same bits as on the synchronous backend; state() and fold() settle first', async () => {
    const backend = asyncOnly(reference);
    const layer = new BatchNorm(backend, options);
    const batches = [batch(1), batch(2), batch(3)];
    for (const data of batches) step(layer, backend, data);
    const state = await layer.state();
    expect(state).toEqual(syncTwin(batches));
    const twin = new BatchNorm(reference, options);
    twin.load(state);
    expect(await layer.fold()).toEqual(twin.foldSync());
  });

  it('stateSync/foldSync: a compile error for a backend without readSync, NOT_SUPPORTED at run time', () => {
    const layer = new BatchNorm(asyncOnly(reference), options);
    // @ts-expect-error: Backend<T> does not declare readSync
    expectBatchNormError(() => layer.stateSync(), 'NOT_SUPPORTED', 'backend');
    // @ts-expect-error: the same for foldSync
    expectBatchNormError(() => layer.foldSync(), 'NOT_SUPPORTED', 'backend');
  });

  it('a non-finite batch: settle() rejects once; the state is as before that batch, even after sgdStep', async () => {
    const backend = asyncOnly(reference);
    const layer = new BatchNorm(backend, options);
    step(layer, backend, batch(1));
    await layer.settle();
    const before = await layer.state();
    step(layer, backend, poisoned(2)); // forward, backward and sgdStep all run before the verdict
    expect(layer.numBatchesTracked).toBe(2);
    const error = await expectBatchNormErrorAsync(() => layer.settle(), 'NON_FINITE_INPUT', 'x');
    expect(error.received).toContain('training batch 2');
    expect(await layer.state()).toEqual(before);
    expect(layer.gradients).toBeUndefined();
    await expectBatchNormErrorAsync(async () => layer.backward(backend.upload(batch(3), shape)), 'INVALID_STATE', 'dy');
    await layer.settle(); // reported once
    step(layer, backend, batch(3));
    expect(await layer.state()).toEqual(syncTwin([batch(1), batch(3)]));
  });

  it('the next forward, backward or sgdStep after the verdict throws it', async () => {
    const backend = asyncOnly(reference);
    for (const call of ['forward', 'backward', 'sgdStep'] as const) {
      const layer = new BatchNorm(backend, options);
      const x = backend.upload(poisoned(4), shape);
      const dy = backend.upload(batch(5), shape);
      layer.forward(x);
      await macrotask();
      await macrotask();
      const act = { forward: () => layer.forward(x), backward: () => layer.backward(dy), sgdStep: () => layer.sgdStep(1) }[call];
      expectBatchNormError(act, 'NON_FINITE_INPUT', 'x');
      expect(layer.numBatchesTracked).toBe(0);
      expect(await layer.state()).toEqual(new BatchNorm(reference, options).stateSync());
    }
  });

  it('a non-finite batch discards the unchecked batches after it; a good one before it stays', async () => {
    const backend = asyncOnly(reference);
    const layer = new BatchNorm(backend, options);
    step(layer, backend, batch(6));
    step(layer, backend, poisoned(7));
    step(layer, backend, batch(8)); // built on the poisoned step: dropped with it
    expect(layer.numBatchesTracked).toBe(3);
    await expectBatchNormErrorAsync(() => layer.settle(), 'NON_FINITE_INPUT', 'x');
    expect(await layer.state()).toEqual(syncTwin([batch(6)]));
  });

  it('load() abandons pending checks: their verdicts no longer apply', async () => {
    const backend = asyncOnly(reference);
    const layer = new BatchNorm(backend, options);
    const fresh = new BatchNorm(reference, options).stateSync();
    step(layer, backend, poisoned(9));
    layer.load(fresh);
    await layer.settle();
    expect(await layer.state()).toEqual(fresh);
  });

  it('releases every tensor it kept for the checks', async () => {
    const { backend: tracked, live } = trackingBackend(reference);
    const backend = asyncOnly(tracked);
    const layer = new BatchNorm(backend, options);
    const inputs: ReferenceTensor[] = [];
    for (const data of [batch(10), poisoned(11), batch(12)]) {
      const x = backend.upload(data, shape);
      const dy = backend.upload(batch(13), shape);
      inputs.push(x, dy);
      backend.dispose(layer.forward(x));
      backend.dispose(layer.backward(dy));
      layer.sgdStep(0.5);
    }
    await layer.settle().catch(() => undefined);
    layer.dispose();
    for (const t of inputs) backend.dispose(t);
    expect(live.size).toBe(0);
  });

  it('checkFinite: false never reads', async () => {
    let reads = 0;
    const inner = asyncOnly(reference);
    const backend = { ...inner, read: (t: ReferenceTensor) => (reads++, inner.read(t)) };
    const layer = new BatchNorm(backend, { ...options, checkFinite: false });
    step(layer, backend, poisoned(14));
    await layer.settle();
    expect(reads).toBe(0);
  });
});

describe('non-finite gradients (dy)', () => {
  const x = batch(20);
  const badDy = randomArray(21, size).map((v, i) => (i === 5 ? Infinity : v));

  it('a synchronous backend: backward throws NON_FINITE_INPUT naming dy; γ, β and the gradients stay', () => {
    const layer = new BatchNorm(reference, options);
    step(layer, reference, batch(1));
    const before = layer.stateSync();
    const gradients = layer.gradients;
    const xt = reference.upload(x, shape);
    reference.dispose(layer.forward(xt));
    const afterForward = layer.stateSync();
    const error = expectBatchNormError(() => layer.backward(reference.upload(badDy, shape)), 'NON_FINITE_INPUT', 'dy');
    expect(error.received).toMatch(/feature 2 with dγ Infinity/); // index 5 of [4, 3, 2] is n 0, c 2
    expect(layer.gradients).toBe(gradients);
    expect(layer.stateSync()).toEqual(afterForward);
    expect(afterForward.gamma).toEqual(before.gamma);
  });

  it('an asynchronous backend: sgdStep before the verdict is undone; the batch statistics stay', async () => {
    const backend = asyncOnly(reference);
    const layer = new BatchNorm(backend, options);
    step(layer, backend, batch(1));
    const xt = backend.upload(x, shape);
    backend.dispose(layer.forward(xt));
    await layer.settle();
    const afterForward = await layer.state();
    backend.dispose(layer.backward(backend.upload(badDy, shape)));
    layer.sgdStep(0.5); // would write NaN into γ and β
    const error = await expectBatchNormErrorAsync(() => layer.settle(), 'NON_FINITE_INPUT', 'dy');
    expect(error.received).toContain('backward of training batch 2');
    expect(await layer.state()).toEqual(afterForward);
    expect(layer.gradients).toBeUndefined();
  });
});

describe('values a float32 backend cannot hold', () => {
  const float32 = { ...reference, dtype: 'float32' as const };

  it.each([
    ['gamma', { gamma: [1, 1e39, 1] }, 'gamma[1]'],
    ['beta', { beta: [-1e39, 0, 0] }, 'beta[0]'],
    ['epsilon above float32', { epsilon: 1e39 }, 'epsilon'],
    ['a subnormal epsilon', { epsilon: 1e-40 }, 'epsilon'],
  ])('the constructor rejects %s', (_, extra, argument) => {
    expectBatchNormError(() => new BatchNorm(float32, { ...options, ...extra }), 'INVALID_ARGUMENT', argument);
    expect(() => new BatchNorm(reference, { ...options, ...extra })).not.toThrow(); // float64 holds them
  });

  it.each([
    ['runningVar', { runningVar: [1, 1, 1e39] }, 'state.runningVar[2]'],
    ['runningMean', { runningMean: [3.5e38, 0, 0] }, 'state.runningMean[0]'],
    ['epsilon', { epsilon: 1e-45 }, 'state.epsilon'],
  ])('load() rejects an out-of-range %s and changes nothing', (_, change, argument) => {
    const layer = new BatchNorm(float32, options);
    const state = layer.stateSync();
    expectBatchNormError(() => layer.load({ ...state, ...change }), 'INVALID_ARGUMENT', argument);
    expect(layer.stateSync()).toEqual(state);
  });

  it('the largest float32 and the smallest normal ε are accepted', () => {
    const layer = new BatchNorm(float32, { ...options, gamma: [3.4028234663852886e38, 1, 1], epsilon: 2 ** -126 });
    expect(layer.stateSync().gamma[0]).toBe(3.4028234663852886e38);
  });
});

describe('sizes past 2³¹ − 1 elements', () => {
  it('numFeatures: 2³¹ is rejected before anything is allocated', () => {
    const error = expectBatchNormError(() => new BatchNorm(reference, { numFeatures: 2 ** 31 }), 'INVALID_ARGUMENT', 'numFeatures');
    expect(error.expected).toContain(String(2 ** 31 - 1));
  });

  it('a shape claiming 2³¹ elements: upload and the layout check reject it by name', () => {
    expectBatchNormError(() => reference.upload(new Float64Array(4), [2 ** 16, 2 ** 15]), 'INVALID_ARGUMENT', 'shape');
    // only a look-alike can claim such a shape (upload refuses it, a handle's shape is frozen):
    // the layer refuses it as a handle first; the layout check (geometryOf) refuses the size
    const layer = new BatchNorm(reference, { numFeatures: 2 });
    const fake = { shape: [2 ** 30, 2], data: new Float64Array(4) };
    expectBatchNormError(() => layer.forward(fake), 'INVALID_HANDLE', 'x');
    expectBatchNormError(() => geometryOf('NC', [2 ** 30, 2]), 'INVALID_ARGUMENT', 'x.shape');
  });
});
