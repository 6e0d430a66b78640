import type { RunningAverageAttrs, RunningAverageInputs } from '@batchnorm/core';
import type { GpuContext } from '../context.js';
import { gpuTensor } from '../tensor.js';
import type { WebGpuTensor } from '../types.js';
import { elementwiseDispatch, elementwiseShader } from './elementwise.js';

const shader = elementwiseShader(
  'runningAverage',
  /* wgsl */ `
struct Params {
  keep: f32,
  take: f32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> running: array<f32>;
@group(0) @binding(2) var<storage, read> batch: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;`,
  'out',
  'out[e] = p.keep * running[e] + p.take * batch[e];',
);

export const shaders = [shader];

/** `(1 − factor)·running + factor·batchScale·batch`; the two weights are formed in float64. */
export function runningAverage(
  ctx: GpuContext,
  inputs: RunningAverageInputs<WebGpuTensor>,
  { factor, batchScale }: RunningAverageAttrs,
): WebGpuTensor {
  const running = gpuTensor(inputs.running, 'running', ctx);
  const batch = gpuTensor(inputs.batch, 'batch', ctx);
  ctx.assertAlive();
  const out = ctx.tensor(running.shape, 'out');
  ctx.run('runningAverage', [
    elementwiseDispatch(
      ctx,
      shader,
      [
        { buffer: running.buffer(), bytes: running.bytes },
        { buffer: batch.buffer(), bytes: batch.bytes },
        { buffer: out.buffer(), bytes: out.bytes },
      ],
      out.size,
      running.bytes + batch.bytes,
      out.bytes,
      [
        ['f32', 1 - factor],
        ['f32', factor * batchScale],
      ],
    ),
  ]);
  return out;
}
