import { flatIndex, type Geometry } from '../layout.js';

/**
 * `Σ term(k)` for `k = 0 … count − 1`, summed pairwise: each half alone, then the two halves
 * added. Every term passes through at most `⌈log₂ count⌉` additions, so the sum is off by at
 * most about `⌈log₂ count⌉·u·Σ|term(k)|`, where a running sum may be off by `(count − 1)·u·Σ|term(k)|`
 * (10⁶ terms of one sign: 20 against 999,999). The conformance tolerances assume this depth
 * (`⌈log₂ R⌉ + 1`, packages/conformance/src/tolerances.ts), for the reference as for any backend.
 */
export function pairwiseSum(count: number, term: (k: number) => number): number {
  const sum = (first: number, length: number): number => {
    if (length === 1) return term(first);
    const half = Math.floor(length / 2);
    return sum(first, half) + sum(first + half, length - half);
  };
  return count > 0 ? sum(0, count) : 0;
}

/** `Σ term(i)` over the `m` values of feature `c`, `i` each value's flat index; pairwise. */
export function featureSum(g: Geometry, c: number, term: (i: number) => number): number {
  return pairwiseSum(g.m, (k) => term(flatIndex(g, Math.floor(k / g.spatial), c, k % g.spatial)));
}
