import type { TensorFlowOps } from '../tensorFlowOps.js';
import { wrap, type TfjsNodeTensor } from '../tensor.js';

export function sigmoid({ tf }: TensorFlowOps, x: TfjsNodeTensor): TfjsNodeTensor {
  return wrap(tf.sigmoid(x.tensor), x.shape);
}
