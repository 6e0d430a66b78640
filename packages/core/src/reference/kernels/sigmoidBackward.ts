import { referenceTensor, type ReferenceTensor } from '../tensor.js';

/** `∂l/∂x = ∂l/∂y · y·(1 − y)`, from the sigmoid's output. */
export function sigmoidBackward(dy: ReferenceTensor, y: ReferenceTensor): ReferenceTensor {
  return referenceTensor(dy.data.map((d, i) => d * y.data[i]! * (1 - y.data[i]!)), dy.shape);
}
