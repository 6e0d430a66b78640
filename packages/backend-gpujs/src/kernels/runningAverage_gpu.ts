import type { IKernelFunctionThis } from 'gpu.js';

/** `(1 − factor)·running + factor·batchScale·batch`. */
export function blendRunningAverage(
  this: IKernelFunctionThis,
  running: number[],
  batch: number[],
  factor: number,
  batchScale: number,
): number {
  return (1 - factor) * running[this.thread.x] + factor * (batchScale * batch[this.thread.x]);
}
