import type { TensorFlowOps } from '../tensorFlowOps.js';
import { wrap, type TfjsNodeTensor } from '../tensor.js';

/** TensorFlow's `SigmoidGrad(y, dy) = dy·y·(1 − y)`: one op instead of three. */
export function sigmoidBackward({ runOp }: TensorFlowOps, dy: TfjsNodeTensor, y: TfjsNodeTensor): TfjsNodeTensor {
  const [dx] = runOp('SigmoidGrad', [y.tensor, dy.tensor], 1);
  return wrap(dx!, y.shape);
}
