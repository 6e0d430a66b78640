import { describe, expect, it } from 'vitest';
import { compareWithReference, expectClose, randomValues, tfjs } from './__tests__/helpers.js';

const ATOL = 1e-5;
const RTOL = 1e-5;
const matrix = (seed: number, rows: number, cols: number, scale = 1) => ({ data: randomValues(seed, rows * cols, scale), shape: [rows, cols] });

describe('MLP kernels on tfjs-node match the reference', () => {
  it.each([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])('matMul with transposeA %s, transposeB %s', (transposeA, transposeB) => {
    const [m, k, n] = [5, 7, 3];
    const a = matrix(1, transposeA ? k : m, transposeA ? m : k);
    const b = matrix(2, transposeB ? n : k, transposeB ? k : n);
    const { got, want } = compareWithReference([a, b], (backend, [at, bt]) => [backend.matMul(at!, bt!, { transposeA, transposeB })]);
    expect(got[0]).toHaveLength(m * n);
    expectClose(got[0], want[0], ATOL, RTOL);
  });

  it('addBias, sumRows, sigmoid, relu', () => {
    const x = matrix(3, 6, 4, 3);
    const bias = { data: randomValues(4, 4), shape: [4] };
    const { got, want } = compareWithReference([x, bias], (b, [xt, bt]) => [
      b.addBias(xt!, bt!),
      b.sumRows(xt!),
      b.sigmoid(xt!),
      b.relu(xt!),
    ]);
    expect(got[1]).toHaveLength(4);
    for (let k = 0; k < 4; k++) expectClose(got[k], want[k], ATOL, RTOL);
  });

  it('sigmoidBackward (SigmoidGrad) and reluBackward (ReluGrad)', () => {
    const dy = matrix(5, 6, 4);
    const y = { data: randomValues(6, 24).map((v) => 1 / (1 + Math.exp(-v))), shape: [6, 4] };
    const x = matrix(7, 6, 4);
    const { got, want } = compareWithReference([dy, y, x], (b, [dyt, yt, xt]) => [
      b.sigmoidBackward(dyt!, yt!),
      b.reluBackward(dyt!, xt!),
    ]);
    expectClose(got[0], want[0], ATOL, RTOL);
    expectClose(got[1], want[1], 0, 0);
  });

  it.each([
    ['one-hot labels', 1],
    ['large logits', 60],
  ])('softmaxCrossEntropy with %s', (_name, scale) => {
    const logits = matrix(8, 5, 10, scale);
    const labels = { data: new Float64Array(50).map((_, i) => (i % 10 === (Math.floor(i / 10) * 3) % 10 ? 1 : 0)), shape: [5, 10] };
    const { got, want } = compareWithReference([logits, labels], (b, [lt, yt]) => {
      const { loss, dLogits } = b.softmaxCrossEntropy(lt!, yt!);
      return [loss, dLogits];
    });
    expect(got[0]).toHaveLength(1);
    expect(Number.isFinite(got[0]![0])).toBe(true);
    expectClose(got[0], want[0], 1e-5, 1e-5);
    expectClose(got[1], want[1], 1e-6, 1e-5);
  });

  it('softmaxCrossEntropy with soft labels', () => {
    const logits = matrix(9, 4, 3);
    const labels = { data: Float64Array.from({ length: 12 }, (_, i) => [0.2, 0.3, 0.5][i % 3]!), shape: [4, 3] };
    const { got, want } = compareWithReference([logits, labels], (b, [lt, yt]) => {
      const { loss, dLogits } = b.softmaxCrossEntropy(lt!, yt!);
      return [loss, dLogits];
    });
    expectClose(got[0], want[0], 1e-6, 1e-5);
    expectClose(got[1], want[1], 1e-6, 1e-5);
  });

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
