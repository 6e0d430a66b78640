import { geometryOf, type BatchNormAttrs, type BatchNormForwardInferenceInputs } from '@batchnorm/core';
import { mapRows, rowView, type KernelContext } from '../context.js';
import type { JsTensor } from '../tensor.js';

/** Paper Algorithm 2, folded into one affine map per channel: `y = a·x + b`, one sweep. */
export function batchNormForwardInference(
  ctx: KernelContext,
  { x, gamma, beta, mean, variance }: BatchNormForwardInferenceInputs<JsTensor>,
  { layout, epsilon }: BatchNormAttrs,
): JsTensor {
  const v = rowView(geometryOf(layout, x.shape));
  const { channels, inner } = v;
  const gammas = gamma.precise();
  const betas = beta.precise();
  const means = mean.precise();
  const variances = variance.precise();
  const scale = ctx.vector(channels);
  const offset = ctx.vector(channels);
  for (let c = 0; c < channels; c++) {
    scale[c] = gammas[c]! / Math.sqrt(variances[c]! + epsilon);
    offset[c] = betas[c]! - means[c]! * scale[c]!;
  }
  const xs = x.data;
  const y = ctx.output(x.shape, v.size);
  const ys = y.data;
  mapRows(ctx, 'affine', v, (r0, r1) => [xs, ys, channels, inner, r0, r1, scale, offset]);
  return y;
}
