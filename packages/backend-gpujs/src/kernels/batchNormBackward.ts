import {
  geometryOf,
  type BatchNormAttrs,
  type BatchNormBackwardInputs,
  type BatchNormBackwardOutputs,
} from '@batchnorm/core';
import type { Device } from '../device.js';
import { savedTensors, type GpujsSaved } from '../saved.js';
import type { GpuTensor } from '../tensor.js';
import { batchNormGrid, gridKey } from './batchNormGrid.js';
import { batchNormInputGradient, scaleByInverseStd } from './batchNormBackward_gpu.js';
import { featureLayoutOf, featureSums } from './featureSums.js';

/**
 * Gradients of the training forward, from its `saved` shifted statistics: two reductions
 * (`Σdy`, `Σdy·(x − μ)`) and one elementwise pass, all on the device.
 */
export function batchNormBackward(
  device: Device,
  { dy, x, gamma, saved }: BatchNormBackwardInputs<GpuTensor, GpujsSaved>,
  { layout, epsilon }: BatchNormAttrs,
): BatchNormBackwardOutputs<GpuTensor> {
  const { shift, shiftedMean, variance } = savedTensors(saved);
  const g = geometryOf(layout, x.shape);
  const features = featureLayoutOf(g);
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
  device.release(sumDyCentered);
  return { dx, dgamma, dbeta };
}
