import { geometryOf, type BatchNormAttrs, type BatchNormForwardInferenceInputs } from '@batchnorm/core';
import type { KernelContext } from '../context.js';
import { gpuTensor } from '../tensor.js';
import type { WebGpuTensor } from '../types.js';
import { read, written } from '../wgsl.js';
import { channelParams, channelPlan } from './channelPlan.js';
import { channelSweep } from './channelShader.js';

/**
 * Paper Algorithm 2 in one dispatch, over the training kernels' chunks of each feature (so the
 * feature's constants are loaded once per workgroup and no element needs a division):
 * `y = γ·((x − E[x])·(Var[x] + ε)^(−½)) + β`. `x − E[x]` first: exact for `x` near `E[x]`, where
 * folding into `a·x + b` would cancel.
 */
const shader = channelSweep({
  label: 'batchNormForwardInference',
  storage: [read('x'), read('gamma'), read('beta'), read('mean'), read('variance'), written('y')],
  merge: false,
  setup: /* wgsl */ `let g = gamma[c];
  let b = beta[c];
  let mu = mean[c];
  let invStd = inverseSqrt(variance[c] + p.epsilon);`,
  each: 'y[i] = g * ((x[i] - mu) * invStd) + b;',
});

export const shaders = [shader];

export function batchNormForwardInference(
  ctx: KernelContext,
  inputs: BatchNormForwardInferenceInputs<WebGpuTensor>,
  { layout, epsilon }: BatchNormAttrs,
): WebGpuTensor {
  const x = gpuTensor(inputs.x, 'x', ctx);
  const vectors = (['gamma', 'beta', 'mean', 'variance'] as const).map((key) => gpuTensor(inputs[key], key, ctx));
  ctx.assertAlive();
  const g = geometryOf(layout, x.shape);
  const plan = channelPlan(g, ctx.config.workgroupSize);
  const y = ctx.tensor(x.shape, 'y');
  const vectorBytes = vectors.reduce((total, v) => total + v.bytes, 0);
  ctx.run('batchNormForwardInference', [
    {
      shader,
      params: channelParams(plan, epsilon),
      buffers: [
        x.binding,
        ...vectors.map((v) => (v.binding)),
        y.binding,
      ],
      workgroups: plan.workgroups,
      bytesRead: x.bytes + vectorBytes,
      bytesWritten: y.bytes,
    },
  ]);
  return y;
}
