import type { IKernelFunctionThis } from 'gpu.js';

// Supplied to the kernel through `functions` (see preciseExp_gpu.ts). Not imported: a bundler
// may rename an imported binding inside this source text, which gpu.js compiles by name.
declare function preciseExp(v: number): number;

/** Per row: `max + log Σ_k e^(logits[k] − max)`; subtracting the max keeps `exp` finite. */
export function rowLogSumExp(this: IKernelFunctionThis<{ cols: number }>, logits: number[]): number {
  const o = this.thread.x * this.constants.cols;
  let max = logits[o];
  for (let k = 1; k < this.constants.cols; k++) {
    max = Math.max(max, logits[o + k]);
  }
  let sum = 0;
  for (let k = 0; k < this.constants.cols; k++) {
    sum += preciseExp(logits[o + k] - max);
  }
  return max + Math.log(sum);
}

/** Per row: `−Σ_k labels[k]·(logits[k] − logSumExp)`. */
export function rowCrossEntropy(
  this: IKernelFunctionThis<{ cols: number }>,
  logits: number[],
  labels: number[],
  logSumExp: number[],
): number {
  const o = this.thread.x * this.constants.cols;
  const lse = logSumExp[this.thread.x];
  let sum = 0;
  for (let k = 0; k < this.constants.cols; k++) {
    sum += labels[o + k] * (logits[o + k] - lse);
  }
  return -sum;
}

/** Output `[cols, rows]` grid: `(softmax − labels)/rows`. */
export function softmaxCrossEntropyGradient(
  this: IKernelFunctionThis<{ cols: number; rows: number }>,
  logits: number[],
  labels: number[],
  logSumExp: number[],
): number {
  const i = this.thread.y * this.constants.cols + this.thread.x;
  return (preciseExp(logits[i] - logSumExp[this.thread.y]) - labels[i]) / this.constants.rows;
}
