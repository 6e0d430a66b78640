import { createReferenceBackend, type Backend } from '@batchnorm/core';
import type { CaseResult } from '@batchnorm/conformance';
import { allClose } from '@batchnorm/conformance/testing';
import { backendModule, createBackend } from '@batchnorm/backend-gpujs';
// gpujs's own MLP step, written once against the contract, as its Node tests run it
import { trainingStep } from '../../../../packages/backend-gpujs/src/__tests__/trainingStep.js';
import { runConformancePage } from './page.js';

/**
 * The MLP training step (BatchNorm with checkFinite: false) on a fresh backend: no read and no
 * readPixels on the WebGL context until the final read, and the updated weights match the float64
 * reference within atol 1e-4 + rtol 1e-3.
 */
function trainingStepCase(): CaseResult {
  const backend = createBackend();
  try {
    const step = trainingStep(backend);
    const { readbacks, pixelReads } = backend;
    const want = trainingStep(createReferenceBackend());
    const outside = (['loss', 'w1', 'w2', 'b2'] as const)
      .map((name) => ({ name, ...allClose(backend.readSync(step[name]), want[name].data, 1e-4, 1e-3) }))
      .filter((result) => !result.ok)
      .map((result) => `${result.name}: ${result.message}`);
    return {
      backend: backend.name,
      case: 'MLP training step: no read-back until the final read',
      op: 'trainingStep',
      pass: readbacks === 0 && pixelReads === 0 && backend.pixelReads > 0 && outside.length === 0,
      maxAbsError: 0,
      maxRelError: 0,
      message:
        `mode ${backend.mode}; before the final read: ${readbacks} read-backs, ${pixelReads} readPixels; ` +
        `after: ${backend.readbacks}, ${backend.pixelReads}; ${outside.length === 0 ? 'matches the reference' : outside.join('; ')}`,
    };
  } finally {
    backend.destroy();
  }
}

window.addEventListener('load', () =>
  setTimeout(
    () =>
      // no options: auto must pick WebGL2 (or WebGL) in a page
      void runConformancePage({
        name: 'gpujs',
        profile: backendModule.traits.tolerance,
        create: (): Backend => createBackend(),
        extraChecks: () => [trainingStepCase()],
      }),
    0,
  ),
);
