import type { KernelContext } from '../context.js';
import type { GpuTensor } from '../tensor.js';
import { addBiasPerColumn } from './addBias_gpu.js';

export function addBias(ctx: KernelContext, x: GpuTensor, bias: GpuTensor): GpuTensor {
  const [rows = 0, cols = 0] = x.shape;
  return ctx.run(`addBiasPerColumn:${rows}x${cols}`, addBiasPerColumn, { output: [cols, rows], constants: { cols } }, [x, bias], x.shape);
}
