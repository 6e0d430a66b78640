import { geometryOf, type BatchNormAttrs, type BatchNormForwardInferenceInputs } from '@batchnorm/core';
import type { Device } from '../device.js';
import type { GpuTensor } from '../tensor.js';
import { batchNormGrid, gridKey } from './batchNormGrid.js';
import { normalizeWithPopulationStatistics } from './batchNormForwardInference_gpu.js';

export function batchNormForwardInference(
  device: Device,
  { x, gamma, beta, mean, variance }: BatchNormForwardInferenceInputs<GpuTensor>,
  { layout, epsilon }: BatchNormAttrs,
): GpuTensor {
  const g = geometryOf(layout, x.shape);
  return device.run(
    `normalizeWithPopulationStatistics:${gridKey(g)}`,
    normalizeWithPopulationStatistics,
    batchNormGrid(g),
    [x, gamma, beta, mean, variance, epsilon],
    x.shape,
  );
}
