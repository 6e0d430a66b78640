import type { MatMulAttrs } from '@batchnorm/core';
import type { KernelContext } from '../context.js';
import type { JsTensor } from '../tensor.js';

/** Products with at least this many multiply-adds are split by output rows across threads. */
const PARALLEL_MIN_MACS = 1 << 20;

/**
 * `op(a)·op(b)`, `[M, K]·[K, N] → [M, N]`, accumulated in float64, transposes read in place
 * (never materialized): without `transposeB`, i-k-j row panels (`loops/matMulPanels`); with it,
 * blocked dot products of contiguous rows (`loops/matMulDots`). Large products are split by
 * output rows across the thread team.
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
  const parallel = ctx.team.size > 1 && rows * depth * cols >= PARALLEL_MIN_MACS;
  if (transposeB && transposeA) {
    dotsTransposedA(as, bs, cs, rows, depth, cols);
  } else if (transposeB) {
    if (parallel) ctx.team.run('matMulDots', rows, (_p, r0, r1) => [as, bs, cs, depth, cols, r0, r1]);
    else ctx.run('matMulDots', [as, bs, cs, depth, cols, 0, rows]);
  } else if (parallel) {
    ctx.team.run('matMulPanels', rows, (_p, r0, r1) => [as, bs, cs, rows, depth, cols, transposeA, r0, r1]);
  } else {
    ctx.run('matMulPanels', [as, bs, cs, rows, depth, cols, transposeA, 0, rows]);
  }
  return out;
}

/** Both transposed (rare in practice): `c[i, j] = Σ_p a[p, i]·b[j, p]`. */
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
