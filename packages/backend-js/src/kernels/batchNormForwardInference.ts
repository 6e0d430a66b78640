import {
  foldNormalization,
  geometryOf,
  type BatchNormAttrs,
  type BatchNormForwardInferenceInputs,
} from '@batchnorm/core';
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
  // float64 constants: the loops compute x·scale + offset in float64 and round once
  const scale = ctx.vector(channels);
  const offset = ctx.vector(channels);
  foldNormalization(
    gamma.valuesForMath(),
    beta.valuesForMath(),
    mean.valuesForMath(),
    variance.valuesForMath(),
    epsilon,
    scale,
    offset,
  );
  const xs = x.data;
  const y = ctx.output(x.shape, v.size);
  const ys = y.data;
  mapRows(ctx, 'affine', v, (r0, r1) => [xs, ys, channels, inner, r0, r1, scale, offset]);
  return y;
}
