import type { Geometry, Shape } from '@batchnorm/core';
import type { Tensor } from '@tensorflow/tfjs-node';
import type { DataFormat } from './tensorFlowOps.js';
import type { TfModule } from './loader.js';

/**
 * How a batch-norm kernel runs for a tensor of geometry `g`, decided on the geometry alone
 * (never on a layout's name):
 * - `fused`: TensorFlow's `FusedBatchNormV3`/`FusedBatchNormGradV3` on the NHWC view
 *   `[N, S, 1, C]`, for channels-last tensors of any rank (`NLC`, `NHWC`, `NDHWC`) and for tensors
 *   with one position per map (`NC`, or `[N, C, 1, 1]`: the same memory as `[N, C]`).
 * - `composed`: tfjs ops on the view `[N, C, S, 1]`, for channels-first tensors with a spatial
 *   extent (`NCL`, `NCHW`, `NCDHW`): TensorFlow's CPU fused ops would transpose them to NHWC and
 *   back inside, which measured slower (see channelsFirst.ts).
 */
export type Route = 'fused' | 'composed';

export function routeOf(g: Geometry): Route {
  return g.channelsLast || g.spatial === 1 ? 'fused' : 'composed';
}

/** `t` reshaped to `shape` (a view: no copy), or `t` itself when it already has that shape. */
export function viewAs(tf: TfModule, t: Tensor, shape: Shape): Tensor {
  const same = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
  return same ? t : tf.reshape(t, [...shape]);
}

/** A tensor of geometry `g` as the fused op's 4-D NHWC input `[N, S, 1, C]`. */
export function fusedView(tf: TfModule, t: Tensor, g: Geometry): { input: Tensor; dataFormat: DataFormat } {
  // A 4-D channels-last tensor is NHWC already: pass it as it is.
  const input = g.channelsLast && t.rank === 4 ? t : viewAs(tf, t, [g.n, g.spatial, 1, g.c]);
  return { input, dataFormat: 'NHWC' };
}

/** A channels-first tensor of geometry `g` as `[N, C, S, 1]`, the composed route's view. */
export function channelsFirstView(tf: TfModule, t: Tensor, g: Geometry): Tensor {
  return t.rank === 4 ? t : viewAs(tf, t, [g.n, g.c, g.spatial, 1]);
}
