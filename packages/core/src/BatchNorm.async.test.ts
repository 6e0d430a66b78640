import { describe, expect, it } from 'vitest';
import { expectBatchNormError, expectBatchNormErrorAsync, randomArray, reference } from './__tests__/helpers.js';
import { trackingBackend } from './__tests__/trackingBackend.js';
import { asyncOnly } from './asyncOnly.js';
import type { Backend } from './backend.js';
import { BatchNorm, type BatchNormState } from './BatchNorm.js';
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
