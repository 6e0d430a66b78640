import { setTensorFlowEnvironmentDefaults } from './environment.js';

// Before anything can load TensorFlow (tfjs-node itself is loaded lazily by createBackend).
setTensorFlowEnvironmentDefaults();

export { backendModule } from './backendModule.js';
export { createBackend, KERNEL_ROUTES, type TfjsNodeBackend } from './backend.js';
export { SETUP_COMMAND, tfjsNodeBindingPath } from './loader.js';
export type { TfjsSaved } from './saved.js';
export type { TfjsNodeTensor } from './tensor.js';
