import { describe, expect, it } from 'vitest';
import { expectClose, randomArray, reference, tensor, values } from '../__tests__/helpers.js';
import { createRandom } from '../random.js';

/** Central-difference gradient of a scalar function of `x`, element by element. */
function numericGradient(f: (x: Float64Array) => number, x: Float64Array, h = 1e-6): Float64Array {
  const grad = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const saved = x[i]!;
    x[i] = saved + h;
    const plus = f(x);
    x[i] = saved - h;
    const minus = f(x);
    x[i] = saved;
    grad[i] = (plus - minus) / (2 * h);
  }
  return grad;
}

/** Σ w·v: a scalar loss whose gradient w.r.t. v is w. */
function dot(w: ArrayLike<number>, v: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < w.length; i++) sum += w[i]! * v[i]!;
  return sum;
}

describe('matMul', () => {
  // A = [[1, 2, 3], [4, 5, 6]], B = [[7, 8], [9, 10], [11, 12]]; A·B = [[58, 64], [139, 154]]
  const a = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  const aT = tensor([1, 4, 2, 5, 3, 6], [3, 2]);
  const b = tensor([7, 8, 9, 10, 11, 12], [3, 2]);
  const bT = tensor([7, 9, 11, 8, 10, 12], [2, 3]);
  const product = [58, 64, 139, 154];

  it.each([
    ['a·b', a, b, {}],
    ['aᵀ stored, transposeA', aT, b, { transposeA: true }],
    ['bᵀ stored, transposeB', a, bT, { transposeB: true }],
    ['both stored transposed', aT, bT, { transposeA: true, transposeB: true }],
  ] as const)('%s gives A·B', (_label, left, right, attrs) => {
    const c = reference.matMul(left, right, attrs);
    expect(c.shape).toEqual([2, 2]);
    expect(values(c)).toEqual(product);
  });

  it('A·Aᵀ and Aᵀ·A have the right shapes and values', () => {
    const aaT = reference.matMul(a, a, { transposeB: true });
    expect(aaT.shape).toEqual([2, 2]);
    expect(values(aaT)).toEqual([14, 32, 32, 77]);
    const aTa = reference.matMul(a, a, { transposeA: true });
    expect(aTa.shape).toEqual([3, 3]);
    expect(values(aTa)).toEqual([17, 22, 27, 22, 29, 36, 27, 36, 45]);
  });

  it('a [1, K]·[K, 1] inner product and a [K, 1]·[1, K] outer product', () => {
    expect(values(reference.matMul(tensor([1, 2, 3], [1, 3]), tensor([4, 5, 6], [3, 1])))).toEqual([32]);
    const outer = reference.matMul(tensor([1, 2], [2, 1]), tensor([3, 4, 5], [1, 3]));
    expect(outer.shape).toEqual([2, 3]);
    expect(values(outer)).toEqual([3, 4, 5, 6, 8, 10]);
  });
});

describe('addBias and sumRows', () => {
  it('adds the bias to every row', () => {
    const out = reference.addBias(tensor([1, 2, 3, 4, 5, 6], [3, 2]), tensor([10, 20], [2]));
    expect(out.shape).toEqual([3, 2]);
    expect(values(out)).toEqual([11, 22, 13, 24, 15, 26]);
  });

  it('sums the columns', () => {
    const out = reference.sumRows(tensor([1, 2, 3, 4, 5, 6], [3, 2]));
    expect(out.shape).toEqual([2]);
    expect(values(out)).toEqual([9, 12]);
  });
});

