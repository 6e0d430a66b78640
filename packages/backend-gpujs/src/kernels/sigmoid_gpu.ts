import type { IKernelFunctionThis } from 'gpu.js';

/** `1/(1 + e^(−x))`, with `e^x/(1 + e^x)` for negative x so `exp` never overflows. */
export function logistic(this: IKernelFunctionThis, x: number[]): number {
  const v = x[this.thread.x];
  if (v >= 0) {
    return 1 / (1 + Math.exp(-v));
  }
  const e = Math.exp(v);
  return e / (1 + e);
}
