import type { Shape } from '@batchnorm/core';
import type { Tensor } from '@tensorflow/tfjs-node';
import type * as Public from './types.js';

/** A handle as the package sees it inside: its tensor is tfjs-node's own `Tensor`. */
export type TfjsNodeTensor = Public.TfjsNodeTensor<Tensor>;

/** Wraps `tensor`; `shape` is the contract's shape (the tensor may have been reshaped back to it). */
export function wrap(tensor: Tensor, shape: Shape = tensor.shape): TfjsNodeTensor {
  return { shape: Object.freeze([...shape]), tensor };
}
