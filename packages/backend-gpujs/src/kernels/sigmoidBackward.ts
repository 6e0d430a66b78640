import type { Device } from '../device.js';
import type { GpuTensor } from '../tensor.js';
import { sigmoidBackwardProgram } from './sigmoidBackward_gpu.js';

export function sigmoidBackward(device: Device, dy: GpuTensor, y: GpuTensor): GpuTensor {
  return device.run(`sigmoidBackwardProgram:${y.size}`, sigmoidBackwardProgram, { output: [y.size] }, [dy, y], y.shape);
}
