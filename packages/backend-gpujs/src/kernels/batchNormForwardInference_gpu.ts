import type { IKernelFunctionThis } from 'gpu.js';
import type { BatchNormGridConstants } from './batchNormGrid.js';

/** `y = γ·(x − E[x])/√(Var[x] + ε) + β` (paper Algorithm 2). */
export function normalizeWithRunningStatistics(
  this: IKernelFunctionThis<BatchNormGridConstants>,
  x: number[],
  gamma: number[],
  beta: number[],
  mean: number[],
  variance: number[],
  epsilon: number,
): number {
  const c = this.constants.featureAxis === 0 ? this.thread.x : this.thread.y;
  const i = this.thread.x + this.constants.dimX * (this.thread.y + this.constants.dimY * this.thread.z);
  return gamma[c] * ((x[i] - mean[c]) / Math.sqrt(variance[c] + epsilon)) + beta[c];
}
