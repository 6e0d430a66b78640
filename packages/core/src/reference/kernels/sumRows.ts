import { pairwiseSum } from '../pairwiseSum.js';
import { referenceTensor, type ReferenceTensor } from '../tensor.js';

/** `out[c] = Σ_r x[r, c]`, each column summed pairwise. */
export function sumRows(x: ReferenceTensor): ReferenceTensor {
  const [rows = 0, cols = 0] = x.shape;
  const out = new Float64Array(cols);
  for (let c = 0; c < cols; c++) out[c] = pairwiseSum(rows, (r) => x.data[r * cols + c]!);
  return referenceTensor(out, [cols]);
}
