import {
  geometryOf,
  type BatchNormAttrs,
  type BatchNormForwardTrainingInputs,
  type BatchNormForwardTrainingOutputs,
} from '@batchnorm/core';
import type { KernelContext } from '../context.js';
import { gpuTensor, type GpuSaved } from '../tensor.js';
import type { WebGpuTensor } from '../types.js';
import { channelParams, channelPlan, partialsFor } from './channelPlan.js';
import { batchNormNormalize, batchNormStatistics } from './batchNormForwardTraining.wgsl.js';

export const shaders = [batchNormStatistics, batchNormNormalize] as const;

/**
 * Paper Algorithm 1 in two dispatches: per-chunk shifted sums, then merge and normalize. Writes
 * `y`, `mean`, the biased `variance` and `saved`; nothing is read back.
 */
export function batchNormForwardTraining(
  ctx: KernelContext,
  inputs: BatchNormForwardTrainingInputs<WebGpuTensor>,
  { layout, epsilon }: BatchNormAttrs,
  // tests swap in variants (the unshifted one-pass sums) to show what the shift is for
  [statistics, normalize] = shaders,
): BatchNormForwardTrainingOutputs<WebGpuTensor, GpuSaved> {
  const x = gpuTensor(inputs.x, 'x', ctx);
  const gamma = gpuTensor(inputs.gamma, 'gamma', ctx);
  const beta = gpuTensor(inputs.beta, 'beta', ctx);
  ctx.assertAlive();
  const g = geometryOf(layout, x.shape);
  const plan = channelPlan(g, ctx.config.workgroupSize);
  const partials = partialsFor(ctx, plan);
  const y = ctx.tensor(x.shape, 'y');
  const mean = ctx.tensor([g.c], 'mean');
  const variance = ctx.tensor([g.c], 'variance');
  const saved = ctx.saved(g.c);
  const params = channelParams(plan, epsilon);
  const vector = g.c * 4;
  ctx.run(
    'batchNormForwardTraining',
    [
      {
        shader: statistics,
        params,
        buffers: [x.binding, partials],
        workgroups: plan.workgroups,
        bytesRead: x.bytes,
        bytesWritten: partials.bytes,
      },
      {
        shader: normalize,
        params,
        buffers: [x.binding, gamma.binding, beta.binding, partials, y.binding, saved.binding, mean.binding, variance.binding],
        workgroups: plan.workgroups,
        bytesRead: x.bytes + 2 * vector + partials.bytes * plan.parts,
        bytesWritten: y.bytes + saved.bytes + 2 * vector,
      },
    ],
    [partials.buffer],
  );
  return { y, mean, variance, saved };
}
