import type { BackendModule } from '@batchnorm/core';
import { createBackend } from './backend.js';
import type { WebGpuBackend } from './types.js';

/** This package's manifest: what the registry, conformance, the MNIST app and the bench load. */
export const backendModule = {
  name: 'webgpu',
  packageName: '@batchnorm/backend-webgpu',
  description: 'float32 on a GPU through WebGPU (browsers; Dawn in Node): WGSL kernels, deterministic two-pass statistics, asynchronous reads',
  createBackend,
  traits: { residence: 'device', tolerance: 'float32', requires: ['webgpu-adapter'], environments: ['node', 'browser'] },
} as const satisfies BackendModule<WebGpuBackend>;
