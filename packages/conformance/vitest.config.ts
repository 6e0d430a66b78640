import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // the suites run hundreds of cases and child processes; the machine is shared
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
