import {
  flatIndex,
  geometryOf,
  type BatchNormAttrs,
  type BatchNormForwardTrainingInputs,
  type BatchNormForwardTrainingOutputs,
} from '@batchnorm/core';
import type { TemplateSaved } from '../saved.js';
import { templateTensor, type TemplateTensor } from '../tensor.js';

/**
 * Paper Algorithm 1 on one mini-batch: per feature, `μ_B`, the biased `σ²_B` (two passes, never
 * `E[x²] − E[x]²`), `y = γ·(x − μ_B)/√(σ²_B + ε) + β`. Any layout: `geometryOf` reduces it to
 * `[N, C, spatial]` or `[N, spatial, C]`; `flatIndex` is clear, a fast kernel walks memory in
 * its own order (branching on `g.channelsLast`, never on the layout's name).
 */
export function batchNormForwardTraining(
  { x, gamma, beta }: BatchNormForwardTrainingInputs<TemplateTensor>,
  { layout, epsilon }: BatchNormAttrs,
): BatchNormForwardTrainingOutputs<TemplateTensor, TemplateSaved> {
  const g = geometryOf(layout, x.shape);
  const mean = new Float64Array(g.c);
  const variance = new Float64Array(g.c);
  const invStd = new Float64Array(g.c);
  const y = new Float64Array(g.size);
  for (let c = 0; c < g.c; c++) {
    let sum = 0;
    for (let n = 0; n < g.n; n++) for (let s = 0; s < g.spatial; s++) sum += x.data[flatIndex(g, n, c, s)]!;
    const mu = sum / g.m;
    let squares = 0;
    for (let n = 0; n < g.n; n++) {
      for (let s = 0; s < g.spatial; s++) {
        const d = x.data[flatIndex(g, n, c, s)]! - mu;
        squares += d * d;
      }
    }
    mean[c] = mu;
    variance[c] = squares / g.m;
    invStd[c] = 1 / Math.sqrt(variance[c]! + epsilon);
    for (let n = 0; n < g.n; n++) {
      for (let s = 0; s < g.spatial; s++) {
        const i = flatIndex(g, n, c, s);
        y[i] = gamma.data[c]! * ((x.data[i]! - mu) * invStd[c]!) + beta.data[c]!;
      }
    }
  }
  return {
    y: templateTensor(y, x.shape),
    mean: templateTensor(mean, [g.c]),
    variance: templateTensor(variance, [g.c]),
    saved: { mean: mean.slice(), invStd },
  };
}
