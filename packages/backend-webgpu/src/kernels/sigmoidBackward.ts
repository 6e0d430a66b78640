import type { GpuContext } from '../context.js';
import { gpuTensor } from '../tensor.js';
import type { WebGpuTensor } from '../types.js';
import { BINARY, elementwiseShader, runBinary } from './elementwise.js';

/** `dy·y·(1 − y)` from the sigmoid's output `y` (a = dy, b = y). */
const shader = elementwiseShader('sigmoidBackward', BINARY, 'out', 'out[e] = a[e] * b[e] * (1.0 - b[e]);');

export const shaders = [shader];

export function sigmoidBackward(ctx: GpuContext, dy: WebGpuTensor, y: WebGpuTensor): WebGpuTensor {
  return runBinary(ctx, 'sigmoidBackward', shader, gpuTensor(dy, 'dy', ctx), gpuTensor(y, 'y', ctx));
}
