import { BatchNormError, geometryOf, isLayout, type Layout, type Shape } from '@batchnorm/core';

/** One tensor the kernels are timed on. */
export interface BenchShape {
  readonly layout: Layout;
  readonly shape: Shape;
}

/** The paper's MNIST batch, a wide layer, a large layer, and a conv feature map in both layouts. */
export const FULL_SHAPES: readonly BenchShape[] = [
  { layout: 'NC', shape: [60, 100] },
  { layout: 'NC', shape: [256, 4096] },
  { layout: 'NC', shape: [4096, 4096] },
  { layout: 'NCHW', shape: [32, 64, 56, 56] },
  { layout: 'NHWC', shape: [32, 56, 56, 64] },
];

/** `--quick`: the 64 MB shape is left out; the conv shapes stay (they carry the targets). */
export const QUICK_SHAPES: readonly BenchShape[] = FULL_SHAPES.filter(
  (s) => !(s.layout === 'NC' && s.shape[0] === 4096),
);

/** Tensors of at least this many elements are "large": far beyond the caches, memory-bound. */
export const LARGE_SIZE = 4_000_000;

export function sizeOf(s: BenchShape): number {
  return geometryOf(s.layout, s.shape).size;
}

export function isLarge(s: BenchShape): boolean {
  return sizeOf(s) >= LARGE_SIZE;
}

export function describeShape(s: BenchShape): string {
  return `${s.layout} [${s.shape.join(',')}]`;
}

/** Parses `NC:60x100,NHWC:2x4x4x3` (the hidden `--shapes` flag). */
export function parseShapes(text: string): BenchShape[] {
  return text.split(',').map((item) => {
    const [layout, dims = ''] = item.trim().split(':');
    const shape = dims.split('x').map(Number);
    if (!isLayout(layout)) {
      throw new BatchNormError({
        code: 'INVALID_ARGUMENT',
        argument: '--shapes',
        expected: 'items like NC:60x100 or NHWC:2x4x4x3 (layout NC, NCHW or NHWC)',
        received: JSON.stringify(item),
      });
    }
    geometryOf(layout, shape, '--shapes');
    return { layout, shape };
  });
}
