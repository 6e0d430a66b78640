import type { Device } from '../device.js';
import type { GpuTensor } from '../tensor.js';
import { logisticGradient } from './sigmoidBackward_gpu.js';

export function sigmoidBackward(device: Device, dy: GpuTensor, y: GpuTensor): GpuTensor {
  return device.run(`logisticGradient:${y.size}`, logisticGradient, { output: [y.size] }, [dy, y], y.shape);
}
