import type { RunningAverageAttrs } from './backend.js';
import type { VarianceCorrection } from './types.js';

/**
 * The two `runningAverage` calls of one training step: the running mean takes the batch mean
 * `μ_B`, the running variance `m/(m−1)·σ²_B` for `'unbiased'` (the paper) or `σ²_B` for
 * `'biased'`; `factor` is the weight of the new batch statistic, `m` the values per feature.
 */
export function runningAverageAttrs(
  factor: number,
  varianceCorrection: VarianceCorrection,
  m: number,
): { readonly mean: RunningAverageAttrs; readonly variance: RunningAverageAttrs } {
  return {
    mean: { factor, batchScale: 1 },
    variance: { factor, batchScale: varianceCorrection === 'unbiased' ? m / (m - 1) : 1 },
  };
}
