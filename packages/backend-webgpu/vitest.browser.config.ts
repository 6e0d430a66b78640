import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['browser/**/*.test.ts'],
    // SwiftShader runs WebGPU on the CPU: the suite takes minutes on a shared machine
    testTimeout: 900_000,
    hookTimeout: 300_000,
  },
});
