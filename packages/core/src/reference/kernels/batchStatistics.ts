import { flatIndex, type Geometry } from '../../layout.js';

/**
 * Per-feature `μ = (1/m)·Σxᵢ` and biased `σ² = (1/m)·Σ(xᵢ − μ)²`, in two passes (never
 * `E[x²] − E[x]²`, which cancels catastrophically for large offsets).
 */
export function batchStatistics(
  x: Float64Array,
  g: Geometry,
): { mean: Float64Array; variance: Float64Array } {
  const mean = new Float64Array(g.c);
  const variance = new Float64Array(g.c);
  for (let c = 0; c < g.c; c++) {
    let sum = 0;
    for (let n = 0; n < g.n; n++) {
      for (let s = 0; s < g.spatial; s++) sum += x[flatIndex(g, n, c, s)]!;
    }
    const mu = sum / g.m;
    let squares = 0;
    for (let n = 0; n < g.n; n++) {
      for (let s = 0; s < g.spatial; s++) {
        const d = x[flatIndex(g, n, c, s)]! - mu;
        squares += d * d;
      }
    }
    mean[c] = mu;
    variance[c] = squares / g.m;
  }
  return { mean, variance };
}
