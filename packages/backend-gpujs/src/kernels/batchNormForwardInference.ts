import { geometryOf, type BatchNormAttrs, type BatchNormForwardInferenceInputs } from '@batchnorm/core';
import type { Device } from '../device.js';
import type { GpuTensor } from '../tensor.js';
import { batchNormGrid, gridKey } from './batchNormGrid.js';
import { batchNormForwardInferenceProgram } from './batchNormForwardInference_gpu.js';

export function batchNormForwardInference(
  device: Device,
  { x, gamma, beta, mean, variance }: BatchNormForwardInferenceInputs<GpuTensor>,
  { layout, epsilon }: BatchNormAttrs,
): GpuTensor {
  const g = geometryOf(layout, x.shape);
  return device.run(
    `batchNormForwardInferenceProgram:${gridKey(g)}`,
    batchNormForwardInferenceProgram,
    batchNormGrid(g),
    [x, gamma, beta, mean, variance, epsilon],
    x.shape,
  );
}
