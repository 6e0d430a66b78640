import type { Device } from '../device.js';
import type { GpuTensor } from '../tensor.js';
import { reluProgram } from './relu_gpu.js';

export function relu(device: Device, x: GpuTensor): GpuTensor {
  return device.run(`reluProgram:${x.size}`, reluProgram, { output: [x.size] }, [x], x.shape);
}
