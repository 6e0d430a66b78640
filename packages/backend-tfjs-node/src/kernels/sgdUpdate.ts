import type { TensorFlowOps } from '../tensorFlowOps.js';
import { wrap, type TfjsNodeTensor } from '../tensor.js';

/** `param − learningRate·grad` as a new tensor; `param` is consumed (disposed), as the contract allows. */
export function sgdUpdate(
  { tf }: TensorFlowOps,
  param: TfjsNodeTensor,
  grad: TfjsNodeTensor,
  { learningRate }: { readonly learningRate: number },
): TfjsNodeTensor {
  const updated = tf.tidy(() => tf.sub(param.tensor, tf.mul(grad.tensor, learningRate)));
  param.tensor.dispose();
  return wrap(updated, param.shape);
}
