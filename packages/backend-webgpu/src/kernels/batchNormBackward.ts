import {
  geometryOf,
  type BatchNormAttrs,
  type BatchNormBackwardInputs,
  type BatchNormBackwardOutputs,
} from '@batchnorm/core';
import type { KernelContext } from '../context.js';
import { gpuSaved, gpuTensor } from '../tensor.js';
import type { WebGpuSaved, WebGpuTensor } from '../types.js';
import { channelParams, channelPlan, partialsFor } from './channelPlan.js';
import { batchNormBackwardApply, batchNormBackwardSums } from './batchNormBackward.wgsl.js';

export const shaders = [batchNormBackwardSums, batchNormBackwardApply];

/**
 * Gradients of the training forward in two dispatches: per-chunk `(Σdy, Σdy·x̂)`, then merge and
 * `dx`. `x̂` is recomputed from `x` and the forward's `saved`, which stays valid.
 */
export function batchNormBackward(
  ctx: KernelContext,
  inputs: BatchNormBackwardInputs<WebGpuTensor, WebGpuSaved>,
  { layout }: BatchNormAttrs,
): BatchNormBackwardOutputs<WebGpuTensor> {
  const dy = gpuTensor(inputs.dy, 'dy', ctx);
  const x = gpuTensor(inputs.x, 'x', ctx);
  const gamma = gpuTensor(inputs.gamma, 'gamma', ctx);
  ctx.assertAlive();
  const g = geometryOf(layout, x.shape);
  const saved = gpuSaved(inputs.saved, ctx, g.c);
  const plan = channelPlan(g, ctx.config.workgroupSize);
  const partials = partialsFor(ctx, plan);
  const dx = ctx.tensor(x.shape, 'dx');
  const dgamma = ctx.tensor([g.c], 'dgamma');
  const dbeta = ctx.tensor([g.c], 'dbeta');
  const params = channelParams(plan);
  const vector = g.c * 4;
  ctx.run(
    'batchNormBackward',
    [
      {
        shader: batchNormBackwardSums,
        params,
        buffers: [dy.binding, x.binding, saved.binding, partials],
        workgroups: plan.workgroups,
        bytesRead: dy.bytes + x.bytes + saved.bytes,
        bytesWritten: partials.bytes,
      },
      {
        shader: batchNormBackwardApply,
        params,
        buffers: [dy.binding, x.binding, gamma.binding, saved.binding, partials, dx.binding, dgamma.binding, dbeta.binding],
        workgroups: plan.workgroups,
        bytesRead: dy.bytes + x.bytes + vector + saved.bytes + partials.bytes * plan.parts,
        bytesWritten: dx.bytes + 2 * vector,
      },
    ],
    [partials.buffer],
  );
  return { dx, dgamma, dbeta };
}
