import type { KernelContext } from '../context.js';
import type { GpuTensor } from '../tensor.js';
import { passWherePositive } from './reluBackward_gpu.js';

export function reluBackward(ctx: KernelContext, dy: GpuTensor, x: GpuTensor): GpuTensor {
  return ctx.run(`passWherePositive:${x.size}`, passWherePositive, { output: [x.size] }, [dy, x], x.shape);
}
