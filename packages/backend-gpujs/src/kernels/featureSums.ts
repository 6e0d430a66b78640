import type { Geometry } from '@batchnorm/core';
import type { KernelContext } from '../context.js';
import type { GpuTensor } from '../tensor.js';
import {
  FEATURE_TERMS,
  featureValueIndex,
  firstValueOfFeature,
  sumFeatureTerms,
  sumPartials,
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

function firstPass(ctx: KernelContext, term: FeatureTerm, layout: FeatureLayout, groups: number): GpuTensor {
  const constants: FeaturePassConstants = {
    block: REDUCTION_BLOCK,
    count: layout.m,
    spatial: layout.spatial,
    strideN: layout.strideN,
    strideC: layout.strideC,
    strideS: layout.strideS,
    term: FEATURE_TERMS[term.kind],
  };
  const spec = { output: [groups, layout.c], constants, functions: [featureValueIndex] };
  const key = `featureSums:${term.kind}:${layoutKey(layout)}`;
  const shape = [layout.c, groups];
  // the arguments of sumFeatureTerms: (x, dy, shift, shiftedMean), `x` where a term has none
  const args =
    term.kind === 'values'
      ? [term.x, term.x, term.x, term.x]
      : term.kind === 'shifted'
        ? [term.x, term.x, term.shift, term.x]
        : term.kind === 'squaredDeviations'
          ? [term.x, term.x, term.shift, term.shiftedMean]
          : [term.x, term.dy, term.shift, term.shiftedMean];
  return ctx.run(key, sumFeatureTerms, spec, args, shape);
}

/**
 * Per-feature `Σ term / divisor` as a `[C]` tensor, by a multi-pass tree reduction that stays
 * on the device.
 */
export function featureSums(ctx: KernelContext, term: FeatureTerm, layout: FeatureLayout, divisor = 1): GpuTensor {
  let groups = Math.ceil(layout.m / REDUCTION_BLOCK);
  let partials = firstPass(ctx, term, layout, groups);
  for (;;) {
    const next = Math.ceil(groups / REDUCTION_BLOCK);
    const last = next === 1;
    const reduced = ctx.run(
      `sumPartials:${layout.c}:${groups}`,
      sumPartials,
      { output: [next, layout.c], constants: { block: REDUCTION_BLOCK, groups } },
      [partials, last ? divisor : 1],
      last ? [layout.c] : [layout.c, next],
    );
    ctx.release(partials);
    if (last) return reduced;
    partials = reduced;
    groups = next;
  }
}

/** `shift[c]`: the first value of each feature, the origin its sums are taken from. */
export function firstValues(ctx: KernelContext, x: GpuTensor, layout: FeatureLayout): GpuTensor {
  return ctx.run(
    `firstValueOfFeature:${layout.c}:${layout.strideC}:${x.size}`,
    firstValueOfFeature,
    { output: [layout.c], constants: { strideC: layout.strideC } },
    [x],
    [layout.c],
  );
}
