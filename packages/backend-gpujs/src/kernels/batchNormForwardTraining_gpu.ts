import type { IKernelFunctionThis } from 'gpu.js';
import type { BatchNormGridConstants } from './batchNormGrid.js';

/** `y = γ·((x − shift) − shiftedMean)/√(σ² + ε) + β`: centring in shifted form keeps float32 digits. */
export function normalizeWithBatchStatistics(
  this: IKernelFunctionThis<BatchNormGridConstants>,
  x: number[],
  shift: number[],
  shiftedMean: number[],
  variance: number[],
  gamma: number[],
  beta: number[],
  epsilon: number,
): number {
  const c = this.constants.featureAxis === 0 ? this.thread.x : this.thread.y;
  const i = this.thread.x + this.constants.dimX * (this.thread.y + this.constants.dimY * this.thread.z);
  const invStd = 1 / Math.sqrt(variance[c] + epsilon);
  return gamma[c] * ((x[i] - shift[c] - shiftedMean[c]) * invStd) + beta[c];
}

/** `mean = shift + shiftedMean`, per feature. */
export function addShift(this: IKernelFunctionThis, shift: number[], shiftedMean: number[]): number {
  return shift[this.thread.x] + shiftedMean[this.thread.x];
}
