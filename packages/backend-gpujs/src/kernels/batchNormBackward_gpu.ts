import type { IKernelFunctionThis } from 'gpu.js';
import type { BatchNormGridConstants } from './batchNormGrid.js';

/**
 * `dx = γ·invStd·(dy − Σdy/m − x̂·Σ(dy·x̂)/m)`, the simplified chain rule, with
 * `x̂ = ((x − shift) − shiftedMean)·invStd` and `Σ(dy·x̂) = invStd·Σ(dy·(x − μ))`.
 */
export function batchNormInputGradient(
  this: IKernelFunctionThis<BatchNormGridConstants>,
  dy: number[],
  x: number[],
  gamma: number[],
  variance: number[],
  shift: number[],
  shiftedMean: number[],
  sumDy: number[],
  sumDyCentered: number[],
  epsilon: number,
  count: number,
): number {
  const c = this.constants.featureAxis === 0 ? this.thread.x : this.thread.y;
  const i = this.thread.x + this.constants.dimX * (this.thread.y + this.constants.dimY * this.thread.z);
  const invStd = 1 / Math.sqrt(variance[c] + epsilon);
  const xHat = (x[i] - shift[c] - shiftedMean[c]) * invStd;
  const sumDyXHat = sumDyCentered[c] * invStd;
  return gamma[c] * invStd * (dy[i] - sumDy[c] / count - (xHat * sumDyXHat) / count);
}

/** `dγ = Σ(dy·x̂) = Σ(dy·(x − μ))/√(σ² + ε)`, per feature. */
export function scaleByInverseStd(
  this: IKernelFunctionThis,
  sumDyCentered: number[],
  variance: number[],
  epsilon: number,
): number {
  return sumDyCentered[this.thread.x] / Math.sqrt(variance[this.thread.x] + epsilon);
}
