import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // four full tsc runs with skipLibCheck off, on a shared 2-core machine
    testTimeout: 180_000,
  },
});
