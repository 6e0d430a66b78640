import type { Device } from '../device.js';
import type { GpuTensor } from '../tensor.js';
import { rectify } from './relu_gpu.js';

export function relu(device: Device, x: GpuTensor): GpuTensor {
  return device.run(`rectify:${x.size}`, rectify, { output: [x.size] }, [x], x.shape);
}
