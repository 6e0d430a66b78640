import type { Geometry } from '@batchnorm/core';

/**
 * The output grid of an elementwise batch-norm kernel: 3-D, so gpu.js hands each thread its
 * feature directly (no float division in the shader), laid out so that the flat index
 * `x + dimX·(y + dimY·z)` is the element's row-major index in the layout.
 */
export interface BatchNormGridConstants {
  [name: string]: number;
  dimX: number;
  dimY: number;
  /** 0: the feature is `thread.x` (`[N, S, C]`); 1: it is `thread.y` (`[N, C, S]`). */
  featureAxis: number;
}

/**
 * Channels-first `[N, C, S]` runs on the grid `[S, C, N]`, channels-last `[N, S, C]` on
 * `[C, S, N]`, whatever the number of spatial axes (`S` is their product). With one position per
 * map (`NC`, or `[N, C, 1, 1]`) the two orders are the same memory: the channels-last grid keeps
 * the features contiguous along `thread.x`.
 */
export function batchNormGrid(g: Geometry): { output: number[]; constants: BatchNormGridConstants } {
  if (!g.channelsLast && g.spatial > 1) {
    return { output: [g.spatial, g.c, g.n], constants: { dimX: g.spatial, dimY: g.c, featureAxis: 1 } };
  }
  return { output: [g.c, g.spatial, g.n], constants: { dimX: g.c, dimY: g.spatial, featureAxis: 0 } };
}

/** The compiled kernel's key: the grid's order and sizes (layouts of one order share kernels). */
export function gridKey(g: Geometry): string {
  const { output, constants } = batchNormGrid(g);
  return `${constants.featureAxis === 1 ? 'cf' : 'cl'}:${output.join('x')}`;
}
