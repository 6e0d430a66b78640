import type { MatMulAttrs } from '../../backend.js';
import { referenceTensor, type ReferenceTensor } from '../tensor.js';

/** `op(a)·op(b)`, straight from the definition `c[i, j] = Σ_k a[i, k]·b[k, j]`. */
export function matMul(a: ReferenceTensor, b: ReferenceTensor, attrs: MatMulAttrs = {}): ReferenceTensor {
  const [aRows = 0, aCols = 0] = a.shape;
  const [bRows = 0, bCols = 0] = b.shape;
  const transposeA = attrs.transposeA === true;
  const transposeB = attrs.transposeB === true;
  const m = transposeA ? aCols : aRows;
  const k = transposeA ? aRows : aCols;
  const n = transposeB ? bRows : bCols;
  const at = (i: number, p: number): number => (transposeA ? a.data[p * aCols + i]! : a.data[i * aCols + p]!);
  const bt = (p: number, j: number): number => (transposeB ? b.data[j * bCols + p]! : b.data[p * bCols + j]!);
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += at(i, p) * bt(p, j);
      out[i * n + j] = sum;
    }
  }
  return referenceTensor(out, [m, n]);
}
