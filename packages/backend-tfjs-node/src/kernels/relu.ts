import type { KernelContext } from '../context.js';
import { wrap, type TfjsNodeTensor } from '../tensor.js';

export function relu({ tf }: KernelContext, x: TfjsNodeTensor): TfjsNodeTensor {
  return wrap(tf.relu(x.tensor), x.shape);
}
