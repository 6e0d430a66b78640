import type { BackendModule } from '@batchnorm/core';
import { createBackend } from './backend.js';

/**
 * The manifest the registry, the conformance CLI, the MNIST app and the bench load.
 * `requires: ['display']`: in Node, the GPU path is headless-gl, which needs an X display (tools
 * run it under `xvfb-run -a`). A browser's WebGL needs none, and mode `cpu` runs anywhere; the
 * trait states what the default Node run needs.
 */
export const backendModule = {
  name: 'gpujs',
  packageName: '@batchnorm/backend-gpujs',
  description:
    'float32 gpu.js kernels on WebGL (browser) or headless-gl (Node, needs an X display; mode "cpu" and browsers do not)',
  createBackend,
  traits: {
    residence: 'device',
    tolerance: 'float32-gpu',
    requires: ['display'],
    environments: ['node', 'browser'],
  },
} as const satisfies BackendModule<ReturnType<typeof createBackend>>;
