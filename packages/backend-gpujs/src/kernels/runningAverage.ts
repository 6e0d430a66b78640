import type { RunningAverageAttrs, RunningAverageInputs } from '@batchnorm/core';
import type { Device } from '../device.js';
import type { GpuTensor } from '../tensor.js';
import { runningAverageProgram } from './runningAverage_gpu.js';

export function runningAverage(
  device: Device,
  { running, batch }: RunningAverageInputs<GpuTensor>,
  { factor, batchScale }: RunningAverageAttrs,
): GpuTensor {
  return device.run(
    `runningAverageProgram:${running.size}`,
    runningAverageProgram,
    { output: [running.size] },
    [running, batch, factor, batchScale],
    running.shape,
  );
}
