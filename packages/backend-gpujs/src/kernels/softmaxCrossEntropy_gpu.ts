import type { IKernelFunctionThis } from 'gpu.js';
import type { ExpReductionConstants } from './expReduction.js';

interface RowConstants extends ExpReductionConstants {
  cols: number;
  rows: number;
}

/**
 * Per row: `max + log Σ_k e^(logits[k] − max)`; subtracting the max keeps `exp` finite. Each
 * `e^d` by the exp reduction of expReduction.ts.
 */
export function rowLogSumExp(this: IKernelFunctionThis<RowConstants>, logits: number[]): number {
  const o = this.thread.x * this.constants.cols;
  let max = logits[o];
  for (let k = 1; k < this.constants.cols; k++) {
    max = Math.max(max, logits[o + k]);
  }
  let sum = 0;
  for (let k = 0; k < this.constants.cols; k++) {
    const d = logits[o + k] - max;
    const p = Math.floor(d * this.constants.log2e + 0.5);
    sum += Math.pow(2, p) * Math.exp(d - p * this.constants.ln2High - p * this.constants.ln2Low);
  }
  return max + Math.log(sum);
}

/** Per row: `−Σ_k labels[k]·(logits[k] − logSumExp)`. */
export function rowCrossEntropy(
  this: IKernelFunctionThis<RowConstants>,
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

/** Output `[cols, rows]` grid: `(softmax − labels)/rows`, softmax by the exp reduction. */
export function softmaxCrossEntropyGradient(
  this: IKernelFunctionThis<RowConstants>,
  logits: number[],
  labels: number[],
  logSumExp: number[],
): number {
  const i = this.thread.y * this.constants.cols + this.thread.x;
  const d = logits[i] - logSumExp[this.thread.y];
  const p = Math.floor(d * this.constants.log2e + 0.5);
  const softmax = Math.pow(2, p) * Math.exp(d - p * this.constants.ln2High - p * this.constants.ln2Low);
  return (softmax - labels[i]) / this.constants.rows;
}
