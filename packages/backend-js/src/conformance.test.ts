import { describeConformance } from '@batchnorm/conformance/vitest';
import { createBackend } from './index.js';

// The whole suite with the default options …
describeConformance('js', () => createBackend());
// … on the main thread alone …
describeConformance('js (threads: 1)', () => createBackend({ threads: 1 }));
// … and with the helper thread taking half of every tensor, however small.
describeConformance('js (threads: 2, split everything)', async () => {
  const backend = createBackend({ threads: 2, parallelMinElements: 1 });
  await backend.whenThreadsReady();
  return backend;
});
