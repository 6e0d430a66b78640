import { BatchNormError, describeValue } from './errors.js';
import { LAYOUTS, type Layout, type Shape } from './types.js';
import { MAX_ELEMENTS } from './validate.js';

/**
 * The geometry of a batch-normalized tensor, independent of its layout: `N` samples, `C`
 * features, `spatial = ∏ spatial axes` positions per feature map (1 for `NC`), so a feature's
 * mini-batch has `m = N·spatial` values.
 *
 * Every layout is one of two memory orders, which is all a kernel needs to know:
 * channels-first `[N, C, spatial]` (`NC`, `NCL`, `NCHW`, `NCDHW`) and channels-last
 * `[N, spatial, C]` (`NLC`, `NHWC`, `NDHWC`). `NC` is both (spatial = 1); it counts as
 * channels-first.
 */
export interface Geometry {
  readonly layout: Layout;
  /** `true` for `[N, ...spatial, C]`, `false` for `[N, C, ...spatial]`. */
  readonly channelsLast: boolean;
  readonly n: number;
  readonly c: number;
  /** Positions per feature map: the product of the spatial axes (1 for `NC`). */
  readonly spatial: number;
  /** Values per feature in the mini-batch: `N·spatial`. */
  readonly m: number;
  /** Total number of elements: `N·C·spatial`. */
  readonly size: number;
}

/** The rank of a layout's tensors: its number of letters. */
export function layoutRank(layout: Layout): number {
  return layout.length;
}

/** Whether `layout` stores features last (`NLC`, `NHWC`, `NDHWC`). */
export function isChannelsLast(layout: Layout): boolean {
  return layout.length > 2 && layout.endsWith('C');
}

/** The layout of `rank` (2 to 5) in the given order, e.g. `(4, true)` → `NHWC`; rank 2 is `NC`. */
export function layoutOf(rank: number, channelsLast: boolean): Layout {
  const found = LAYOUTS.find(
    (l) => l.length === rank && (rank === 2 || isChannelsLast(l) === channelsLast),
  );
  if (found === undefined) {
    throw new BatchNormError({
      code: 'INVALID_ARGUMENT',
      argument: 'rank',
      expected: `2 to 5 (${LAYOUTS.join(', ')})`,
      received: describeValue(rank),
    });
  }
  return found;
}

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
  if (size > MAX_ELEMENTS) {
    throw new BatchNormError({
      code: 'INVALID_ARGUMENT',
      argument,
      expected: `at most ${MAX_ELEMENTS} elements in all`,
      received: `[${(shape as number[]).join(', ')}] (${size} elements)`,
    });
  }
  return size;
}

/** The geometry of `shape` read in `layout`; throws a `BatchNormError` naming `argument`. */
export function geometryOf(layout: Layout, shape: Shape, argument = 'x.shape'): Geometry {
  assertLayout(layout);
  const size = assertShape(shape, argument);
  const rank = layoutRank(layout);
  if (shape.length !== rank) {
    throw new BatchNormError({
      code: 'SHAPE_MISMATCH',
      argument,
      expected: `rank ${rank} for layout ${layout} (${layoutAxes(layout)})`,
      received: `[${shape.join(', ')}] (rank ${shape.length})`,
    });
  }
  const channelsLast = isChannelsLast(layout);
  const n = shape[0]!;
  const c = channelsLast ? shape[rank - 1]! : shape[1]!;
  const spatial = size / (n * c);
  return { layout, channelsLast, n, c, spatial, m: n * spatial, size };
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
  return g.channelsLast ? (n * g.spatial + s) * g.c + c : (n * g.c + c) * g.spatial + s;
}
