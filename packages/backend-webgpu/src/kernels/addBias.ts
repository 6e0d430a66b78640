import type { KernelContext } from '../context.js';
import { gpuTensor } from '../tensor.js';
import type { WebGpuTensor } from '../types.js';
import { read, written } from '../wgsl.js';
import { elementwiseShader, runElementwise } from './elementwise.js';

const shader = elementwiseShader(
  'addBias',
  { storage: [read('x'), read('bias'), written('out')] },
  'out[e] = x[e] + bias[e % arrayLength(&bias)];',
);

export const shaders = [shader];

/** `x + bias` row by row: `[N, C] + [C]`. */
export function addBias(ctx: KernelContext, xHandle: WebGpuTensor, biasHandle: WebGpuTensor): WebGpuTensor {
  const x = gpuTensor(xHandle, 'x', ctx);
  const bias = gpuTensor(biasHandle, 'bias', ctx);
  return runElementwise(ctx, 'addBias', shader, [x, bias]);
}
