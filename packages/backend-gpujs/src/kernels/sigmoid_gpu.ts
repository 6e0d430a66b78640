import type { IKernelFunctionThis } from 'gpu.js';

// Supplied to the kernel through `functions` (see preciseExp_gpu.ts). Not imported: a bundler
// may rename an imported binding inside this source text, which gpu.js compiles by name.
declare function preciseExp(v: number): number;

/**
 * `1/(1 + e^(−x))`, with `e^x/(1 + e^x)` for negative x so `exp` never overflows; `preciseExp`
 * (a helper function of the kernel) instead of GLSL's `exp`.
 */
export function logistic(this: IKernelFunctionThis, x: number[]): number {
  const v = x[this.thread.x];
  if (v >= 0) {
    return 1 / (1 + preciseExp(-v));
  }
  const e = preciseExp(v);
  return e / (1 + e);
}
