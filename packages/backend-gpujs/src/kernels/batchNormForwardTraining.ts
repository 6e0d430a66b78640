import {
  geometryOf,
  type BatchNormAttrs,
  type BatchNormForwardTrainingInputs,
  type BatchNormForwardTrainingOutputs,
} from '@batchnorm/core';
import type { KernelContext } from '../context.js';
import type { GpujsSaved } from '../saved.js';
import type { GpuTensor } from '../tensor.js';
import { batchNormGrid, gridKey } from './batchNormGrid.js';
import { addShift, normalizeWithBatchStatistics } from './batchNormForwardTraining_gpu.js';
import { copyValues } from './copy_gpu.js';
import { featureLayoutOf, featureSums, firstValues } from './featureSums.js';

/**
 * Paper Algorithm 1 on the device. Batch statistics in float32 without losing digits to a large
 * offset: sums are taken of `x − shift` (shift = the feature's first value), and the variance in
 * a second pass around the shifted mean — never as `E[x²] − E[x]²`. The shifted statistics go
 * into `saved`, so backward needs no reduction over `x` of its own.
 */
export function batchNormForwardTraining(
  ctx: KernelContext,
  { x, gamma, beta }: BatchNormForwardTrainingInputs<GpuTensor>,
  { layout, epsilon }: BatchNormAttrs,
): BatchNormForwardTrainingOutputs<GpuTensor, GpujsSaved> {
  const g = geometryOf(layout, x.shape);
  const features = featureLayoutOf(g);
  const shift = firstValues(ctx, x, features);
  const shiftedMean = featureSums(ctx, { kind: 'shifted', x, shift }, features, g.m);
  const variance = featureSums(ctx, { kind: 'squaredDeviations', x, shift, shiftedMean }, features, g.m);
  const y = ctx.run(
    `normalizeWithBatchStatistics:${gridKey(g)}`,
    normalizeWithBatchStatistics,
    batchNormGrid(g),
    [x, shift, shiftedMean, variance, gamma, beta, epsilon],
    x.shape,
  );
  const mean = ctx.run(`addShift:${g.c}`, addShift, { output: [g.c] }, [shift, shiftedMean], [g.c]);
  // The caller owns `variance` and may dispose it: `saved` keeps a texture of its own.
  const savedVariance = ctx.run(`copyValues:${g.c}`, copyValues, { output: [g.c] }, [variance], [g.c]);
  return { y, mean, variance, saved: { shift, shiftedMean, variance: savedVariance } };
}
