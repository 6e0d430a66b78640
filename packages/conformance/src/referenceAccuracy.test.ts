import { createRandom, createReferenceBackend, flatIndex, geometryOf, type Layout } from '@batchnorm/core';
import { describe, expect, it } from 'vitest';
import { runCase } from './runner.js';
import type { ConformanceCase } from './types.js';

/**
 * The float64 reference judged by the suite's own float64 profile at m = 10⁶, against sums that
 * are accurate to a few ulp whatever their length (Neumaier's compensated summation). The
 * profile's bound assumes a reduction as accurate as a pairwise sum (depth ⌈log₂ m⌉ + 1): a
 * naive running sum of 10⁶ values of one sign is not.
 */
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

const EPSILON = 1e-5;

/** Forward-training and backward cases whose expected outputs come from compensated sums. */
function accurateCases(layout: Layout, shape: readonly number[]): ConformanceCase[] {
  const g = geometryOf(layout, shape);
  const random = createRandom(20150211);
  // an offset of 1e4 (as the grid's offset1e4 regime): every squared deviation is positive
  const x = Float64Array.from({ length: g.size }, () => 1e4 + random.normal());
  const gamma = Float64Array.from({ length: g.c }, (_, c) => 1.5 - c);
  const beta = Float64Array.from({ length: g.c }, (_, c) => 0.25 * c);
  const mean = new Float64Array(g.c);
  const variance = new Float64Array(g.c);
  const y = new Float64Array(g.size);
  const dy = new Float64Array(g.size);
  const dx = new Float64Array(g.size);
  const dgamma = new Float64Array(g.c);
  const dbeta = new Float64Array(g.c);
  for (let c = 0; c < g.c; c++) {
    const at = (k: number): number => flatIndex(g, Math.floor(k / g.spatial), c, k % g.spatial);
    mean[c] = compensatedSum(g.m, (k) => x[at(k)]!) / g.m;
    variance[c] = compensatedSum(g.m, (k) => (x[at(k)]! - mean[c]!) ** 2) / g.m;
    const std = Math.sqrt(variance[c]! + EPSILON);
    const xHat = (k: number): number => (x[at(k)]! - mean[c]!) / std;
    // the gradient of ½Σy² plus noise, as a loss gives: Σdy·x̂ sums terms of one sign
    for (let k = 0; k < g.m; k++) {
      y[at(k)] = gamma[c]! * xHat(k) + beta[c]!;
      dy[at(k)] = y[at(k)]! + 0.1 * random.normal();
    }
    dbeta[c] = compensatedSum(g.m, (k) => dy[at(k)]!);
    dgamma[c] = compensatedSum(g.m, (k) => dy[at(k)]! * xHat(k));
    // the simplified dx = (γ/(m·√(σ²+ε)))·(m·dy − Σdy − x̂·Σdy·x̂), from the accurate sums
    for (let k = 0; k < g.m; k++) {
      dx[at(k)] = (gamma[c]! / std) * (dy[at(k)]! - dbeta[c]! / g.m - (xHat(k) * dgamma[c]!) / g.m);
    }
  }
  const base = { layout, shape, epsilon: EPSILON };
  return [
    { ...base, name: `forwardTraining/${layout}`, op: 'forwardTraining', inputs: { x, gamma, beta }, expected: { y, mean, variance } },
    { ...base, name: `backward/${layout}`, op: 'backward', inputs: { x, gamma, dy }, expected: { dx, dgamma, dbeta } },
  ];
}

describe('the float64 reference at m = 10⁶ meets the float64 profile', () => {
  it.each([
    ['NC', [1_000_000, 2]],
    ['NCHW', [10, 2, 250, 400]],
  ] as const)('%s %j: forward training and backward against compensated sums', async (layout, shape) => {
    const reference = createReferenceBackend();
    const failures: string[] = [];
    for (const c of accurateCases(layout, shape)) {
      const result = await runCase(reference, c, { profile: 'float64' });
      if (!result.pass) failures.push(`${c.name}: ${result.message}`);
    }
    expect(failures).toEqual([]);
  });
});
