import { knownBackendNames } from '@batchnorm/core';
import { defineConfig } from 'vitest/config';

/**
 * One project per backend (the reference, then core's KNOWN_BACKENDS): each runs the tests in its
 * own process, with BATCHNORM_INTEROP_BACKEND naming it. Native engines do not share a process:
 * headless-gl (gpujs) and Dawn on OpenGL (webgpu) cannot both have a context in one (whichever
 * comes second fails: no adapter, or an X error that ends the process).
 */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    pool: 'forks',
    isolate: true,
    // GPU backends compile kernels on first use, on a shared 2-core machine
    testTimeout: 120_000,
    hookTimeout: 180_000,
    projects: knownBackendNames().map((name) => ({
      extends: true,
      test: { name, env: { BATCHNORM_INTEROP_BACKEND: name } },
    })),
  },
});
