import { describeConformance } from '@batchnorm/conformance/vitest';
import { createBackend } from './index.js';

// The whole suite with the default options (WebAssembly SIMD loops) …
describeConformance('js', () => createBackend());
// … with the JavaScript loops …
describeConformance('js (simd: false)', () => createBackend({ simd: false }));
// … on the main thread alone …
describeConformance('js (threads: 1)', () => createBackend({ threads: 1 }));
// … and with the helper thread taking half of every tensor, however small, in either loops.
describeConformance('js (threads: 2, split everything)', async () => {
  const backend = createBackend({ threads: 2, parallelMinElements: 1 });
  await backend.whenThreadsReady();
  return backend;
});
describeConformance('js (threads: 2, split everything, simd: false)', async () => {
  const backend = createBackend({ threads: 2, parallelMinElements: 1, simd: false });
  await backend.whenThreadsReady();
  return backend;
});
