import type { Device } from '../device.js';
import type { GpuTensor } from '../tensor.js';
import { reluBackwardProgram } from './reluBackward_gpu.js';

export function reluBackward(device: Device, dy: GpuTensor, x: GpuTensor): GpuTensor {
  return device.run(`reluBackwardProgram:${x.size}`, reluBackwardProgram, { output: [x.size] }, [dy, x], x.shape);
}
