import type {
  BatchNormAttrs,
  BatchNormForwardTrainingInputs,
  BatchNormForwardTrainingOutputs,
} from '@batchnorm/core';
import type { Tensor } from '@tensorflow/tfjs-node';
import { fusedAttrs, fusedView, type KernelContext } from '../context.js';
import { affineNchw, momentsNchw } from '../nchw.js';
import { wrap, type TfjsNodeTensor } from '../tensor.js';

/**
 * NC and NHWC: one `FusedBatchNormV3` (is_training). Its outputs: y, batch_mean, batch_variance
 * (Bessel-corrected, ÷(m−1)), reserve_space_1 (the mean), reserve_space_2 (on CPU: the biased
 * variance ÷m, which is our contract's `variance` and what `FusedBatchNormGradV3` wants back),
 * reserve_space_3 (unused on CPU).
 * NCHW: `momentsNchw` (two passes: mean, then mean of squared deviations) and the folded affine map.
 */
export function batchNormForwardTraining(
  { tf, runOp, fusedBatchNormAttrs }: KernelContext,
  { x, gamma, beta }: BatchNormForwardTrainingInputs<TfjsNodeTensor>,
  attrs: BatchNormAttrs,
): BatchNormForwardTrainingOutputs<TfjsNodeTensor> {
  const { layout } = attrs;
  const [y, mean, variance] = tf.tidy((): Tensor[] => {
    if (layout === 'NCHW') {
      const moments = momentsNchw(tf, x.tensor);
      const yOut = affineNchw(tf, x.tensor, gamma.tensor, beta.tensor, moments.mean, moments.variance, attrs.epsilon);
      return [yOut, moments.mean, moments.variance];
    }
    const { input, dataFormat } = fusedView(tf, x.tensor, layout);
    // No running statistics go in: the layer keeps its own.
    const none = tf.tensor1d([], 'float32');
    const [yFused, batchMean, , , biasedVariance] = runOp(
      'FusedBatchNormV3',
      [input, gamma.tensor, beta.tensor, none, none],
      6,
      fusedBatchNormAttrs('FusedBatchNormV3', fusedAttrs(attrs, dataFormat, true)),
    );
    const yOut = input === x.tensor ? yFused! : tf.reshape(yFused!, [...x.shape]);
    return [yOut, batchMean!, biasedVariance!];
  });
  return { y: wrap(y!, x.shape), mean: wrap(mean!), variance: wrap(variance!) };
}
