import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // headless Chromium runs whole suites; the bundle test packs, installs and builds twice
    testTimeout: 900_000,
    hookTimeout: 600_000,
    // one Chromium at a time on a shared two-core machine
    fileParallelism: false,
    // Firefox is driven over WebDriver BiDi with Node's WebSocket (a flag on Node 20)
    execArgv: ['--experimental-websocket'],
  },
});
