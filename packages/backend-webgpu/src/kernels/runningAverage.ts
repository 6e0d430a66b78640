import type { RunningAverageAttrs, RunningAverageInputs } from '@batchnorm/core';
import type { KernelContext } from '../context.js';
import { gpuTensor } from '../tensor.js';
import type { WebGpuTensor } from '../types.js';
import { read, written, paramsStruct } from '../wgsl.js';
import { elementwiseShader, runElementwise } from './elementwise.js';

const shader = elementwiseShader(
  'runningAverage',
  { params: paramsStruct('keep: f32', 'take: f32'), storage: [read('running'), read('batch'), written('out')] },
  'out[e] = p.keep * running[e] + p.take * batch[e];',
);

export const shaders = [shader];

/** `(1 − factor)·running + factor·batchScale·batch`; the two weights are formed in float64. */
export function runningAverage(
  ctx: KernelContext,
  inputs: RunningAverageInputs<WebGpuTensor>,
  { factor, batchScale }: RunningAverageAttrs,
): WebGpuTensor {
  const running = gpuTensor(inputs.running, 'running', ctx);
  const batch = gpuTensor(inputs.batch, 'batch', ctx);
  return runElementwise(ctx, 'runningAverage', shader, [running, batch], [
    ['f32', 1 - factor],
    ['f32', factor * batchScale],
  ]);
}
