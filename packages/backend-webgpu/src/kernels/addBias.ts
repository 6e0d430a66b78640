import type { GpuContext } from '../context.js';
import { gpuTensor } from '../tensor.js';
import type { WebGpuTensor } from '../types.js';
import { elementwiseDispatch, elementwiseShader } from './elementwise.js';

const shader = elementwiseShader(
  'addBias',
  /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;`,
  'out',
  'out[e] = x[e] + bias[e % arrayLength(&bias)];',
);

export const shaders = [shader];

/** `x + bias` row by row: `[N, C] + [C]`. */
export function addBias(ctx: GpuContext, xHandle: WebGpuTensor, biasHandle: WebGpuTensor): WebGpuTensor {
  const x = gpuTensor(xHandle, 'x', ctx);
  const bias = gpuTensor(biasHandle, 'bias', ctx);
  ctx.assertAlive();
  const out = ctx.tensor(x.shape, 'out');
  ctx.run('addBias', [
    elementwiseDispatch(
      ctx,
      shader,
      [
        { buffer: x.buffer(), bytes: x.bytes },
        { buffer: bias.buffer(), bytes: bias.bytes },
        { buffer: out.buffer(), bytes: out.bytes },
      ],
      out.size,
      x.bytes + bias.bytes,
      out.bytes,
    ),
  ]);
  return out;
}
