import type { TensorFlowOps } from '../tensorFlowOps.js';
import { wrap, type TfjsNodeTensor } from '../tensor.js';

/** TensorFlow's `ReluGrad(dy, x)`: dy where x > 0, else 0, in one op. */
export function reluBackward({ runOp }: TensorFlowOps, dy: TfjsNodeTensor, x: TfjsNodeTensor): TfjsNodeTensor {
  const [dx] = runOp('ReluGrad', [dy.tensor, x.tensor], 1);
  return wrap(dx!, x.shape);
}
