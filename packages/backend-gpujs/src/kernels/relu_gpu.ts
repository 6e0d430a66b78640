import type { IKernelFunctionThis } from 'gpu.js';

/** `max(x, 0)`. */
export function positivePart(this: IKernelFunctionThis, x: number[]): number {
  return Math.max(x[this.thread.x], 0);
}
