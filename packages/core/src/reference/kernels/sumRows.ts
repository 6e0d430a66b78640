import { referenceTensor, type ReferenceTensor } from '../tensor.js';

export function sumRows(x: ReferenceTensor): ReferenceTensor {
  const [rows = 0, cols = 0] = x.shape;
  const out = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c] += x.data[r * cols + c]!;
  return referenceTensor(out, [cols]);
}
