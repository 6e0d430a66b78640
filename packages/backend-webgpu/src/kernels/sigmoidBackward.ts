import type { KernelContext } from '../context.js';
import { gpuTensor } from '../tensor.js';
import type { WebGpuTensor } from '../types.js';
import { BINARY, elementwiseShader, runElementwise } from './elementwise.js';

/** `dy·y·(1 − y)` from the sigmoid's output `y` (a = dy, b = y). */
const shader = elementwiseShader('sigmoidBackward', { storage: BINARY }, 'out[e] = a[e] * b[e] * (1.0 - b[e]);');

export const shaders = [shader];

export function sigmoidBackward(ctx: KernelContext, dy: WebGpuTensor, y: WebGpuTensor): WebGpuTensor {
  return runElementwise(ctx, 'sigmoidBackward', shader, [gpuTensor(dy, 'dy', ctx), gpuTensor(y, 'y', ctx)]);
}
