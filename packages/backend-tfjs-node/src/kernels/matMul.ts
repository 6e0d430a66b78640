import type { MatMulAttrs } from '@batchnorm/core';
import type { TensorFlowOps } from '../tensorFlowOps.js';
import { wrap, type TfjsNodeTensor } from '../tensor.js';

/** TensorFlow's BatchMatMul with its own transpose flags: no transposed copy is made. */
export function matMul(
  { tf }: TensorFlowOps,
  a: TfjsNodeTensor,
  b: TfjsNodeTensor,
  { transposeA = false, transposeB = false }: MatMulAttrs = {},
): TfjsNodeTensor {
  return wrap(tf.matMul(a.tensor, b.tensor, transposeA, transposeB));
}
