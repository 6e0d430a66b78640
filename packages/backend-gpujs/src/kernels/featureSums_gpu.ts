import type { IKernelFunctionThis } from 'gpu.js';

/** Sizes of one per-feature reduction pass, compiled into its shader. */
export interface FeaturePassConstants {
  [name: string]: number;
  /** Values each thread adds up. */
  block: number;
  /** Values per feature: `m`. */
  count: number;
  /** Positions per feature map (1 for `NC`) and the flat strides of sample, feature and position. */
  spatial: number;
  strideN: number;
  strideC: number;
  strideS: number;
}

export interface PartialsPassConstants {
  [name: string]: number;
  block: number;
  /** Partial sums per feature coming in. */
  groups: number;
}

/**
 * Flat index of the `j`-th value (sample-major) of feature `c`. The division runs in float
 * (WebGL 1 has no exact integer division): the quotient is corrected when it lands one off.
 */
export function featureValueIndex(
  c: number,
  j: number,
  spatial: number,
  strideN: number,
  strideC: number,
  strideS: number,
): number {
  let n = Math.floor((j + 0.5) / spatial);
  if (j - n * spatial < 0) n = n - 1;
  if (j - n * spatial >= spatial) n = n + 1;
  const s = j - n * spatial;
  return n * strideN + c * strideC + s * strideS;
}

// First passes: output [groups, C]; thread (g, c) adds `block` terms of feature c.

/** Partial sums of `x`. */
export function sumValues(this: IKernelFunctionThis<FeaturePassConstants>, x: number[]): number {
  const c = this.thread.y;
  const start = this.thread.x * this.constants.block;
  let sum = 0;
  for (let k = 0; k < this.constants.block; k++) {
    const j = start + k;
    if (j < this.constants.count) {
      sum += x[featureValueIndex(c, j, this.constants.spatial, this.constants.strideN, this.constants.strideC, this.constants.strideS)];
    }
  }
  return sum;
}

/** Partial sums of `x − shift`: shifting by a sample of the feature keeps float32 sums small. */
export function sumShifted(this: IKernelFunctionThis<FeaturePassConstants>, x: number[], shift: number[]): number {
  const c = this.thread.y;
  const start = this.thread.x * this.constants.block;
  const origin = shift[c];
  let sum = 0;
  for (let k = 0; k < this.constants.block; k++) {
    const j = start + k;
    if (j < this.constants.count) {
      sum += x[featureValueIndex(c, j, this.constants.spatial, this.constants.strideN, this.constants.strideC, this.constants.strideS)] - origin;
    }
  }
  return sum;
}

/** Partial sums of `((x − shift) − shiftedMean)²`: the second pass of a two-pass variance. */
export function sumSquaredDeviations(
  this: IKernelFunctionThis<FeaturePassConstants>,
  x: number[],
  shift: number[],
  shiftedMean: number[],
): number {
  const c = this.thread.y;
  const start = this.thread.x * this.constants.block;
  const origin = shift[c];
  const center = shiftedMean[c];
  let sum = 0;
  for (let k = 0; k < this.constants.block; k++) {
    const j = start + k;
    if (j < this.constants.count) {
      const d = x[featureValueIndex(c, j, this.constants.spatial, this.constants.strideN, this.constants.strideC, this.constants.strideS)] - origin - center;
      sum += d * d;
    }
  }
  return sum;
}

/** Partial sums of `dy·((x − shift) − shiftedMean)`, i.e. of `dy·(x − μ)`. */
export function sumCenteredProducts(
  this: IKernelFunctionThis<FeaturePassConstants>,
  dy: number[],
  x: number[],
  shift: number[],
  shiftedMean: number[],
): number {
  const c = this.thread.y;
  const start = this.thread.x * this.constants.block;
  const origin = shift[c];
  const center = shiftedMean[c];
  let sum = 0;
  for (let k = 0; k < this.constants.block; k++) {
    const j = start + k;
    if (j < this.constants.count) {
      const i = featureValueIndex(c, j, this.constants.spatial, this.constants.strideN, this.constants.strideC, this.constants.strideS);
      sum += dy[i] * (x[i] - origin - center);
    }
  }
  return sum;
}

/** Later passes: output [groups', C], adding `block` partial sums per thread, then `/ divisor`. */
export function sumPartials(
  this: IKernelFunctionThis<PartialsPassConstants>,
  partials: number[],
  divisor: number,
): number {
  const c = this.thread.y;
  const start = this.thread.x * this.constants.block;
  let sum = 0;
  for (let k = 0; k < this.constants.block; k++) {
    const j = start + k;
    if (j < this.constants.groups) {
      sum += partials[c * this.constants.groups + j];
    }
  }
  return sum / divisor;
}

/** `shift[c]` = the feature's first value (sample 0, position 0). */
export function firstValueOfFeature(this: IKernelFunctionThis<{ strideC: number }>, x: number[]): number {
  return x[this.thread.x * this.constants.strideC];
}
