import { BatchNorm, type Backend } from '@batchnorm/core';
import { backendModule, createBackend } from '@batchnorm/backend-js';
import { runConformancePage } from './page.js';

type JsBackend = ReturnType<typeof createBackend>;

/**
 * 2¹⁸-element training forwards (the size at which js splits a tensor across threads), until a
 * helper has taken a chunk or 50 have run: chunks go to whichever thread asks first, so a helper
 * that wakes late may miss one forward's chunks, but not fifty.
 */
async function helperChunks(backend: Backend): Promise<number> {
  const js = backend as JsBackend;
  const shape = [8, 32, 32, 32];
  const x = js.upload(Float32Array.from({ length: 8 * 32 * 32 * 32 }, (_, i) => Math.sin(i)), shape);
  const bn = new BatchNorm(js, { numFeatures: 32, layout: 'NHWC' });
  await js.whenThreadsReady();
  for (let i = 0; i < 50 && js.helperChunks() === 0; i++) {
    const y = bn.forward(x);
    await js.read(y);
    js.dispose(y);
  }
  js.dispose(x);
  bn.dispose();
  return js.helperChunks();
}

window.addEventListener('load', () =>
  setTimeout(
    () =>
      // no options: the defaults must work in any page, isolated or not
      void runConformancePage({ name: 'js', profile: backendModule.traits.tolerance, create: () => createBackend(), helperChunks }),
    0,
  ),
);
