/**
 * Rows `[r0, r1)` of `c = op(a)·b` (`b` stored `[depth, cols]`), i-k-j order: two output rows at
 * a time share each load of `b`, four `k` at a time share each float64 accumulator update.
 * `a[i, p]` is at `i·depth + p`, or at `p·rows + i` when `mode & 1` (transposeA; no transposed
 * copy). `mode & 2` says `a` and `b` are float64 copies of the float32 operands, `mode & 4` that
 * zero values of `a` may be left out, and `list` is scratch: only the SIMD twin uses them.
 */
export function matMulPanels(
  a: Float32Array | Float64Array,
  b: Float32Array | Float64Array,
  c: Float32Array,
  rows: number,
  depth: number,
  cols: number,
  mode: number,
  _list: Float64Array,
  r0: number,
  r1: number,
): void {
  const transposeA = (mode & 1) !== 0;
  const rowStride = transposeA ? 1 : depth;
  const depthStride = transposeA ? rows : 1;
  const acc = new Float64Array(2 * cols);
  for (let i = r0; i < r1; i += 2) {
    const pair = i + 1 < r1;
    acc.fill(0);
    const e = i * rowStride;
    const f = pair ? e + rowStride : e;
    let p = 0;
    for (; p + 4 <= depth; p += 4) {
      const q = p * depthStride;
      const a0 = a[e + q];
      const a1 = a[e + q + depthStride];
      const a2 = a[e + q + 2 * depthStride];
      const a3 = a[e + q + 3 * depthStride];
      const c0 = a[f + q];
      const c1 = a[f + q + depthStride];
      const c2 = a[f + q + 2 * depthStride];
      const c3 = a[f + q + 3 * depthStride];
      const b0 = p * cols;
      const b1 = b0 + cols;
      const b2 = b1 + cols;
      const b3 = b2 + cols;
      for (let j = 0; j < cols; j++) {
        const x0 = b[b0 + j];
        const x1 = b[b1 + j];
        const x2 = b[b2 + j];
        const x3 = b[b3 + j];
        acc[j] += a0 * x0 + a1 * x1 + (a2 * x2 + a3 * x3);
        acc[cols + j] += c0 * x0 + c1 * x1 + (c2 * x2 + c3 * x3);
      }
    }
    for (; p < depth; p++) {
      const q = p * depthStride;
      const a0 = a[e + q];
      const c0 = a[f + q];
      const b0 = p * cols;
      for (let j = 0; j < cols; j++) {
        const x0 = b[b0 + j];
        acc[j] += a0 * x0;
        acc[cols + j] += c0 * x0;
      }
    }
    const o = i * cols;
    const count = pair ? 2 * cols : cols;
    for (let k = 0; k < count; k++) c[o + k] = acc[k];
  }
}
