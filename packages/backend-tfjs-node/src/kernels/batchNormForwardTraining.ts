import {
  geometryOf,
  type BatchNormAttrs,
  type BatchNormForwardTrainingInputs,
  type BatchNormForwardTrainingOutputs,
} from '@batchnorm/core';
import { fusedAttrs, type TensorFlowOps } from '../tensorFlowOps.js';
import { affineChannelsFirst, momentsChannelsFirst } from '../channelsFirst.js';
import { channelsFirstView, fusedView, routeOf, viewAs } from '../route.js';
import type { TfjsSaved } from '../saved.js';
import { wrap, type TfjsNodeTensor } from '../tensor.js';

/**
 * Fused route (channels-last, or one position per map): one `FusedBatchNormV3` (is_training) on
 * the NHWC view. Its outputs: y, batch_mean, batch_variance (Bessel-corrected, ÷(m−1), unused),
 * and reserve_space_1..3, which become `saved` as they are; on CPU reserve_space_2 is the biased
 * variance ÷m, our contract's `variance`, returned as a handle of its own (`tf.clone` shares the
 * buffer, so disposing one leaves the other).
 * Composed route (channels-first with a spatial extent): `momentsChannelsFirst` (two passes:
 * mean, then mean of squared deviations) and the folded affine map; `saved` holds its own handles
 * on the mean and variance.
 */
export function batchNormForwardTraining(
  { tf, runOp, fusedBatchNormAttrs }: TensorFlowOps,
  { x, gamma, beta }: BatchNormForwardTrainingInputs<TfjsNodeTensor>,
  attrs: BatchNormAttrs,
): BatchNormForwardTrainingOutputs<TfjsNodeTensor, TfjsSaved> {
  const g = geometryOf(attrs.layout, x.shape);
  if (routeOf(g) === 'composed') {
    const [y, mean, variance, savedMean, savedVariance] = tf.tidy(() => {
      const view = channelsFirstView(tf, x.tensor, g);
      const moments = momentsChannelsFirst(tf, view);
      const yView = affineChannelsFirst(tf, view, gamma.tensor, beta.tensor, moments.mean, moments.variance, attrs.epsilon);
      return [viewAs(tf, yView, x.shape), moments.mean, moments.variance, tf.clone(moments.mean), tf.clone(moments.variance)];
    });
    return {
      y: wrap(y!, x.shape),
      mean: wrap(mean!),
      variance: wrap(variance!),
      saved: { route: 'composed', mean: savedMean!, variance: savedVariance! },
    };
  }
  const [y, mean, variance, reserveSpace1, reserveSpace2, reserveSpace3] = tf.tidy(() => {
    const { input, dataFormat } = fusedView(tf, x.tensor, g);
    // No running statistics go in: the layer keeps its own.
    const none = tf.tensor1d([], 'float32');
    const [yFused, batchMean, , r1, r2, r3] = runOp(
      'FusedBatchNormV3',
      [input, gamma.tensor, beta.tensor, none, none],
      6,
      fusedBatchNormAttrs('FusedBatchNormV3', fusedAttrs(attrs, dataFormat, true)),
    );
    return [viewAs(tf, yFused!, x.shape), batchMean!, tf.clone(r2!), r1!, r2!, r3!];
  });
  return {
    y: wrap(y!, x.shape),
    mean: wrap(mean!),
    variance: wrap(variance!),
    saved: { route: 'fused', reserveSpace1: reserveSpace1!, reserveSpace2: reserveSpace2!, reserveSpace3: reserveSpace3! },
  };
}
