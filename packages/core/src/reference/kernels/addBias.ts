import { referenceTensor, type ReferenceTensor } from '../tensor.js';

export function addBias(x: ReferenceTensor, bias: ReferenceTensor): ReferenceTensor {
  const cols = bias.data.length;
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < out.length; i++) out[i] = x.data[i]! + bias.data[i % cols]!;
  return referenceTensor(out, x.shape);
}
