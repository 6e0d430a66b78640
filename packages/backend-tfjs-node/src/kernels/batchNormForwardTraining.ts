import type {
  BatchNormAttrs,
  BatchNormForwardTrainingInputs,
  BatchNormForwardTrainingOutputs,
} from '@batchnorm/core';
import { fusedAttrs, fusedView, type KernelContext } from '../context.js';
import { wrap, type TfjsNodeTensor } from '../tensor.js';

/**
 * One `FusedBatchNormV3` (is_training). Its outputs: y, batch_mean, batch_variance (Bessel-
 * corrected, ÷(m−1)), reserve_space_1 (the mean), reserve_space_2 (on CPU: the biased variance
 * ÷m, which is our contract's `variance` and what `FusedBatchNormGradV3` wants back),
 * reserve_space_3 (unused on CPU).
 */
export function batchNormForwardTraining(
  { tf, runOp, fusedBatchNormAttrs }: KernelContext,
  { x, gamma, beta }: BatchNormForwardTrainingInputs<TfjsNodeTensor>,
  attrs: BatchNormAttrs,
): BatchNormForwardTrainingOutputs<TfjsNodeTensor> {
  const [y, mean, variance] = tf.tidy(() => {
    const { input, dataFormat } = fusedView(tf, x.tensor, attrs.layout);
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
