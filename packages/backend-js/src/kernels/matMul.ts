import type { MatMulAttrs } from '@batchnorm/core';
import type { KernelContext } from '../context.js';
import type { JsTensor } from '../tensor.js';

/** Rows of `op(a)` handled together, so each run of four rows of `b` is reused while in L1. */
const PANEL_ROWS = 4;

/**
 * `op(a)·op(b)`, `[M, K]·[K, N] → [M, N]`, accumulated in float64. Without `transposeB` it runs
 * i-k-j over row panels (the inner loop streams a row of `b` into a row of accumulators, four
 * `k` at a time); with `transposeB` each output is a dot product of two contiguous rows. No
 * transpose is ever materialized.
 */
export function matMul(ctx: KernelContext, a: JsTensor, b: JsTensor, attrs: MatMulAttrs = {}): JsTensor {
  const [aRows = 0, aCols = 0] = a.shape;
  const [bRows = 0, bCols = 0] = b.shape;
  const transposeA = attrs.transposeA === true;
  const transposeB = attrs.transposeB === true;
  const rows = transposeA ? aCols : aRows;
  const depth = transposeA ? aRows : aCols;
  const cols = transposeB ? bRows : bCols;
  const out = ctx.output([rows, cols], rows * cols);
  const as = a.data;
  const bs = b.data;
  const cs = out.data;
  if (transposeB) {
    if (transposeA) dotsTransposedA(as, bs, cs, rows, depth, cols);
    else dots(as, bs, cs, rows, depth, cols);
  } else {
    panels(as, bs, cs, rows, depth, cols, transposeA, ctx.scratch(PANEL_ROWS * cols));
  }
  return out;
}

function panels(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  rows: number,
  depth: number,
  cols: number,
  transposeA: boolean,
  acc: Float64Array,
): void {
  // a[i, p] is at i·depth + p, or p·rows + i when a is stored transposed.
  const rowStride = transposeA ? 1 : depth;
  const depthStride = transposeA ? rows : 1;
  for (let i0 = 0; i0 < rows; i0 += PANEL_ROWS) {
    const i1 = Math.min(rows, i0 + PANEL_ROWS);
    acc.fill(0, 0, (i1 - i0) * cols);
    let p = 0;
    for (; p + 4 <= depth; p += 4) {
      const b0 = p * cols;
      const b1 = b0 + cols;
      const b2 = b1 + cols;
      const b3 = b2 + cols;
      for (let i = i0; i < i1; i++) {
        const ai = i * rowStride + p * depthStride;
        const a0 = a[ai]!;
        const a1 = a[ai + depthStride]!;
        const a2 = a[ai + 2 * depthStride]!;
        const a3 = a[ai + 3 * depthStride]!;
        const o = (i - i0) * cols;
        for (let j = 0; j < cols; j++) {
          acc[o + j] += a0 * b[b0 + j]! + a1 * b[b1 + j]! + (a2 * b[b2 + j]! + a3 * b[b3 + j]!);
        }
      }
    }
    for (; p < depth; p++) {
      const b0 = p * cols;
      for (let i = i0; i < i1; i++) {
        const a0 = a[i * rowStride + p * depthStride]!;
        const o = (i - i0) * cols;
        for (let j = 0; j < cols; j++) acc[o + j] += a0 * b[b0 + j]!;
      }
    }
    for (let k = 0, end = (i1 - i0) * cols, o = i0 * cols; k < end; k++) c[o + k] = acc[k]!;
  }
}

/** `c[i, j] = Σ_p a[i, p]·b[j, p]`: both rows contiguous, four accumulators. */
function dots(a: Float32Array, b: Float32Array, c: Float32Array, rows: number, depth: number, cols: number): void {
  for (let i = 0; i < rows; i++) {
    const ai = i * depth;
    for (let j = 0; j < cols; j++) {
      const bj = j * depth;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let p = 0;
      for (; p + 4 <= depth; p += 4) {
        s0 += a[ai + p]! * b[bj + p]!;
        s1 += a[ai + p + 1]! * b[bj + p + 1]!;
        s2 += a[ai + p + 2]! * b[bj + p + 2]!;
        s3 += a[ai + p + 3]! * b[bj + p + 3]!;
      }
      for (; p < depth; p++) s0 += a[ai + p]! * b[bj + p]!;
      c[i * cols + j] = s0 + s1 + (s2 + s3);
    }
  }
}

/** Both transposed (rare): `c[i, j] = Σ_p a[p, i]·b[j, p]`. */
function dotsTransposedA(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  rows: number,
  depth: number,
  cols: number,
): void {
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const bj = j * depth;
      let s = 0;
      for (let p = 0; p < depth; p++) s += a[p * rows + i]! * b[bj + p]!;
      c[i * cols + j] = s;
    }
  }
}
