import { setTensorFlowEnvironmentDefaults } from './environment.js';

// Before anything can load TensorFlow (tfjs-node itself is loaded lazily by createBackend).
setTensorFlowEnvironmentDefaults();

export { backendName, createBackend, KERNEL_ROUTES } from './backend.js';
export { SETUP_COMMAND, tfjsNodeBindingPath } from './loader.js';
export type { TfjsNodeTensor } from './tensor.js';
