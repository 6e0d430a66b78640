import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Loading TensorFlow (~800 MB of library) takes seconds on a busy shared machine.
    hookTimeout: 60_000,
    testTimeout: 60_000,
  },
});
