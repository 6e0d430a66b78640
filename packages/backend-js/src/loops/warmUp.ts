import type { LoopName } from './signatures.js';

/**
 * Runs every loop through every branch on tiny inputs, a dozen times: V8 then has type feedback
 * for all of each loop before it optimizes, instead of optimizing the hot loop on its first big
 * call and deoptimizing at the tail (remainder rows, odd runs) on every later call.
 * Self-contained like the loops: the worker runs it too, with its own copy of the loops.
 */
export function warmUp(loops: Readonly<Record<LoopName, (...args: never[]) => void>>): void {
  const call = (f: (...args: never[]) => void, ...args: unknown[]): void => (f as (...a: unknown[]) => void)(...args);
  const x = new Float32Array(42).fill(1.5);
  const y = new Float32Array(42);
  const z = new Float32Array(42);
  const v = new Float64Array(3).fill(0.5);
  const s = new Float64Array(3);
  const q = new Float64Array(3);
  for (let round = 0; round < 12; round++) {
    // 7 rows × 3 channels × inner 1 (four-row blocks and a remainder), then 2 × 3 × 7 (odd runs).
    for (const [rows, inner] of [
      [7, 1],
      [2, 7],
    ] as const) {
      call(loops.shiftedSums, x, 3, inner, 0, rows, v, s, q);
      call(loops.affine, x, y, 3, inner, 0, rows, v, v);
      call(loops.backwardSums, x, x, 3, inner, 0, rows, v, s, q);
      call(loops.backwardApply, x, x, y, 3, inner, 0, rows, v, v, v);
    }
    // 5×6 · 6×7 (an odd row, a remainder of k), both storage orders of a; 5×6 · (7×6)ᵀ.
    call(loops.matMulPanels, x, z, y, 5, 6, 7, 0, v, 0, 5);
    call(loops.matMulPanels, x, z, y, 5, 6, 7, 1, v, 0, 5);
    call(loops.matMulDots, x, z, y, 6, 7, 0, 5);
    call(loops.sigmoid, x, y, 0, 42);
    call(loops.sgdUpdate, y, x, v, 0, 42);
  }
}
