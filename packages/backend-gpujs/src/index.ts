export { backendName, createBackend, type GpuJsBackend, type GpuJsBackendOptions } from './createBackend.js';
export { resolveMode, GPU_JS_MODES, type GpuJsMode, type GpuJsModeOption } from './modes.js';
export type { GpuTensor } from './tensor.js';
