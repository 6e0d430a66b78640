export { backendModule } from './backendModule.js';
export { createBackend } from './backend.js';
export type {
  GpuTimeUnavailable,
  KernelCounters,
  WebGpuBackend,
  WebGpuBackendOptions,
  WebGpuSaved,
  WebGpuStats,
  WebGpuTensor,
} from './types.js';
