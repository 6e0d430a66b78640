import { referenceTensor, type ReferenceTensor } from '../tensor.js';

export function relu(x: ReferenceTensor): ReferenceTensor {
  return referenceTensor(x.data.map((v) => (v > 0 ? v : 0)), x.shape);
}
