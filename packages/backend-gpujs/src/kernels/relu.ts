import type { KernelContext } from '../context.js';
import type { GpuTensor } from '../tensor.js';
import { positivePart } from './relu_gpu.js';

export function relu(ctx: KernelContext, x: GpuTensor): GpuTensor {
  return ctx.run(`positivePart:${x.size}`, positivePart, { output: [x.size] }, [x], x.shape);
}
