import type { KernelContext } from '../context.js';
import { wrap, type TfjsNodeTensor } from '../tensor.js';

export function sumRows({ tf }: KernelContext, x: TfjsNodeTensor): TfjsNodeTensor {
  return wrap(tf.sum(x.tensor, 0));
}
