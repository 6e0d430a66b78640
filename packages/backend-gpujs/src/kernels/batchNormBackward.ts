import {
  geometryOf,
  type BatchNormAttrs,
  type BatchNormBackwardInputs,
  type BatchNormBackwardOutputs,
} from '@batchnorm/core';
import type { Device } from '../device.js';
import type { GpuTensor } from '../tensor.js';
import { batchNormGrid, gridKey } from './batchNormGrid.js';
import { batchNormInputGradient, scaleByInverseStd } from './batchNormBackward_gpu.js';
import { shiftedBatchStatistics } from './batchNormForwardTraining.js';
import { featureLayoutOf, featureSums } from './featureSums.js';

/**
 * Gradients of the training forward. The mean is recomputed from `x` in shifted form (one
 * reduction): `x − μ` with a float32 `μ` near a large offset would lose the digits that
 * `x̂` needs (at 1e4 a float32 step is 1e-3).
 */
export function batchNormBackward(
  device: Device,
  { dy, x, gamma, variance }: BatchNormBackwardInputs<GpuTensor>,
  { layout, epsilon }: BatchNormAttrs,
): BatchNormBackwardOutputs<GpuTensor> {
  const g = geometryOf(layout, x.shape);
  const features = featureLayoutOf(g);
  const { shift, shiftedMean } = shiftedBatchStatistics(device, x, features);
  const dbeta = featureSums(device, { kind: 'values', x: dy }, features);
  const sumDyCentered = featureSums(device, { kind: 'centeredProducts', dy, x, shift, shiftedMean }, features);
  const dx = device.run(
    `batchNormInputGradient:${gridKey(g)}`,
    batchNormInputGradient,
    batchNormGrid(g),
    [dy, x, gamma, variance, shift, shiftedMean, dbeta, sumDyCentered, epsilon, g.m],
    x.shape,
  );
  const dgamma = device.run(
    `scaleByInverseStd:${g.c}`,
    scaleByInverseStd,
    { output: [g.c] },
    [sumDyCentered, variance, epsilon],
    [g.c],
  );
  device.release(shift);
  device.release(shiftedMean);
  device.release(sumDyCentered);
  return { dx, dgamma, dbeta };
}
