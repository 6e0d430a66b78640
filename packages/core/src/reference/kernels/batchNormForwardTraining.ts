import type { BatchNormAttrs, BatchNormForwardTrainingInputs, BatchNormForwardTrainingOutputs } from '../../backend.js';
import { flatIndex, geometryOf } from '../../layout.js';
import { referenceTensor, type ReferenceSaved, type ReferenceTensor } from '../tensor.js';
import { batchStatistics } from './batchStatistics.js';

/** Paper Algorithm 1: `x̂ = (x − μ_B)/√(σ²_B + ε)`, `y = γ·x̂ + β`. */
export function batchNormForwardTraining(
  { x, gamma, beta }: BatchNormForwardTrainingInputs<ReferenceTensor>,
  { layout, epsilon }: BatchNormAttrs,
): BatchNormForwardTrainingOutputs<ReferenceTensor, ReferenceSaved> {
  const g = geometryOf(layout, x.shape);
  const { mean, variance } = batchStatistics(x.data, g);
  const y = new Float64Array(g.size);
  for (let c = 0; c < g.c; c++) {
    const invStd = 1 / Math.sqrt(variance[c]! + epsilon);
    for (let n = 0; n < g.n; n++) {
      for (let s = 0; s < g.spatial; s++) {
        const i = flatIndex(g, n, c, s);
        const xHat = (x.data[i]! - mean[c]!) * invStd;
        y[i] = gamma.data[c]! * xHat + beta.data[c]!;
      }
    }
  }
  return {
    y: referenceTensor(y, x.shape),
    mean: referenceTensor(mean, [g.c]),
    variance: referenceTensor(variance, [g.c]),
    saved: { mean: mean.slice(), variance: variance.slice() },
  };
}
