import { describe, expect, it } from 'vitest';
import { reference, tensor } from '../__tests__/helpers.js';
import { flatIndex, geometryOf, type Geometry } from '../layout.js';
import { createRandom } from '../random.js';
import type { Layout } from '../types.js';
import { batchNormBackward } from './kernels/batchNormBackward.js';
import { batchStatistics } from './kernels/batchStatistics.js';
import { pairwiseSum } from './pairwiseSum.js';

/**
 * The reference's reductions are pairwise: a sum of R terms is off by at most
 * `(⌈log₂R⌉)·u·Σ|terms|`, the bound the conformance tolerances assume (depth `L = ⌈log₂R⌉ + 1`,
 * see packages/conformance/src/tolerances.ts). A running sum is off by up to `(R − 1)·u·Σ|terms|`
 * and, at R = 10⁶ terms of one sign, typically by far more than the pairwise bound.
 */
const u = 2 ** -53;
const depth = (count: number): number => Math.ceil(Math.log2(count)) + 1;

/** Neumaier's compensated sum: within a few ulp of the exact sum whatever the count. */
function compensatedSum(count: number, term: (k: number) => number): number {
  let sum = 0;
  let compensation = 0;
  for (let k = 0; k < count; k++) {
    const t = term(k);
    const next = sum + t;
    compensation += Math.abs(sum) >= Math.abs(t) ? sum - next + t : t - next + sum;
    sum = next;
  }
  return sum + compensation;
}

function maxAbs(values: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]!));
  return max;
}

/** `flatIndex` of the k-th value of feature c, in (n, s) order. */
const indexOf = (g: Geometry, c: number, k: number): number => flatIndex(g, Math.floor(k / g.spatial), c, k % g.spatial);

/** 10⁶ values per feature, offset 1e4 (every square of a deviation is of one sign). */
function largeBatch(layout: Layout, shape: readonly number[]): { g: Geometry; x: Float64Array } {
  const g = geometryOf(layout, shape);
  const random = createRandom(19);
  return { g, x: Float64Array.from({ length: g.size }, () => 1e4 + random.normal()) };
}

const LARGE: readonly (readonly [Layout, readonly number[]])[] = [
  ['NC', [1_000_000, 2]],
  ['NCHW', [10, 2, 250, 400]],
];

describe('pairwiseSum', () => {
  it('visits every term once, in order, and sums nothing to 0', () => {
    const visited: number[] = [];
    expect(pairwiseSum(7, (k) => (visited.push(k), 2 ** k))).toBe(127);
    expect(visited).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(pairwiseSum(0, () => 1)).toBe(0);
    expect(pairwiseSum(1, () => -3.5)).toBe(-3.5);
  });

  it('10⁶ terms of 0.1: within ⌈log₂R⌉·u·Σ|terms| (a running sum is off by 1.3e-6)', () => {
    const R = 1_000_000;
    const error = Math.abs(pairwiseSum(R, () => 0.1) - R * 0.1);
    expect(error).toBeLessThanOrEqual(Math.ceil(Math.log2(R)) * u * R * 0.1);
  });
});

