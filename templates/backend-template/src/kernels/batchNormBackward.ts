import {
  flatIndex,
  geometryOf,
  type BatchNormAttrs,
  type BatchNormBackwardInputs,
  type BatchNormBackwardOutputs,
} from '@batchnorm/core';
import type { TemplateSaved } from '../saved.js';
import { templateTensor, type TemplateTensor } from '../tensor.js';

/**
 * The gradients of the training forward from its `saved` statistics:
 * `x̂ = (x − μ_B)·invStd`, `dβ = Σdy`, `dγ = Σdy·x̂`, and the paper's chain rule simplified to
 * `dx = (γ·invStd/m)·(m·dy − Σdy − x̂·Σdy·x̂)`.
 */
export function batchNormBackward(
  { dy, x, gamma, saved: { mean, invStd } }: BatchNormBackwardInputs<TemplateTensor, TemplateSaved>,
  { layout }: BatchNormAttrs,
): BatchNormBackwardOutputs<TemplateTensor> {
  const g = geometryOf(layout, x.shape);
  const dx = new Float64Array(g.size);
  const dgamma = new Float64Array(g.c);
  const dbeta = new Float64Array(g.c);
  for (let c = 0; c < g.c; c++) {
    const mu = mean[c]!;
    const k = invStd[c]!;
    let sumDy = 0;
    let sumDyXHat = 0;
    for (let n = 0; n < g.n; n++) {
      for (let s = 0; s < g.spatial; s++) {
        const i = flatIndex(g, n, c, s);
        sumDy += dy.data[i]!;
        sumDyXHat += dy.data[i]! * ((x.data[i]! - mu) * k);
      }
    }
    const scale = (gamma.data[c]! * k) / g.m;
    for (let n = 0; n < g.n; n++) {
      for (let s = 0; s < g.spatial; s++) {
        const i = flatIndex(g, n, c, s);
        const xHat = (x.data[i]! - mu) * k;
        dx[i] = scale * (g.m * dy.data[i]! - sumDy - xHat * sumDyXHat);
      }
    }
    dgamma[c] = sumDyXHat;
    dbeta[c] = sumDy;
  }
  return {
    dx: templateTensor(dx, x.shape),
    dgamma: templateTensor(dgamma, [g.c]),
    dbeta: templateTensor(dbeta, [g.c]),
  };
}
