import type { KernelContext } from '../context.js';
import { gpuTensor } from '../tensor.js';
import type { WebGpuTensor } from '../types.js';
import { EXP_ACCURATE } from '../wgsl.js';
import { elementwiseShader, runElementwise, UNARY } from './elementwise.js';

/**
 * `1/(1 + e^(−x))`, through `e^(−|x|)` so nothing overflows: `e/(1 + e)` for negative `x`, with
 * the careful `expAccurate` (the builtin `exp` misses float32 accuracy by 8–20 ulp out in the tail).
 */
const shader = elementwiseShader(
  'sigmoid',
  { storage: UNARY, helpers: EXP_ACCURATE },
  /* wgsl */ `let v = x[e];
  let t = expAccurate(-abs(v));
  out[e] = select(t / (1.0 + t), 1.0 / (1.0 + t), v >= 0.0);`,
);

export const shaders = [shader];

export function sigmoid(ctx: KernelContext, x: WebGpuTensor): WebGpuTensor {
  return runElementwise(ctx, 'sigmoid', shader, [gpuTensor(x, 'x', ctx)]);
}
