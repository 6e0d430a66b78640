import { setTensorFlowEnvironmentDefaults } from './environment.js';

// Before anything can load TensorFlow (tfjs-node itself is loaded lazily by createBackend).
setTensorFlowEnvironmentDefaults();

export { backendModule } from './backendModule.js';
export { createBackend, KERNEL_ROUTES } from './backend.js';
export { SETUP_COMMAND, tfjsNodeBindingPath } from './binding.js';
export type { TensorFlowTensor, TfjsNodeBackend, TfjsNodeBackendOptions, TfjsNodeTensor, TfjsSaved } from './types.js';
