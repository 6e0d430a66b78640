import type { Geometry } from '../../layout.js';
import { featureSum } from '../pairwiseSum.js';

/**
 * Per-feature `μ = (1/m)·Σxᵢ` and biased `σ² = (1/m)·Σ(xᵢ − μ)²`, in two passes (never
 * `E[x²] − E[x]²`, which cancels catastrophically for large offsets), each sum pairwise.
 */
export function batchStatistics(
  x: Float64Array,
  g: Geometry,
): { mean: Float64Array; variance: Float64Array } {
  const mean = new Float64Array(g.c);
  const variance = new Float64Array(g.c);
  for (let c = 0; c < g.c; c++) {
    const mu = featureSum(g, c, (i) => x[i]!) / g.m;
    mean[c] = mu;
    variance[c] =
      featureSum(g, c, (i) => {
        const d = x[i]! - mu;
        return d * d;
      }) / g.m;
  }
  return { mean, variance };
}
