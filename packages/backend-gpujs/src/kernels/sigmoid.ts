import type { Device } from '../device.js';
import type { GpuTensor } from '../tensor.js';
import { EXP_REDUCTION } from './expReduction.js';
import { logistic } from './sigmoid_gpu.js';

export function sigmoid(device: Device, x: GpuTensor): GpuTensor {
  return device.run(`logistic:${x.size}`, logistic, { output: [x.size], constants: EXP_REDUCTION }, [x], x.shape);
}
