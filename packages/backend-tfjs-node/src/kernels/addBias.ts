import type { TensorFlowOps } from '../tensorFlowOps.js';
import { wrap, type TfjsNodeTensor } from '../tensor.js';

/** `[N, C] + [C]`: TensorFlow broadcasts along the last axis. */
export function addBias({ tf }: TensorFlowOps, x: TfjsNodeTensor, bias: TfjsNodeTensor): TfjsNodeTensor {
  return wrap(tf.add(x.tensor, bias.tensor), x.shape);
}
