import { referenceTensor, type ReferenceTensor } from '../tensor.js';

export function reluBackward(dy: ReferenceTensor, x: ReferenceTensor): ReferenceTensor {
  return referenceTensor(dy.data.map((d, i) => (x.data[i]! > 0 ? d : 0)), dy.shape);
}
