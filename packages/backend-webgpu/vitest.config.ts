import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // WGSL compiles to GLSL and then through Mesa's llvmpipe, which runs on the CPU: one test file
    // (one Dawn device) at a time on a shared machine, with room for slow compiles.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