// Each case runs the float64 reference and compensated sums over 2·10⁶ values: about a second on a
// quiet machine, more than vitest's 5 s default on a busy one.
describe('reference reductions at m = 10⁶', { timeout: 60_000 }, () => {
  it.each(LARGE)('batchStatistics %s %j: mean and variance within the pairwise bound', (layout, shape) => {
    const { g, x } = largeBatch(layout, shape);
    const { mean, variance } = batchStatistics(x, g);
    const L = depth(g.m);
    for (let c = 0; c < g.c; c++) {
      const exactMean = compensatedSum(g.m, (k) => x[indexOf(g, c, k)]!) / g.m;
      const exactVariance = compensatedSum(g.m, (k) => (x[indexOf(g, c, k)]! - exactMean) ** 2) / g.m;
      // the sum's error (L − 1 roundings) plus the division's
      const meanBound = L * u * maxAbs(x);
      expect(Math.abs(mean[c]! - exactMean), `mean[${c}]`).toBeLessThanOrEqual(meanBound);
      // a mean off by δ adds δ² to the variance; the deviations and squares add two roundings
      expect(Math.abs(variance[c]! - exactVariance), `variance[${c}]`).toBeLessThanOrEqual((L + 3) * u * exactVariance + meanBound ** 2);
    }
  });

  it('sumRows of 10⁶ rows: within the pairwise bound', () => {
    const rows = 1_000_000;
    const data = Float64Array.from({ length: 2 * rows }, (_, i) => (i % 2 === 0 ? 0.1 : 1e4 + Math.sin(i)));
    const out = reference.sumRows(tensor(data, [rows, 2])).data;
    for (let c = 0; c < 2; c++) {
      const column = (r: number): number => data[2 * r + c]!;
      const bound = depth(rows) * u * compensatedSum(rows, (r) => Math.abs(column(r)));
      expect(Math.abs(out[c]! - compensatedSum(rows, column)), `out[${c}]`).toBeLessThanOrEqual(bound);
    }
  });

  it.each(LARGE)("batchNormBackward %s %j: dγ and dβ within the pairwise bound (exact saved statistics)", (layout, shape) => {
    const { g, x } = largeBatch(layout, shape);
    const mean = new Float64Array(g.c);
    const variance = new Float64Array(g.c);
    for (let c = 0; c < g.c; c++) {
      mean[c] = compensatedSum(g.m, (k) => x[indexOf(g, c, k)]!) / g.m;
      variance[c] = compensatedSum(g.m, (k) => (x[indexOf(g, c, k)]! - mean[c]!) ** 2) / g.m;
    }
    const epsilon = 1e-5;
    const gamma = Float64Array.from({ length: g.c }, (_, c) => 1.5 - c);
    // the gradient of ½Σ(y − 0.5)² with y = γx̂ + β, as a loss gives: both sums have terms of one sign
    const random = createRandom(23);
    const dy = new Float64Array(g.size);
    for (let i = 0; i < g.size; i++) {
      const c = g.channelsLast ? i % g.c : Math.floor(i / g.spatial) % g.c;
      dy[i] = (gamma[c]! * (x[i]! - mean[c]!)) / Math.sqrt(variance[c]! + epsilon) + 0.5 + 0.1 * random.normal();
    }
    // the kernel itself: the backend takes only a `saved` of its own forward, not exact statistics
    const { dgamma, dbeta } = batchNormBackward(
      { dy: tensor(dy, shape), x: tensor(x, shape), gamma: tensor(gamma, [g.c]), saved: { mean, variance } },
      { layout, epsilon },
    );
    const L = depth(g.m);
    for (let c = 0; c < g.c; c++) {
      const std = Math.sqrt(variance[c]! + epsilon);
      const dyAt = (k: number): number => dy[indexOf(g, c, k)]!;
      const dyXHat = (k: number): number => dyAt(k) * ((x[indexOf(g, c, k)]! - mean[c]!) / std);
      const exactDbeta = compensatedSum(g.m, dyAt);
      const exactDgamma = compensatedSum(g.m, dyXHat);
      expect(Math.abs(dbeta.data[c]! - exactDbeta), `dbeta[${c}]`).toBeLessThanOrEqual(L * u * compensatedSum(g.m, (k) => Math.abs(dyAt(k))));
      // the terms carry three roundings each (x − μ, /√(σ²+ε), ·dy)
      const dgammaBound = (L + 3) * u * compensatedSum(g.m, (k) => Math.abs(dyXHat(k)));
      expect(Math.abs(dgamma.data[c]! - exactDgamma), `dgamma[${c}]`).toBeLessThanOrEqual(dgammaBound);
    }
  });
});