describe('sigmoid and relu', () => {
  it('sigmoid at hand-picked points', () => {
    const y = values(reference.sigmoid(tensor([0, Math.log(3), -Math.log(3), 800, -800], [5])));
    expectClose(y, [0.5, 0.75, 0.25, 1, 0], 1e-15, 0);
  });

  it('sigmoidBackward equals the finite-difference gradient', () => {
    const x = randomArray(21, 24, 2);
    const dy = randomArray(22, 24);
    const loss = (v: Float64Array) => dot(dy, values(reference.sigmoid(tensor(v, [4, 6]))));
    const y = reference.sigmoid(tensor(x, [4, 6]));
    const analytic = values(reference.sigmoidBackward(tensor(dy, [4, 6]), y));
    expectClose(analytic, numericGradient(loss, x), 1e-9, 1e-7);
  });

  it('relu at hand-picked points', () => {
    expect(values(reference.relu(tensor([-2, -0, 0, 0.5, 3], [5])))).toEqual([0, 0, 0, 0.5, 3]);
  });

  it('reluBackward equals the finite-difference gradient away from the kink', () => {
    // keep |x| ≥ 0.05 so a step of 1e-6 never crosses 0
    const x = randomArray(23, 24).map((v) => (Math.abs(v) < 0.05 ? v + Math.sign(v || 1) * 0.1 : v));
    const dy = randomArray(24, 24);
    const loss = (v: Float64Array) => dot(dy, values(reference.relu(tensor(v, [4, 6]))));
    const analytic = values(reference.reluBackward(tensor(dy, [4, 6]), tensor(x, [4, 6])));
    expectClose(analytic, numericGradient(loss, x), 1e-9, 1e-7);
    expect(analytic.some((v) => v === 0)).toBe(true);
    expect(analytic.some((v) => v !== 0)).toBe(true);
  });
});

describe('softmaxCrossEntropy', () => {
  it('hand-computed loss and gradient', () => {
    // row 0: softmax [½, ½], label 0; row 1: softmax [¾, ¼], label 1
    const { loss, dLogits } = reference.softmaxCrossEntropy(
      tensor([0, 0, Math.log(3), 0], [2, 2]),
      tensor([1, 0, 0, 1], [2, 2]),
    );
    expect(loss.shape).toEqual([1]);
    expectClose(values(loss), [1.5 * Math.LN2]);
    expect(dLogits.shape).toEqual([2, 2]);
    expectClose(values(dLogits), [-0.25, 0.25, 0.375, -0.375]);
  });

  it('dLogits equals the finite-difference gradient of the loss (soft labels)', () => {
    const [rows, cols] = [5, 7];
    const logits = randomArray(31, rows * cols, 3);
    const random = createRandom(32);
    const labels = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      let total = 0;
      for (let k = 0; k < cols; k++) total += labels[r * cols + k] = random.uniform();
      for (let k = 0; k < cols; k++) labels[r * cols + k]! /= total;
    }
    const labelTensor = tensor(labels, [rows, cols]);
    const loss = (v: Float64Array) =>
      values(reference.softmaxCrossEntropy(tensor(v, [rows, cols]), labelTensor).loss)[0]!;
    const analytic = values(reference.softmaxCrossEntropy(tensor(logits, [rows, cols]), labelTensor).dLogits);
    expectClose(analytic, numericGradient(loss, logits), 1e-9, 1e-6);
  });

  it('stays finite for huge logits', () => {
    const { loss, dLogits } = reference.softmaxCrossEntropy(
      tensor([1000, 0, -1000, 1000], [2, 2]),
      tensor([1, 0, 1, 0], [2, 2]),
    );
    // row 0 is right with certainty (loss 0), row 1 wrong by 2000 (loss 2000)
    expectClose(values(loss), [1000]);
    expectClose(values(dLogits), [0, 0, -0.5, 0.5]);
  });
});

describe('sgdUpdate', () => {
  it('returns param − learningRate·grad', () => {
    const param = tensor([1, 2, -3], [3]);
    const out = reference.sgdUpdate(param, tensor([0.5, -1, 2], [3]), { learningRate: 0.1 });
    expect(out.shape).toEqual([3]);
    expectClose(values(out), [0.95, 2.1, -3.2]);
  });
});
