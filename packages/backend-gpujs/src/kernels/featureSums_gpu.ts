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
  /** Which term: one of `FEATURE_TERMS`. */
  term: number;
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

/** What a first pass adds up: the `term` constant of `sumFeatureTerms`. */
export const FEATURE_TERMS = { values: 0, shifted: 1, squaredDeviations: 2, centeredProducts: 3 } as const;

/**
 * First passes: output [groups, C]; thread (g, c) adds `block` terms of feature c, the term
 * chosen by the `term` constant (compiled in: one shader per term):
 * - `values`: `x`;
 * - `shifted`: `x − shift` (shifting by a sample of the feature keeps float32 sums small);
 * - `squaredDeviations`: `((x − shift) − shiftedMean)²`, the second pass of a two-pass variance;
 * - `centeredProducts`: `dy·((x − shift) − shiftedMean)`, i.e. `dy·(x − μ)`.
 * A term that does not read `dy`, `shift` or `shiftedMean` is given `x` in its place.
 */
export function sumFeatureTerms(
  this: IKernelFunctionThis<FeaturePassConstants>,
  x: number[],
  dy: number[],
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
      if (this.constants.term === 0) {
        sum += x[i];
      } else if (this.constants.term === 1) {
        sum += x[i] - origin;
      } else if (this.constants.term === 2) {
        const d = x[i] - origin - center;
        sum += d * d;
      } else {
        sum += dy[i] * (x[i] - origin - center);
      }
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
