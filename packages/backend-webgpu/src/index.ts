export { backendModule } from './backendModule.js';
export { createBackend } from './createBackend.js';
export type {
  GpuTimeUnavailable,
  KernelCounters,
  WebGpuBackend,
  WebGpuBackendOptions,
  WebGpuSaved,
  WebGpuStats,
  WebGpuTensor,
} from './types.js';
