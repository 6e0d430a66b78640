/**
 * Rows `[r0, r1)` of `c = a·bᵀ` (`a` stored `[rows, depth]`, `b` stored `[cols, depth]`): each
 * output is a dot product of two contiguous rows; a 2×2 block of outputs shares every load.
 */
export function matMulDots(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  depth: number,
  cols: number,
  r0: number,
  r1: number,
): void {
  for (let i = r0; i < r1; i += 2) {
    const pair = i + 1 < r1;
    const e = i * depth;
    const f = pair ? e + depth : e;
    for (let j = 0; j < cols; j += 2) {
      const twin = j + 1 < cols;
      const g = j * depth;
      const h = twin ? g + depth : g;
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      for (let p = 0; p < depth; p++) {
        const x0 = a[e + p];
        const x1 = a[f + p];
        const y0 = b[g + p];
        const y1 = b[h + p];
        s00 += x0 * y0;
        s01 += x0 * y1;
        s10 += x1 * y0;
        s11 += x1 * y1;
      }
      const o = i * cols + j;
      c[o] = s00;
      if (twin) c[o + 1] = s01;
      if (pair) {
        c[o + cols] = s10;
        if (twin) c[o + cols + 1] = s11;
      }
    }
  }
}
