import type { KernelContext } from '../context.js';
import type { GpuTensor } from '../tensor.js';
import { stepAgainstGradient } from './sgdUpdate_gpu.js';

/** Writes a new texture (a texture cannot be read and written in one pass) and releases `param`. */
export function sgdUpdate(
  ctx: KernelContext,
  param: GpuTensor,
  grad: GpuTensor,
  { learningRate }: { readonly learningRate: number },
): GpuTensor {
  const updated = ctx.run(`stepAgainstGradient:${param.size}`, stepAgainstGradient, { output: [param.size] }, [param, grad, learningRate], param.shape);
  ctx.release(param);
  return updated;
}
