export { backendModule } from './backendModule.js';
export { createBackend, type GpuJsBackend, type GpuJsBackendOptions } from './backend.js';
export { resolveMode, GPU_JS_MODES, type GpuJsMode, type GpuJsModeOption } from './modes.js';
export type { GpujsSaved } from './saved.js';
export type { DeviceTexture, GpuTensor } from './tensor.js';
