import { BatchNormError, describeValue } from './errors.js';
import { LAYOUTS, type Layout, type Shape } from './types.js';

/**
 * The geometry of a batch-normalized tensor, independent of its layout: `N` samples, `C`
 * features, `spatial = H·W` positions per feature map (1 for `NC`), so a feature's mini-batch
 * has `m = N·spatial` values.
 */
export interface Geometry {
  readonly layout: Layout;
  readonly n: number;
  readonly c: number;
  readonly spatial: number;
  /** Values per feature in the mini-batch: `N·H·W`. */
  readonly m: number;
  /** Total number of elements: `N·C·H·W`. */
  readonly size: number;
}

const RANK: Record<Layout, number> = { NC: 2, NCHW: 4, NHWC: 4 };

export function isLayout(value: unknown): value is Layout {
  return typeof value === 'string' && (LAYOUTS as readonly string[]).includes(value);
}

export function assertLayout(value: unknown, argument = 'layout'): asserts value is Layout {
  if (!isLayout(value)) {
    throw new BatchNormError({
      code: 'INVALID_ARGUMENT',
      argument,
      expected: `one of ${LAYOUTS.map((l) => `"${l}"`).join(', ')}`,
      received: describeValue(value),
    });
  }
}

/** Checks that a shape is a list of positive integers; returns its element count. */
export function assertShape(shape: unknown, argument = 'shape'): number {
  if (!Array.isArray(shape) || shape.length === 0) {
    throw new BatchNormError({
      code: 'INVALID_ARGUMENT',
      argument,
      expected: 'a non-empty array of positive integers',
      received: describeValue(shape),
    });
  }
  let size = 1;
  for (const d of shape as unknown[]) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) {
      throw new BatchNormError({
        code: 'INVALID_ARGUMENT',
        argument,
        expected: 'a non-empty array of positive integers',
        received: describeValue(shape),
      });
    }
    size *= d;
  }
  return size;
}

/** The geometry of `shape` read in `layout`; throws a `BatchNormError` naming `argument`. */
export function geometryOf(layout: Layout, shape: Shape, argument = 'x.shape'): Geometry {
  assertLayout(layout);
  const size = assertShape(shape, argument);
  if (shape.length !== RANK[layout]) {
    throw new BatchNormError({
      code: 'SHAPE_MISMATCH',
      argument,
      expected: `rank ${RANK[layout]} for layout ${layout} (${layoutAxes(layout)})`,
      received: `[${shape.join(', ')}] (rank ${shape.length})`,
    });
  }
  const [a = 1, b = 1, h = 1, w = 1] = shape;
  switch (layout) {
    case 'NC':
      return { layout, n: a, c: b, spatial: 1, m: a, size };
    case 'NCHW':
      return { layout, n: a, c: b, spatial: h * w, m: a * h * w, size };
    case 'NHWC':
      // shape is [N, H, W, C]
      return { layout, n: a, c: w, spatial: b * h, m: a * b * h, size };
  }
}

/** The axis names of a layout, for messages: `[N, C, H, W]`. */
export function layoutAxes(layout: Layout): string {
  return `[${layout.split('').join(', ')}]`;
}

/**
 * Flat index of element (sample `n`, feature `c`, spatial position `s`) in a tensor of
 * geometry `g`. For clarity in reference code; fast kernels walk memory in their own order.
 */
export function flatIndex(g: Geometry, n: number, c: number, s: number): number {
  switch (g.layout) {
    case 'NC':
      return n * g.c + c;
    case 'NCHW':
      return (n * g.c + c) * g.spatial + s;
    case 'NHWC':
      return (n * g.spatial + s) * g.c + c;
  }
}
