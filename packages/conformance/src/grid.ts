import { LAYOUTS, type Layout } from '@batchnorm/core';
import { batchNormCase, REGIMES } from './batchNormCases.js';
import { kernelCases } from './kernelCases.js';
import { BATCH_NORM_OPS, type ConformanceCase } from './types.js';

export { EPSILON, REGIMES, type Regime } from './batchNormCases.js';
export { GRID_SEED, seedOf } from './gridValues.js';

export type GridSize = 'quick' | 'full';

interface ShapeSpec {
  readonly shape: readonly number[];
  /** Only in the full grid (the large shapes, and the new ranks' extra shapes). */
  readonly fullOnly?: boolean;
}

/**
 * Shapes per layout, in the layout's own order. The rank-2 and rank-4 layouts have m = 2, C = 1,
 * odd sizes, the paper's and one large shape. The rank-3 and rank-5 layouts run the same kernels
 * (which see the spatial axes only through their product and branch on channels-first/last),
 * so the quick grid takes two small shapes each, N = 1 with a spatial extent and N > 1, whose
 * last spatial axis is longer than 1 (a kernel that forgets an axis, as a rank-4 one would,
 * shows); the full grid adds C = 1 and a large shape. The quick ones are small enough to be
 * shipped in the vector file.
 */
export const GRID_SHAPES: Readonly<Record<Layout, readonly ShapeSpec[]>> = {
  NC: [
    { shape: [2, 3] },
    { shape: [5, 1] },
    { shape: [7, 13] },
    { shape: [60, 100] },
    { shape: [256, 1024], fullOnly: true },
  ],
  NCL: [
    { shape: [1, 3, 4] },
    { shape: [2, 3, 4] },
    { shape: [5, 1, 37], fullOnly: true },
    { shape: [16, 64, 100], fullOnly: true },
  ],
  NLC: [
    { shape: [1, 4, 3] },
    { shape: [2, 4, 3] },
    { shape: [5, 37, 1], fullOnly: true },
    { shape: [16, 100, 64], fullOnly: true },
  ],
  NCHW: [
    { shape: [1, 3, 1, 2] },
    { shape: [3, 1, 5, 7] },
    { shape: [2, 7, 3, 5] },
    { shape: [4, 8, 10, 10] },
    { shape: [8, 16, 28, 28], fullOnly: true },
  ],
  NHWC: [
    { shape: [1, 1, 2, 3] },
    { shape: [3, 5, 7, 1] },
    { shape: [2, 3, 5, 7] },
    { shape: [4, 10, 10, 8] },
    { shape: [8, 28, 28, 16], fullOnly: true },
  ],
  NCDHW: [
    { shape: [1, 2, 2, 1, 3] },
    { shape: [2, 3, 1, 2, 2] },
    { shape: [3, 1, 3, 5, 7], fullOnly: true },
    { shape: [4, 8, 8, 14, 14], fullOnly: true },
  ],
  NDHWC: [
    { shape: [1, 2, 1, 3, 2] },
    { shape: [2, 1, 2, 2, 3] },
    { shape: [3, 3, 5, 7, 1], fullOnly: true },
    { shape: [4, 8, 14, 14, 8], fullOnly: true },
  ],
};

/**
 * The seeded case grid: every batch-norm op × layout (all of core's `LAYOUTS`) × shape × value
 * regime, then the other kernels of the contract. Expected values come from core's float64
 * reference on float32-rounded inputs. `quick` leaves out the shapes marked `fullOnly`.
 */
export function buildGrid(size: GridSize = 'quick'): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  for (const op of BATCH_NORM_OPS) {
    for (const layout of LAYOUTS) {
      for (const { shape, fullOnly } of GRID_SHAPES[layout]) {
        if (fullOnly === true && size === 'quick') continue;
        for (const regime of REGIMES) cases.push(batchNormCase(op, layout, shape, regime));
      }
    }
  }
  cases.push(...kernelCases(size));
  return cases;
}
