import type { IKernelFunctionThis } from 'gpu.js';

/** `dy` where the ReLU's input was positive, else 0. */
export function passWherePositive(this: IKernelFunctionThis, dy: number[], x: number[]): number {
  if (x[this.thread.x] > 0) {
    return dy[this.thread.x];
  }
  return 0;
}
