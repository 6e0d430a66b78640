import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Shaders compile under Mesa's software renderer on a shared machine: seconds, not ms.
    testTimeout: 120_000,
  },
});
