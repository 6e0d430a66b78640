import {
  flatIndex,
  geometryOf,
  type BatchNormAttrs,
  type BatchNormForwardInferenceInputs,
} from '@batchnorm/core';
import { templateTensor, type TemplateTensor } from '../tensor.js';

/** Paper Algorithm 2: `y = γ·(x − E[x])/√(Var[x] + ε) + β` with the population statistics given. */
export function batchNormForwardInference(
  { x, gamma, beta, mean, variance }: BatchNormForwardInferenceInputs<TemplateTensor>,
  { layout, epsilon }: BatchNormAttrs,
): TemplateTensor {
  const g = geometryOf(layout, x.shape);
  const y = new Float64Array(g.size);
  for (let c = 0; c < g.c; c++) {
    const invStd = 1 / Math.sqrt(variance.data[c]! + epsilon);
    for (let n = 0; n < g.n; n++) {
      for (let s = 0; s < g.spatial; s++) {
        const i = flatIndex(g, n, c, s);
        y[i] = gamma.data[c]! * ((x.data[i]! - mean.data[c]!) * invStd) + beta.data[c]!;
      }
    }
  }
  return templateTensor(y, x.shape);
}
