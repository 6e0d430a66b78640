import type { KernelContext } from '../context.js';
import { gpuTensor } from '../tensor.js';
import type { WebGpuTensor } from '../types.js';
import { BINARY, elementwiseShader, runElementwise } from './elementwise.js';

/** `dy` where the ReLU's input `x > 0`, else 0 (a = dy, b = x); 0 at the kink, by convention. */
const shader = elementwiseShader('reluBackward', { storage: BINARY }, 'out[e] = select(0.0, a[e], b[e] > 0.0);');

export const shaders = [shader];

export function reluBackward(ctx: KernelContext, dy: WebGpuTensor, x: WebGpuTensor): WebGpuTensor {
  return runElementwise(ctx, 'reluBackward', shader, [gpuTensor(dy, 'dy', ctx), gpuTensor(x, 'x', ctx)]);
}
