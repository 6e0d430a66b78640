import type { BackendModule } from '@batchnorm/core';
import { createBackend } from './backend.js';

/**
 * The manifest the registry, the conformance CLI, the MNIST app and the bench load.
 * `requires: ['native-binding']`: tfjs-node's compiled binding and libtensorflow, which
 * `npx batchnorm-tfjs-node-setup` builds when tfjs-node's own install could not download them.
 */
export const backendModule = {
  name: 'tfjs-node',
  packageName: '@batchnorm/backend-tfjs-node',
  description: "float32 TensorFlow kernels (FusedBatchNormV3, FusedBatchNormGradV3) through tfjs-node's native binding",
  createBackend,
  traits: {
    residence: 'device',
    tolerance: 'float32',
    requires: ['native-binding'],
    environments: ['node'],
  },
} as const satisfies BackendModule<ReturnType<typeof createBackend>>;
