import type { KernelContext } from '../context.js';
import { gpuTensor } from '../tensor.js';
import type { WebGpuTensor } from '../types.js';
import { elementwiseShader, runElementwise, UNARY } from './elementwise.js';

/** `x` where `x > 0`, else +0 (also for −0 and NaN, as the reference). */
const shader = elementwiseShader('relu', { storage: UNARY }, 'out[e] = select(0.0, x[e], x[e] > 0.0);');

export const shaders = [shader];

export function relu(ctx: KernelContext, x: WebGpuTensor): WebGpuTensor {
  return runElementwise(ctx, 'relu', shader, [gpuTensor(x, 'x', ctx)]);
}
