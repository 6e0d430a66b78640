import type { IKernelFunctionThis } from 'gpu.js';
import type { ExpReductionConstants } from './expReduction.js';

/**
 * `1/(1 + e^(−x))` as `1/(1 + e)` or `e/(1 + e)` with `e = e^(−|x|) ≤ 1`, so nothing overflows;
 * `e` by the exp reduction of expReduction.ts.
 */
export function logistic(this: IKernelFunctionThis<ExpReductionConstants>, x: number[]): number {
  const v = x[this.thread.x];
  const a = -Math.abs(v);
  const k = Math.floor(a * this.constants.log2e + 0.5);
  const e = Math.pow(2, k) * Math.exp(a - k * this.constants.ln2High - k * this.constants.ln2Low);
  if (v >= 0) {
    return 1 / (1 + e);
  }
  return e / (1 + e);
}
