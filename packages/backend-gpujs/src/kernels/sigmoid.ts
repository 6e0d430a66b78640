import type { Device } from '../device.js';
import type { GpuTensor } from '../tensor.js';
import { preciseExp } from './preciseExp_gpu.js';
import { logistic } from './sigmoid_gpu.js';

export function sigmoid(device: Device, x: GpuTensor): GpuTensor {
  return device.run(`logistic:${x.size}`, logistic, { output: [x.size], functions: [preciseExp] }, [x], x.shape);
}
