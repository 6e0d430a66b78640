import {
  geometryOf,
  type BatchNormAttrs,
  type BatchNormForwardTrainingInputs,
  type BatchNormForwardTrainingOutputs,
} from '@batchnorm/core';
import type { Device } from '../device.js';
import type { GpuTensor } from '../tensor.js';
import { batchNormGrid, gridKey } from './batchNormGrid.js';
import { addShift, normalizeWithBatchStatistics } from './batchNormForwardTraining_gpu.js';
import { featureLayoutOf, featureSums, firstValues } from './featureSums.js';

/**
 * Batch statistics in float32 without losing digits to a large offset: sums are taken of
 * `x − shift` (shift = the feature's first value), and the variance in a second pass around
 * the shifted mean — never as `E[x²] − E[x]²`.
 */
export function shiftedBatchStatistics(
  device: Device,
  x: GpuTensor,
  layout: ReturnType<typeof featureLayoutOf>,
): { shift: GpuTensor; shiftedMean: GpuTensor } {
  const shift = firstValues(device, x, layout);
  const shiftedMean = featureSums(device, { kind: 'shifted', x, shift }, layout, layout.m);
  return { shift, shiftedMean };
}

/** Paper Algorithm 1 on the device: four reductions' worth of passes and one normalize pass. */
export function batchNormForwardTraining(
  device: Device,
  { x, gamma, beta }: BatchNormForwardTrainingInputs<GpuTensor>,
  { layout, epsilon }: BatchNormAttrs,
): BatchNormForwardTrainingOutputs<GpuTensor> {
  const g = geometryOf(layout, x.shape);
  const features = featureLayoutOf(g);
  const { shift, shiftedMean } = shiftedBatchStatistics(device, x, features);
  const variance = featureSums(device, { kind: 'squaredDeviations', x, shift, shiftedMean }, features, g.m);
  const grid = batchNormGrid(g);
  const y = device.run(
    `normalizeWithBatchStatistics:${gridKey(g)}`,
    normalizeWithBatchStatistics,
    grid,
    [x, shift, shiftedMean, variance, gamma, beta, epsilon],
    x.shape,
  );
  const mean = device.run(`addShift:${g.c}`, addShift, { output: [g.c] }, [shift, shiftedMean], [g.c]);
  device.release(shift);
  device.release(shiftedMean);
  return { y, mean, variance };
}
