import type { TensorFlowOps } from '../tensorFlowOps.js';
import { wrap, type TfjsNodeTensor } from '../tensor.js';

export function sumRows({ tf }: TensorFlowOps, x: TfjsNodeTensor): TfjsNodeTensor {
  return wrap(tf.sum(x.tensor, 0));
}
