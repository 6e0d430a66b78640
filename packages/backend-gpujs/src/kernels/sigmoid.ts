import type { Device } from '../device.js';
import type { GpuTensor } from '../tensor.js';
import { EXP_REDUCTION } from './expReduction.js';
import { sigmoidProgram } from './sigmoid_gpu.js';

export function sigmoid(device: Device, x: GpuTensor): GpuTensor {
  return device.run(`sigmoidProgram:${x.size}`, sigmoidProgram, { output: [x.size], constants: EXP_REDUCTION }, [x], x.shape);
}
