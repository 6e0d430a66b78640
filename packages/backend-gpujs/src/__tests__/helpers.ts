import { createReferenceBackend, type Shape } from '@batchnorm/core';
import { createBackend, type GpuJsBackend } from '../backend.js';
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

export function sizeOf(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}
