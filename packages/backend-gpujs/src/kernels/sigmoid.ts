import type { KernelContext } from '../context.js';
import type { GpuTensor } from '../tensor.js';
import { EXP_REDUCTION } from './expReduction.js';
import { logistic } from './sigmoid_gpu.js';

export function sigmoid(ctx: KernelContext, x: GpuTensor): GpuTensor {
  return ctx.run(`logistic:${x.size}`, logistic, { output: [x.size], constants: EXP_REDUCTION }, [x], x.shape);
}
