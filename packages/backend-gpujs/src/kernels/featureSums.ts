import type { Geometry } from '@batchnorm/core';
import type { Device } from '../device.js';
import type { GpuTensor } from '../tensor.js';
import {
  firstValueOfFeature,
  sumCenteredProducts,
  sumPartials,
  sumShifted,
  sumSquaredDeviations,
  sumValues,
  featureValueIndex,
  type FeaturePassConstants,
} from './featureSums_gpu.js';

/**
 * Terms added up per feature. Every reduction is a tree: each pass adds `REDUCTION_BLOCK`
 * values per thread, so a float32 sum of `m` values goes through `log₃₂ m` short sequential
 * sums instead of one long one, and its rounding error grows with `32·log₃₂ m`, not `m`.
 */
export const REDUCTION_BLOCK = 32;

/** Where a feature's values sit in a flat tensor. */
export interface FeatureLayout {
  readonly c: number;
  readonly m: number;
  readonly spatial: number;
  readonly strideN: number;
  readonly strideC: number;
  readonly strideS: number;
}

/**
 * Where a feature's values sit, from the geometry alone: channels-first `[N, C, S]` (NC, NCL,
 * NCHW, NCDHW) or channels-last `[N, S, C]` (NLC, NHWC, NDHWC), any number of spatial axes.
 */
export function featureLayoutOf(g: Geometry): FeatureLayout {
  const { c, m, spatial } = g;
  return g.channelsLast
    ? { c, m, spatial, strideN: spatial * c, strideC: 1, strideS: c }
    : { c, m, spatial, strideN: c * spatial, strideC: spatial, strideS: 1 };
}

/** The columns of a row-major `[rows, cols]` matrix as features. */
export function columnsLayout(rows: number, cols: number): FeatureLayout {
  return { c: cols, m: rows, spatial: 1, strideN: cols, strideC: 1, strideS: 0 };
}

export type FeatureTerm =
  | { readonly kind: 'values'; readonly x: GpuTensor }
  | { readonly kind: 'shifted'; readonly x: GpuTensor; readonly shift: GpuTensor }
  | {
      readonly kind: 'squaredDeviations';
      readonly x: GpuTensor;
      readonly shift: GpuTensor;
      readonly shiftedMean: GpuTensor;
    }
  | {
      readonly kind: 'centeredProducts';
      readonly dy: GpuTensor;
      readonly x: GpuTensor;
      readonly shift: GpuTensor;
      readonly shiftedMean: GpuTensor;
    };

function layoutKey(l: FeatureLayout): string {
  return `${l.c}x${l.m}:${l.spatial}:${l.strideN},${l.strideC},${l.strideS}`;
}

function firstPass(device: Device, term: FeatureTerm, layout: FeatureLayout, groups: number): GpuTensor {
  const constants: FeaturePassConstants = {
    block: REDUCTION_BLOCK,
    count: layout.m,
    spatial: layout.spatial,
    strideN: layout.strideN,
    strideC: layout.strideC,
    strideS: layout.strideS,
  };
  const spec = { output: [groups, layout.c], constants, functions: [featureValueIndex] };
  const key = `featureSums:${term.kind}:${layoutKey(layout)}`;
  const shape = [layout.c, groups];
  switch (term.kind) {
    case 'values':
      return device.run(key, sumValues, spec, [term.x], shape);
    case 'shifted':
      return device.run(key, sumShifted, spec, [term.x, term.shift], shape);
    case 'squaredDeviations':
      return device.run(key, sumSquaredDeviations, spec, [term.x, term.shift, term.shiftedMean], shape);
    case 'centeredProducts':
      return device.run(key, sumCenteredProducts, spec, [term.dy, term.x, term.shift, term.shiftedMean], shape);
  }
}

/**
 * Per-feature `Σ term / divisor` as a `[C]` tensor, by a multi-pass tree reduction that stays
 * on the device.
 */
export function featureSums(device: Device, term: FeatureTerm, layout: FeatureLayout, divisor = 1): GpuTensor {
  let groups = Math.ceil(layout.m / REDUCTION_BLOCK);
  let partials = firstPass(device, term, layout, groups);
  for (;;) {
    const next = Math.ceil(groups / REDUCTION_BLOCK);
    const last = next === 1;
    const reduced = device.run(
      `sumPartials:${layout.c}:${groups}`,
      sumPartials,
      { output: [next, layout.c], constants: { block: REDUCTION_BLOCK, groups } },
      [partials, last ? divisor : 1],
      last ? [layout.c] : [layout.c, next],
    );
    device.release(partials);
    if (last) return reduced;
    partials = reduced;
    groups = next;
  }
}

/** `shift[c]`: the first value of each feature, the origin its sums are taken from. */
export function firstValues(device: Device, x: GpuTensor, layout: FeatureLayout): GpuTensor {
  return device.run(
    `firstValueOfFeature:${layout.c}:${layout.strideC}:${x.size}`,
    firstValueOfFeature,
    { output: [layout.c], constants: { strideC: layout.strideC } },
    [x],
    [layout.c],
  );
}
