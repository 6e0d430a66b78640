import { geometryOf, type BatchNormAttrs, type BatchNormForwardInferenceInputs } from '@batchnorm/core';
import type { GpuContext, Shader } from '../context.js';
import { gpuTensor } from '../tensor.js';
import type { WebGpuTensor } from '../types.js';
import { CHANNEL_PARAMS, WORKGROUP_NUMBER, WORKGROUP_PARAMS } from '../wgsl.js';
import { channelParams, channelPlan } from './channelPlan.js';

/**
 * Paper Algorithm 2 in one dispatch, over the training kernels' chunks of each feature (so the
 * feature's constants are loaded once per workgroup and no element needs a division):
 * `y = γ·((x − E[x])·(Var[x] + ε)^(−½)) + β`. `x − E[x]` first: exact for `x` near `E[x]`, where
 * folding into `a·x + b` would cancel.
 */
const shader: Shader = {
  label: 'batchNormForwardInference',
  source: ({ workgroupSize }) => /* wgsl */ `
${CHANNEL_PARAMS}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read> variance: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(${workgroupSize})
fn main(${WORKGROUP_PARAMS}, @builtin(local_invocation_index) li: u32) {
  ${WORKGROUP_NUMBER}
  if (wid >= p.channels * p.parts) {
    return;
  }
  let c = wid / p.parts;
  let start = (wid % p.parts) * p.chunk;
  let end = min(start + p.chunk, p.m);
  let g = gamma[c];
  let b = beta[c];
  let mu = mean[c];
  let invStd = inverseSqrt(variance[c] + p.epsilon);
  var k = cursorAt(start + li);
  for (var t = start + li; t < end; t += ${workgroupSize}u) {
    let i = indexOf(c, k);
    y[i] = g * ((x[i] - mu) * invStd) + b;
    k = advance(k);
  }
}
`,
};

export const shaders = [shader];

export function batchNormForwardInference(
  ctx: GpuContext,
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
        { buffer: x.buffer(), bytes: x.bytes },
        ...vectors.map((v) => ({ buffer: v.buffer(), bytes: v.bytes })),
        { buffer: y.buffer(), bytes: y.bytes },
      ],
      workgroups: plan.workgroups,
      bytesRead: x.bytes + vectorBytes,
      bytesWritten: y.bytes,
    },
  ]);
  return y;
}
