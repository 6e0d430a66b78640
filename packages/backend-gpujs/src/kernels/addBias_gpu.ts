import type { IKernelFunctionThis } from 'gpu.js';

/** Output `[cols, rows]` grid: `x[r, c] + bias[c]`. */
export function addBiasPerColumn(this: IKernelFunctionThis<{ cols: number }>, x: number[], bias: number[]): number {
  return x[this.thread.y * this.constants.cols + this.thread.x] + bias[this.thread.x];
}
