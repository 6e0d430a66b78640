import { createReferenceBackend } from '@batchnorm/core';
import { createBackend, type GpuJsMode } from '../src/index.js';
import { trainingStep } from '../src/__tests__/trainingStep.js';

/**
 * The MLP training step (BatchNorm with checkFinite: false) on a fresh backend in `mode`: no
 * read/readSync and no readPixels on the WebGL context until the final read, and the updated
 * weights match the float64 reference.
 */
export function checkTrainingStep(mode: GpuJsMode): { passed: boolean; detail: string } {
  const backend = createBackend({ mode });
  try {
    const step = trainingStep(backend);
    const readbacks = backend.readbacks;
    const pixelReads = backend.pixelReads;
    const want = trainingStep(createReferenceBackend());
    let worst = 0;
    for (const [got, expected] of [
      [step.loss, want.loss],
      [step.w1, want.w1],
      [step.w2, want.w2],
      [step.b2, want.b2],
    ] as const) {
      const values = backend.readSync(got);
      for (let i = 0; i < values.length; i++) {
        const excess = Math.abs(values[i]! - expected.data[i]!) - (1e-4 + 1e-3 * Math.abs(expected.data[i]!));
        worst = Math.max(worst, Number.isNaN(excess) ? Infinity : excess);
      }
    }
    const passed = readbacks === 0 && pixelReads === 0 && backend.pixelReads > 0 && worst <= 0;
    return {
      passed,
      detail:
        `before the final read: ${readbacks} read-backs, ${pixelReads} readPixels; ` +
        `after: ${backend.readbacks}, ${backend.pixelReads}; ${worst <= 0 ? 'matches the reference' : 'differs from the reference'}`,
    };
  } finally {
    backend.destroy();
  }
}
