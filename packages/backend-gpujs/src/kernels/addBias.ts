import type { Device } from '../device.js';
import type { GpuTensor } from '../tensor.js';
import { addBiasProgram } from './addBias_gpu.js';

export function addBias(device: Device, x: GpuTensor, bias: GpuTensor): GpuTensor {
  const [rows = 0, cols = 0] = x.shape;
  return device.run(`addBiasProgram:${rows}x${cols}`, addBiasProgram, { output: [cols, rows], constants: { cols } }, [x, bias], x.shape);
}
