import type { Shape, TensorHandle } from '@batchnorm/core';
import type { Tensor } from '@tensorflow/tfjs-node';

/** A handle of the tfjs-node backend: a TensorFlow tensor, kept on the TensorFlow side. */
export interface TfjsNodeTensor extends TensorHandle {
  readonly shape: Shape;
  readonly tensor: Tensor;
}

/** Wraps `tensor`; `shape` is the contract's shape (the tensor may have been reshaped back to it). */
export function wrap(tensor: Tensor, shape: Shape = tensor.shape): TfjsNodeTensor {
  return { shape: Object.freeze([...shape]), tensor };
}
