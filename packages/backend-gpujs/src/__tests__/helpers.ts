import { createRandom, createReferenceBackend, type Shape } from '@batchnorm/core';
import { createBackend, type GpuJsBackend } from '../createBackend.js';
import type { GpuJsMode } from '../modes.js';

export const reference = createReferenceBackend();

/** The modes every test runs in: the GPU path for real (under `xvfb-run -a`) and gpu.js's CPU fallback. */
export const TESTED_MODES: readonly GpuJsMode[] = ['headlessgl', 'cpu'];

/**
 * Creates the backend in `mode`. A GPU mode that cannot start throws the backend's
 * BACKEND_UNAVAILABLE error, whose message says what is missing — the tests fail with it
 * instead of skipping.
 */
export function backendFor(mode: GpuJsMode): GpuJsBackend {
  return createBackend({ mode });
}

export function randomValues(seed: number, length: number, scale = 1, offset = 0): Float64Array {
  const random = createRandom(seed);
  return Float64Array.from({ length }, () => offset + scale * random.normal());
}

export function sizeOf(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Worst `|got − want| − (atol + rtol·|want|)` and where; ≤ 0 means numpy's allclose holds. */
export function closeness(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  atol: number,
  rtol: number,
): { ok: boolean; message: string } {
  if (got.length !== want.length) return { ok: false, message: `length ${got.length} ≠ ${want.length}` };
  let worst = -Infinity;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const excess = Math.abs(got[i]! - want[i]!) - (atol + rtol * Math.abs(want[i]!));
    const value = Number.isNaN(excess) ? Infinity : excess;
    if (value > worst) {
      worst = value;
      at = i;
    }
  }
  return {
    ok: worst <= 0,
    message: at < 0 ? 'empty' : `worst at [${at}]: got ${got[at]}, want ${want[at]} (atol ${atol}, rtol ${rtol})`,
  };
}
