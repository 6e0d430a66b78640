import type { TensorHandle } from '../backend.js';
import type { Shape } from '../types.js';

/** A reference tensor: float64 values on the host. */
export interface ReferenceTensor extends TensorHandle {
  readonly shape: Shape;
  readonly data: Float64Array;
}

/**
 * A new reference tensor with its own, frozen copy of `shape`; the backend's `HandleRegistry`
 * brands and freezes the tensor itself when it hands it out.
 */
export function referenceTensor(data: Float64Array, shape: Shape): ReferenceTensor {
  return { data, shape: Object.freeze([...shape]) };
}

/** What the reference's training forward keeps for backward: the batch statistics, in float64. */
export interface ReferenceSaved {
  readonly mean: Float64Array;
  readonly variance: Float64Array;
}
