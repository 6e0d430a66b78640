import type { KernelContext } from '../context.js';
import { wrap, type TfjsNodeTensor } from '../tensor.js';

export function sigmoid({ tf }: KernelContext, x: TfjsNodeTensor): TfjsNodeTensor {
  return wrap(tf.sigmoid(x.tensor), x.shape);
}
