import {
  foldNormalization,
  geometryOf,
  type BatchNormAttrs,
  type BatchNormForwardTrainingInputs,
  type BatchNormForwardTrainingOutputs,
} from '@batchnorm/core';
import { mapRows, reduceRows, rowView, type KernelContext } from '../context.js';
import { JsSaved } from '../saved.js';
import type { JsTensor } from '../tensor.js';

/**
 * Paper Algorithm 1 in two sweeps over `x`: shifted float64 sums (statistics), then one affine
 * map per channel (`y = x·γ/σ + (β − μ·γ/σ)`). `saved` keeps the float64 statistics for backward.
 */
export function batchNormForwardTraining(
  ctx: KernelContext,
  { x, gamma, beta }: BatchNormForwardTrainingInputs<JsTensor>,
  { layout, epsilon }: BatchNormAttrs,
): BatchNormForwardTrainingOutputs<JsTensor, JsSaved> {
  const v = rowView(geometryOf(layout, x.shape));
  const xs = x.data;
  const gammas = gamma.valuesForMath();
  const betas = beta.valuesForMath();
  const { channels, inner, m } = v;
  // Shift each channel by its first value: the sums of squares then stay small and exact.
  const shift = ctx.vector(channels);
  for (let c = 0; c < channels; c++) shift[c] = xs[c * inner]!;
  const [sum, sumSq] = reduceRows(ctx, 'shiftedSums', v, (r0, r1, s, q) => [
    xs, channels, inner, r0, r1, shift, s, q,
  ]);
  const mean = new Float64Array(channels);
  const variance = new Float64Array(channels);
  const scale = ctx.vector(channels);
  const offset = ctx.vector(channels);
  for (let c = 0; c < channels; c++) {
    const meanShifted = sum[c]! / m;
    mean[c] = shift[c]! + meanShifted;
    variance[c] = Math.max(0, sumSq[c]! / m - meanShifted * meanShifted);
  }
  foldNormalization(gammas, betas, mean, variance, epsilon, scale, offset);
  const y = ctx.output(x.shape, v.size);
  const ys = y.data;
  mapRows(ctx, 'affine', v, (r0, r1) => [xs, ys, channels, inner, r0, r1, scale, offset]);
  return {
    y,
    mean: ctx.vectorTensor(mean),
    variance: ctx.vectorTensor(variance),
    // Copies: the tensors' float64 companions belong to them (sgdUpdate writes a parameter's).
    saved: new JsSaved(mean.slice(), variance.slice()),
  };
}
