import type { IKernelFunctionThis } from 'gpu.js';

/** `dy·y·(1 − y)` from the sigmoid's output `y`. */
export function logisticGradient(this: IKernelFunctionThis, dy: number[], y: number[]): number {
  const v = y[this.thread.x];
  return dy[this.thread.x] * v * (1 - v);
}
