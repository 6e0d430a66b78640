import type { MatMulAttrs } from '@batchnorm/core';
import type { KernelContext } from '../context.js';
import type { LoopArgs } from '../loops/index.js';
import type { JsTensor } from '../tensor.js';

/** Products with at least this many multiply-adds are split by output rows across threads. */
const PARALLEL_MIN_MACS = 1 << 20;
/** From this many output rows, `a·bᵀ` transposes `b` once and runs the panels. */
const TRANSPOSE_MIN_ROWS = 16;
/**
 * Operands of up to this many elements together are widened to float64 copies for the SIMD
 * panels (16 MB of scratch at most): a widened value needs no conversion per product (timing in
 * the README's Performance section), with the same bits (widening is exact).
 */
const WIDEN_MAX_ELEMENTS = 1 << 21;

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
  } else if (transposeB && rows < TRANSPOSE_MIN_ROWS) {
    if (parallel) ctx.split('matMulDots', rows, (r0, r1) => [as, bs, cs, depth, cols, r0, r1]);
    else ctx.run('matMulDots', [as, bs, cs, depth, cols, 0, rows]);
  } else {
    // transposeB with enough rows to amortize one transposed copy of b: then the panels beat
    // dot products (timings in the README's Performance section).
    panels(ctx, as, bs, transposeB, cs, rows, depth, cols, transposeA, parallel);
  }
  return out;
}

/** `matMulPanels` over the whole output, on float64 copies of the operands when the SIMD loop runs. */
function panels(
  ctx: KernelContext,
  as: Float32Array,
  bs: Float32Array,
  transposeB: boolean,
  cs: Float32Array,
  rows: number,
  depth: number,
  cols: number,
  transposeA: boolean,
  parallel: boolean,
): void {
  // Scratch from the pool (the WebAssembly heap when SIMD is on), returned below.
  const scratch: Float32Array[] = [];
  const take = (length: number): Float32Array => {
    const buffer = ctx.pool.take(length);
    scratch.push(buffer);
    return buffer;
  };
  let left: Float32Array | Float64Array = as;
  let right: Float32Array | Float64Array = bs;
  let mode = transposeA ? 1 : 0;
  if (ctx.simd !== undefined && as.length + bs.length <= WIDEN_MAX_ELEMENTS) {
    const a64 = float64View(take(2 * as.length), as.length);
    const b64 = float64View(take(2 * bs.length), bs.length);
    const simd = ctx.simdFor('matMulPanels', [as, bs, a64, b64, cs]);
    if (simd !== undefined) {
      simd.loops.widen(as.byteOffset, a64.byteOffset, as.length);
      if (transposeB) transpose(bs, b64, cols, depth);
      // With every b finite, a zero in a adds exact zeros: the SIMD loop may skip it (same bits).
      else if (simd.loops.widen(bs.byteOffset, b64.byteOffset, bs.length) === 1) mode |= 4;
      [left, right, mode] = [a64, b64, mode | 2];
    }
  }
  if (mode < 2 && transposeB) {
    right = take(depth * cols);
    transpose(bs, right, cols, depth);
  }
  const [l, r, m] = [left, right, mode];
  // Each thread's depth list (48 bytes per step), for the SIMD loop.
  const lists: Float64Array[] = [];
  const argsFor = (r0: number, r1: number, part = 0): LoopArgs<'matMulPanels'> =>
    [l, r, cs, rows, depth, cols, m, (lists[part] ??= ctx.vector(6 * depth)), r0, r1];
  if (parallel) ctx.split('matMulPanels', rows, argsFor);
  else ctx.run('matMulPanels', argsFor(0, rows));
  for (const buffer of scratch) ctx.pool.give(buffer);
}

/** `length` float64 values over the bytes of `buffer` (pooled blocks are 16-byte aligned). */
function float64View(buffer: Float32Array, length: number): Float64Array {
  return new Float64Array(buffer.buffer, buffer.byteOffset, length);
}

/** `to[p, j] = from[j, p]` for `from` stored `[rows, cols]`, in 32×32 tiles. */
function transpose(from: Float32Array, to: Float32Array | Float64Array, rows: number, cols: number): void {
  const tile = 32;
  for (let j0 = 0; j0 < rows; j0 += tile) {
    const j1 = Math.min(rows, j0 + tile);
    for (let p0 = 0; p0 < cols; p0 += tile) {
      const p1 = Math.min(cols, p0 + tile);
      for (let j = j0; j < j1; j++) {
        for (let p = p0; p < p1; p++) to[p * rows + j] = from[j * cols + p]!;
      }
    }
  }
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
