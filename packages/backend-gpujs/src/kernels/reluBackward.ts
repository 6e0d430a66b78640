import type { Device } from '../device.js';
import type { GpuTensor } from '../tensor.js';
import { rectifyGradient } from './reluBackward_gpu.js';

export function reluBackward(device: Device, dy: GpuTensor, x: GpuTensor): GpuTensor {
  return device.run(`rectifyGradient:${x.size}`, rectifyGradient, { output: [x.size] }, [dy, x], x.shape);
}
