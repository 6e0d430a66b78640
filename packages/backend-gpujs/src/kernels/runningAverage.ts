import type { RunningAverageAttrs, RunningAverageInputs } from '@batchnorm/core';
import type { KernelContext } from '../context.js';
import type { GpuTensor } from '../tensor.js';
import { blendRunningAverage } from './runningAverage_gpu.js';

export function runningAverage(
  ctx: KernelContext,
  { running, batch }: RunningAverageInputs<GpuTensor>,
  { factor, batchScale }: RunningAverageAttrs,
): GpuTensor {
  return ctx.run(
    `blendRunningAverage:${running.size}`,
    blendRunningAverage,
    { output: [running.size] },
    [running, batch, factor, batchScale],
    running.shape,
  );
}
