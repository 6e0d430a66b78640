import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // package.json `imports` maps #platform to dist/; the tests run the sources.
    alias: { '#platform': fileURLToPath(new URL('./src/platform.node.ts', import.meta.url)) },
  },
  test: {
    include: ['src/**/*.test.ts'],
  },
});
