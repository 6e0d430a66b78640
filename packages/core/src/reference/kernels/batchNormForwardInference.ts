import type { BatchNormAttrs, BatchNormForwardInferenceInputs } from '../../backend.js';
import { flatIndex, geometryOf } from '../../layout.js';
import { referenceTensor, type ReferenceTensor } from '../tensor.js';

/** Paper Algorithm 2: `y = γ·(x − E[x])/√(Var[x] + ε) + β`. */
export function batchNormForwardInference(
  { x, gamma, beta, mean, variance }: BatchNormForwardInferenceInputs<ReferenceTensor>,
  { layout, epsilon }: BatchNormAttrs,
): ReferenceTensor {
  const g = geometryOf(layout, x.shape);
  const y = new Float64Array(g.size);
  for (let c = 0; c < g.c; c++) {
    const std = Math.sqrt(variance.data[c]! + epsilon);
    for (let n = 0; n < g.n; n++) {
      for (let s = 0; s < g.spatial; s++) {
        const i = flatIndex(g, n, c, s);
        y[i] = (gamma.data[c]! * (x.data[i]! - mean.data[c]!)) / std + beta.data[c]!;
      }
    }
  }
  return referenceTensor(y, x.shape);
}
