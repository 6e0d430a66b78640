import type { MatMulAttrs } from '@batchnorm/core';
import type { KernelContext } from '../context.js';
import { wrap, type TfjsNodeTensor } from '../tensor.js';

/** TensorFlow's BatchMatMul with its own transpose flags: no transposed copy is made. */
export function matMul(
  { tf }: KernelContext,
  a: TfjsNodeTensor,
  b: TfjsNodeTensor,
  { transposeA = false, transposeB = false }: MatMulAttrs = {},
): TfjsNodeTensor {
  return wrap(tf.matMul(a.tensor, b.tensor, transposeA, transposeB));
}
