import { referenceTensor, type ReferenceTensor } from '../tensor.js';

export function sigmoid(x: ReferenceTensor): ReferenceTensor {
  return referenceTensor(x.data.map((v) => 1 / (1 + Math.exp(-v))), x.shape);
}
