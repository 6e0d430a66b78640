import {
  geometryOf,
  type BatchNormAttrs,
  type BatchNormBackwardInputs,
  type BatchNormBackwardOutputs,
} from '@batchnorm/core';
import type { KernelContext } from '../context.js';
import type { GpujsSaved } from '../saved.js';
import type { GpuTensor } from '../tensor.js';
import { batchNormGrid, gridKey } from './batchNormGrid.js';
import { batchNormInputGradient, scaleByInverseStd } from './batchNormBackward_gpu.js';
import { featureLayoutOf, featureSums } from './featureSums.js';

/**
 * Gradients of the training forward, from its `saved` shifted statistics: two reductions
 * (`Σdy`, `Σdy·(x − μ)`) and one elementwise pass, all on the device.
 */
export function batchNormBackward(
  ctx: KernelContext,
  { dy, x, gamma, saved }: BatchNormBackwardInputs<GpuTensor, GpujsSaved>,
  { layout, epsilon }: BatchNormAttrs,
): BatchNormBackwardOutputs<GpuTensor> {
  // A released `saved` never gets here: the backend's HandleRegistry refuses it (INVALID_HANDLE)
  const { shift, shiftedMean, variance } = saved;
  const g = geometryOf(layout, x.shape);
  const features = featureLayoutOf(g);
  const dbeta = featureSums(ctx, { kind: 'values', x: dy }, features);
  const sumDyCentered = featureSums(ctx, { kind: 'centeredProducts', dy, x, shift, shiftedMean }, features);
  const dx = ctx.run(
    `batchNormInputGradient:${gridKey(g)}`,
    batchNormInputGradient,
    batchNormGrid(g),
    [dy, x, gamma, variance, shift, shiftedMean, dbeta, sumDyCentered, epsilon, g.m],
    x.shape,
  );
  const dgamma = ctx.run(
    `scaleByInverseStd:${g.c}`,
    scaleByInverseStd,
    { output: [g.c] },
    [sumDyCentered, variance, epsilon],
    [g.c],
  );
  ctx.release(sumDyCentered);
  return { dx, dgamma, dbeta };
}
