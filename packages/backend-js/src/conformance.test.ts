import { asyncOnly } from '@batchnorm/core';
import { describeConformance } from '@batchnorm/conformance/vitest';
import { backendModule, createBackend } from './index.js';

// Judged by the tolerance profile the manifest declares, as the conformance CLI does.
const options = { profile: backendModule.traits.tolerance };

// The whole suite with the default options (WebAssembly SIMD loops) …
describeConformance('js', () => createBackend(), options);
// … with the JavaScript loops …
describeConformance('js (simd: false)', () => createBackend({ simd: false }), options);
// … on the main thread alone …
describeConformance('js (threads: 1)', () => createBackend({ threads: 1 }), options);
// … and with the helper thread taking half of every tensor, however small, in either loops.
describeConformance(
  'js (threads: 2, split everything)',
  async () => {
    const backend = createBackend({ threads: 2, parallelMinElements: 1 });
    await backend.whenThreadsReady();
    return backend;
  },
  options,
);
describeConformance(
  'js (threads: 2, split everything, simd: false)',
  async () => {
    const backend = createBackend({ threads: 2, parallelMinElements: 1, simd: false });
    await backend.whenThreadsReady();
    return backend;
  },
  options,
);
// The proof that contract v2 works without synchronous reads (issue 12): the same kernels with
// readSync and readInto hidden and every read settled on a later macrotask.
describeConformance('js (async-only reads)', () => asyncOnly(createBackend()), options);
