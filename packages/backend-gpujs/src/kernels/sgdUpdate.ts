import type { Device } from '../device.js';
import type { GpuTensor } from '../tensor.js';
import { sgdUpdateProgram } from './sgdUpdate_gpu.js';

/** Writes a new texture (a texture cannot be read and written in one pass) and releases `param`. */
export function sgdUpdate(
  device: Device,
  param: GpuTensor,
  grad: GpuTensor,
  { learningRate }: { readonly learningRate: number },
): GpuTensor {
  const updated = device.run(`sgdUpdateProgram:${param.size}`, sgdUpdateProgram, { output: [param.size] }, [param, grad, learningRate], param.shape);
  device.release(param);
  return updated;
}
