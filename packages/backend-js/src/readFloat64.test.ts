// js keeps per-feature vectors in float64 beside their float32 values; readFloat64 returns those
// digits, so BatchNorm's state() and load() carry the running statistics exactly (issue 18).
import { afterAll, describe, expect, it } from 'vitest';
import { BatchNorm, BatchNormError, type BatchNormState } from '@batchnorm/core';
import { createBackend, type JsBackend, type JsTensor } from './index.js';
import { randomFloat32 } from './__tests__/helpers.js';

const backend = createBackend({ threads: 1 });
const other = createBackend({ threads: 1 });
afterAll(() => {
  backend.destroy();
  other.destroy();
});

const exact = [0.1, 1 / 3, 1e4 + Math.PI];
const isFloat32 = (v: number) => Math.fround(v) === v;

describe('js readFloat64 and readFloat64Sync', () => {
  it('give back a 1-D Float64Array upload bit for bit, where read rounds it to float32', async () => {
    const t = backend.upload(Float64Array.from(exact), [3]);
    expect(Array.from(backend.readFloat64Sync(t))).toEqual(exact);
    expect(Array.from(await backend.readFloat64(t))).toEqual(exact);
    expect(Array.from(backend.readSync(t))).toEqual(exact.map(Math.fround));
    backend.dispose(t);
  });

  it('widen the float32 values of a tensor that keeps no float64 copy', () => {
    const vector = backend.upload(Float32Array.from(exact), [3]);
    const matrix = backend.upload(Float64Array.from([...exact, 0.2]), [2, 2]);
    expect(Array.from(backend.readFloat64Sync(vector))).toEqual(exact.map(Math.fround));
    expect(Array.from(backend.readFloat64Sync(matrix))).toEqual([...exact, 0.2].map(Math.fround));
    backend.dispose(vector);
    backend.dispose(matrix);
  });

  it("return runningAverage's float64 result", () => {
    const running = backend.upload(Float64Array.from(exact), [3]);
    const batch = backend.upload(Float64Array.of(2, 0.7, -5), [3]);
    const out = backend.runningAverage({ running, batch }, { factor: 0.1, batchScale: 4 / 3 });
    const want = exact.map((r, k) => 0.9 * r + 0.1 * (4 / 3) * [2, 0.7, -5][k]!);
    expect(Array.from(backend.readFloat64Sync(out))).toEqual(want);
    expect(want.some((v) => !isFloat32(v))).toBe(true);
    for (const t of [running, batch, out]) backend.dispose(t);
  });

  it('copy in the call: the tensor may be disposed at once, and the copy is the caller’s', async () => {
    const t = backend.upload(Float64Array.from(exact), [3]);
    const pending = backend.readFloat64(t);
    const copy = backend.readFloat64Sync(t);
    backend.dispose(t);
    expect(Array.from(await pending)).toEqual(exact);
    copy.fill(0);
    const again = backend.upload(Float64Array.from(exact), [3]);
    expect(Array.from(backend.readFloat64Sync(again))).toEqual(exact);
    backend.dispose(again);
  });

  it('refuse a disposed tensor or one of another instance with INVALID_HANDLE naming t', async () => {
    const disposed = backend.upload(Float64Array.from(exact), [3]);
    backend.dispose(disposed);
    const foreign = other.upload(Float64Array.from(exact), [3]);
    for (const t of [disposed, foreign]) {
      expect(() => backend.readFloat64Sync(t)).toThrow(expect.objectContaining({ code: 'INVALID_HANDLE', argument: 't' }));
      await expect(backend.readFloat64(t)).rejects.toBeInstanceOf(BatchNormError);
    }
    other.dispose(foreign);
  });
});

describe('a BatchNorm layer on js', () => {
  const C = 4;
  const batch = (seed: number) => backend.upload(randomFloat32(seed, 32 * C, 3, 1e3), [32, C]);
  const train = (layer: BatchNorm<JsTensor, JsBackend>, seeds: readonly number[]) => {
    for (const seed of seeds) {
      const x = batch(seed);
      backend.dispose(layer.forward(x));
      backend.dispose(x);
    }
  };

  it('saves its float64 running statistics and, loaded, continues them and inference bit for bit', async () => {
    const straight = new BatchNorm(backend, { numFeatures: C });
    train(straight, [1, 2, 3]);
    const saved = JSON.parse(JSON.stringify(await straight.state())) as BatchNormState;
    expect(saved.runningMean.some((v) => !isFloat32(v))).toBe(true);
    expect(straight.stateSync()).toEqual(saved);

    const resumed = BatchNorm.fromState(backend, saved);
    train(straight, [4, 5]);
    train(resumed, [4, 5]);
    expect(resumed.stateSync()).toEqual(straight.stateSync());

    const x = batch(6);
    const [a, b] = [straight.eval().forward(x), resumed.eval().forward(x)];
    expect(Array.from(backend.readSync(b))).toEqual(Array.from(backend.readSync(a)));
    for (const t of [x, a, b]) backend.dispose(t);
    straight.dispose();
    resumed.dispose();
  });
});
