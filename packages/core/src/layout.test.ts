import { describe, expect, it } from 'vitest';
import { expectBatchNormError, randomArray, reference, tensor, values } from './__tests__/helpers.js';
import { flatIndex, geometryOf, isChannelsLast, layoutOf, layoutRank } from './layout.js';
import { LAYOUTS, type Layout } from './types.js';

// Layouts of any rank: N, C and 0 to 3 spatial axes, channels-first or channels-last.
const shapes: Record<Layout, number[]> = {
  NC: [5, 3],
  NCL: [2, 3, 4],
  NLC: [2, 4, 3],
  NCHW: [2, 3, 2, 5],
  NHWC: [2, 2, 5, 3],
  NCDHW: [2, 3, 2, 3, 2],
  NDHWC: [2, 2, 3, 2, 3],
};

/** The same values moved from channels-first `[N, C, S]` to channels-last `[N, S, C]`. */
function toChannelsLast(data: ArrayLike<number>, n: number, c: number, s: number): Float64Array {
  const out = new Float64Array(n * c * s);
  for (let b = 0; b < n; b++) for (let k = 0; k < c; k++) for (let p = 0; p < s; p++) out[(b * s + p) * c + k] = data[(b * c + k) * s + p]!;
  return out;
}

describe('layouts of any rank', () => {
  it.each(LAYOUTS)('%s: geometry from the shape in its own order', (layout) => {
    const shape = shapes[layout];
    const g = geometryOf(layout, shape);
    expect(layoutRank(layout)).toBe(shape.length);
    expect(g.channelsLast).toBe(isChannelsLast(layout));
    expect(g.n).toBe(shape[0]);
    expect(g.c).toBe(3);
    expect(g.spatial * g.n * g.c).toBe(g.size);
    expect(g.m).toBe(g.n * g.spatial);
    expect(layoutOf(shape.length, g.channelsLast)).toBe(layout);
  });

  it.each(LAYOUTS)('%s: flatIndex visits every element once', (layout) => {
    const g = geometryOf(layout, shapes[layout]);
    const seen = new Set<number>();
    for (let n = 0; n < g.n; n++) for (let c = 0; c < g.c; c++) for (let s = 0; s < g.spatial; s++) seen.add(flatIndex(g, n, c, s));
    expect(seen.size).toBe(g.size);
    expect(Math.max(...seen)).toBe(g.size - 1);
  });

  it('channels-last is the last axis, channels-first the second', () => {
    expect(LAYOUTS.filter(isChannelsLast)).toEqual(['NLC', 'NHWC', 'NDHWC']);
    expect(layoutOf(2, true)).toBe('NC');
    expectBatchNormError(() => layoutOf(6, false), 'INVALID_ARGUMENT', 'rank');
  });

  it.each([
    ['NCL', [2, 3]],
    ['NDHWC', [2, 3, 4, 5]],
    ['NCDHW', [2, 3, 4, 5, 6, 7]],
  ] as const)('%s with shape %j: SHAPE_MISMATCH naming the rank', (layout, shape) => {
    const error = expectBatchNormError(() => geometryOf(layout, shape), 'SHAPE_MISMATCH', 'x.shape');
    expect(error.expected).toContain(`rank ${layoutRank(layout)}`);
  });

  it('a 3-D volume normalizes like the flattened sequence, and the same in either memory order', () => {
    const [n, c, d, h, w] = [2, 3, 2, 3, 2];
    const s = d * h * w;
    const data = randomArray(7, n * c * s, 3, 5);
    const dy = randomArray(8, n * c * s);
    const gamma = tensor([1.5, -1, 0.5], [3]);
    const beta = tensor([0, 1, 2], [3]);
    const run = (layout: Layout, shape: number[], x: Float64Array, grad: Float64Array) => {
      const attrs = { layout, epsilon: 1e-3 };
      const xt = tensor(x, shape);
      const f = reference.batchNormForwardTraining({ x: xt, gamma, beta }, attrs);
      const b = reference.batchNormBackward({ dy: tensor(grad, shape), x: xt, gamma, saved: f.saved }, attrs);
      return { y: values(f.y), mean: values(f.mean), dx: values(b.dx), dgamma: values(b.dgamma) };
    };
    const volume = run('NCDHW', [n, c, d, h, w], data, dy);
    const sequence = run('NCL', [n, c, s], data, dy);
    expect(volume).toEqual(sequence);
    const last = run('NDHWC', [n, d, h, w, c], toChannelsLast(data, n, c, s), toChannelsLast(dy, n, c, s));
    // the reference visits each feature's values in the same (n, s) order in both layouts
    expect(last.mean).toEqual(volume.mean);
    expect(last.dgamma).toEqual(volume.dgamma);
    expect(last.y).toEqual(Array.from(toChannelsLast(volume.y, n, c, s)));
    expect(last.dx).toEqual(Array.from(toChannelsLast(volume.dx, n, c, s)));
  });
});
