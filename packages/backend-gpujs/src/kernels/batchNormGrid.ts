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
  /** 0: the feature is `thread.x` (NC, NHWC); 1: it is `thread.y` (NCHW). */
  featureAxis: number;
}

export function batchNormGrid(g: Geometry): { output: number[]; constants: BatchNormGridConstants } {
  if (g.layout === 'NCHW') {
    return { output: [g.spatial, g.c, g.n], constants: { dimX: g.spatial, dimY: g.c, featureAxis: 1 } };
  }
  // NC is NHWC with one position per map.
  return { output: [g.c, g.spatial, g.n], constants: { dimX: g.c, dimY: g.spatial, featureAxis: 0 } };
}

export function gridKey(g: Geometry): string {
  return `${g.layout}:${g.n}x${g.c}x${g.spatial}`;
}
