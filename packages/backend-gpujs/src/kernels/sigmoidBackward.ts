import type { KernelContext } from '../context.js';
import type { GpuTensor } from '../tensor.js';
import { logisticGradient } from './sigmoidBackward_gpu.js';

export function sigmoidBackward(ctx: KernelContext, dy: GpuTensor, y: GpuTensor): GpuTensor {
  return ctx.run(`logisticGradient:${y.size}`, logisticGradient, { output: [y.size] }, [dy, y], y.shape);
}
