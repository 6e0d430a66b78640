import {
  geometryOf,
  type BatchNormAttrs,
  type BatchNormBackwardInputs,
  type BatchNormBackwardOutputs,
} from '@batchnorm/core';
import { mapRows, reduceRows, rowView, type KernelContext } from '../context.js';
import { assertJsSaved, type JsSaved } from '../saved.js';
import type { JsTensor } from '../tensor.js';

/**
 * The simplified gradient `dx = (γ/(m·σ))·(m·dy − Σdy − x̂·Σdy·x̂)` in two sweeps: the sums
 * `Σdy`, `Σdy·(x − μ)` in float64, then `dx = a·dy + b·x + d` with per-channel constants.
 * `μ` and `σ²` are the forward's float64 statistics from `saved`.
 */
export function batchNormBackward(
  ctx: KernelContext,
  { dy, x, gamma, saved }: BatchNormBackwardInputs<JsTensor, JsSaved>,
  { layout, epsilon }: BatchNormAttrs,
): BatchNormBackwardOutputs<JsTensor> {
  const v = rowView(geometryOf(layout, x.shape));
  const { channels, inner, m } = v;
  const dys = dy.data;
  const xs = x.data;
  const gammas = gamma.valuesForMath();
  const statistics = assertJsSaved(saved, channels);
  const variances = statistics.variance;
  // Into the scratch arena (the WebAssembly heap, when on): the SIMD loops only reach arrays there.
  const means = ctx.vector(channels);
  means.set(statistics.mean);
  const [sumDy, sumDyCentered] = reduceRows(ctx, 'backwardSums', v, (r0, r1, s, p) => [
    dys, xs, channels, inner, r0, r1, means, s, p,
  ]);
  const a = ctx.vector(channels);
  const b = ctx.vector(channels);
  const d = ctx.vector(channels);
  const dgamma = new Float64Array(channels);
  const dbeta = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    const invStd = 1 / Math.sqrt(variances[c]! + epsilon);
    const g = gammas[c]!;
    dgamma[c] = sumDyCentered[c]! * invStd;
    dbeta[c] = sumDy[c]!;
    a[c] = g * invStd;
    b[c] = (-g * invStd * invStd * invStd * sumDyCentered[c]!) / m;
    d[c] = (-g * invStd * sumDy[c]!) / m - b[c]! * means[c]!;
  }
  const dx = ctx.output(x.shape, v.size);
  const dxs = dx.data;
  mapRows(ctx, 'backwardApply', v, (r0, r1) => [dys, xs, dxs, channels, inner, r0, r1, a, b, d]);
  return { dx, dgamma: ctx.vectorTensor(dgamma), dbeta: ctx.vectorTensor(dbeta) };
}
