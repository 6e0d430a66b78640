import type { TensorFlowOps } from '../tensorFlowOps.js';
import { wrap, type TfjsNodeTensor } from '../tensor.js';

export function relu({ tf }: TensorFlowOps, x: TfjsNodeTensor): TfjsNodeTensor {
  return wrap(tf.relu(x.tensor), x.shape);
}
