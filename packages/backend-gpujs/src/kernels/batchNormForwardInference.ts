import { geometryOf, type BatchNormAttrs, type BatchNormForwardInferenceInputs } from '@batchnorm/core';
import type { KernelContext } from '../context.js';
import type { GpuTensor } from '../tensor.js';
import { batchNormGrid, gridKey } from './batchNormGrid.js';
import { normalizeWithRunningStatistics } from './batchNormForwardInference_gpu.js';

export function batchNormForwardInference(
  ctx: KernelContext,
  { x, gamma, beta, mean, variance }: BatchNormForwardInferenceInputs<GpuTensor>,
  { layout, epsilon }: BatchNormAttrs,
): GpuTensor {
  const g = geometryOf(layout, x.shape);
  return ctx.run(
    `normalizeWithRunningStatistics:${gridKey(g)}`,
    normalizeWithRunningStatistics,
    batchNormGrid(g),
    [x, gamma, beta, mean, variance, epsilon],
    x.shape,
  );
}
