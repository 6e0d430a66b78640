import {
  createRandom,
  createReferenceBackend,
  type Shape,
  type SyncBackend,
  type TensorData,
  type TensorHandle,
} from '@batchnorm/core';
import { expect } from 'vitest';
import { createBackend } from '../backend.js';

export const tfjs = createBackend();
export const reference = createReferenceBackend();

export function randomValues(seed: number, length: number, scale = 1, offset = 0): Float64Array {
  const random = createRandom(seed);
  return Float64Array.from({ length }, () => offset + scale * random.normal());
}

export interface HostTensor {
  readonly data: Float64Array;
  readonly shape: Shape;
}

/** A computation written once against the contract; it releases any `saved` it makes. */
export type Computation = <T extends TensorHandle, S>(backend: SyncBackend<T, S>, inputs: readonly T[]) => T[];

/** Runs `f` on one backend from host inputs; returns its outputs on the host, disposing all. */
export function runOn<T extends TensorHandle, S>(backend: SyncBackend<T, S>, inputs: readonly HostTensor[], f: Computation): TensorData[] {
  const tensors = inputs.map(({ data, shape }) => backend.upload(data, shape));
  const outputs = f(backend, tensors);
  const host = outputs.map((t) => backend.readSync(t));
  for (const t of [...tensors, ...outputs]) backend.dispose(t);
  return host;
}

/**
 * Runs `f` on tfjs-node and on the float64 reference. Inputs are rounded to float32 first so
 * only the arithmetic differs.
 */
export function compareWithReference(inputs: readonly HostTensor[], f: Computation): { got: TensorData[]; want: TensorData[] } {
  const rounded = inputs.map(({ data, shape }) => ({ data: Float64Array.from(Float32Array.from(data)), shape }));
  return { got: runOn(tfjs, rounded, f), want: runOn(reference, rounded, f) };
}

/** numpy's allclose, element by element, reporting the first failure. */
export function expectClose(got: ArrayLike<number> | undefined, want: ArrayLike<number> | undefined, atol: number, rtol: number): void {
  expect(got).toBeDefined();
  expect(want).toBeDefined();
  if (got === undefined || want === undefined) return;
  expect(got.length).toBe(want.length);
  let firstFailure: string | undefined;
  let failures = 0;
  for (let i = 0; i < want.length; i++) {
    const error = Math.abs(got[i]! - want[i]!);
    if (!(error <= atol + rtol * Math.abs(want[i]!))) {
      failures++;
      firstFailure ??= `[${i}]: got ${got[i]}, want ${want[i]}`;
    }
  }
  expect(firstFailure, `${failures} of ${want.length} values outside atol ${atol} + rtol ${rtol}`).toBeUndefined();
}
