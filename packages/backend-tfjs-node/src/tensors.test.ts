import { describe, expect, it } from 'vitest';
import { tfjs } from './__tests__/helpers.js';

// Each kernel's values against the reference are the conformance suite's (conformance.test.ts).
describe('sgdUpdate on tfjs-node', () => {
  it('sgdUpdate returns param − lr·grad and consumes param', () => {
    const param = tfjs.upload(Float32Array.of(1, 2, 3), [3]);
    const grad = tfjs.upload(Float32Array.of(10, -10, 0.5), [3]);
    const updated = tfjs.sgdUpdate(param, grad, { learningRate: 0.1 });
    expect(Array.from(tfjs.readSync(updated))).toEqual([0, 3, 2.950000047683716]);
    expect(param.tensor.isDisposed).toBe(true);
    tfjs.dispose(updated);
    tfjs.dispose(grad);
  });
});

describe('tensors on tfjs-node', () => {
  it('upload copies: changing the source array later does not change the tensor', () => {
    const source = Float32Array.of(1, 2, 3, 4);
    const t = tfjs.upload(source, [2, 2]);
    source.fill(0);
    expect(Array.from(tfjs.readSync(t))).toEqual([1, 2, 3, 4]);
    tfjs.dispose(t);
  });

  it('readSync copies: changing what it returned does not change the tensor', () => {
    const t = tfjs.upload(Float64Array.of(1.5, -2), [2]);
    const first = tfjs.readSync(t);
    expect(first).toBeInstanceOf(Float32Array);
    first.fill(9);
    expect(Array.from(tfjs.readSync(t))).toEqual([1.5, -2]);
    tfjs.dispose(t);
  });

  it('read captures the values when called: the tensor may be disposed at once', async () => {
    const a = tfjs.upload(Float32Array.of(1, 2), [2]);
    const t = tfjs.sigmoid(a);
    const want = Array.from(tfjs.readSync(t));
    const pending = tfjs.read(t);
    tfjs.dispose(t);
    expect(t.tensor.isDisposed).toBe(true);
    expect(Array.from(await pending)).toEqual(want);
    tfjs.dispose(a);
  });

  it('read resolves to the same values; dispose twice is allowed', async () => {
    const t = tfjs.upload(Float32Array.of(4, 5, 6), [3]);
    expect(t.shape).toEqual([3]);
    expect(Array.from(await tfjs.read(t))).toEqual([4, 5, 6]);
    tfjs.dispose(t);
    expect(t.tensor.isDisposed).toBe(true);
    expect(() => tfjs.dispose(t)).not.toThrow();
  });

  it('upload rejects data that does not fit the shape', () => {
    expect(() => tfjs.upload(new Float32Array(5), [2, 3])).toThrow(expect.objectContaining({ name: 'BatchNormError', code: 'SHAPE_MISMATCH', argument: 'data' }));
  });
});
