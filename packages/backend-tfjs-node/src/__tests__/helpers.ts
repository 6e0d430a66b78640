import {
  createReferenceBackend,
  type Shape,
  type SyncBackend,
  type TensorData,
  type TensorHandle,
} from '@batchnorm/core';
import { createBackend } from '../backend.js';

export const tfjs = createBackend();
export const reference = createReferenceBackend();

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
