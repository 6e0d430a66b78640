import type { BatchNormAttrs, BatchNormBackwardInputs, BatchNormBackwardOutputs } from '@batchnorm/core';
import { fusedAttrs, fusedView, type KernelContext } from '../context.js';
import { wrap, type TfjsNodeTensor } from '../tensor.js';

/**
 * One `FusedBatchNormGradV3` (is_training): inputs dy, x, scale and the forward's reserve spaces.
 * On CPU reserve_space_1 is the batch mean and reserve_space_2 the biased batch variance, exactly
 * the `mean` and `variance` our forward returned; reserve_space_3 is unused on CPU (empty).
 * Outputs: dx, dscale, doffset and two placeholders.
 */
export function batchNormBackward(
  { tf, runOp, fusedBatchNormAttrs }: KernelContext,
  { dy, x, gamma, mean, variance }: BatchNormBackwardInputs<TfjsNodeTensor>,
  attrs: BatchNormAttrs,
): BatchNormBackwardOutputs<TfjsNodeTensor> {
  const [dx, dgamma, dbeta] = tf.tidy(() => {
    const { input, dataFormat } = fusedView(tf, x.tensor, attrs.layout);
    const dyInput = fusedView(tf, dy.tensor, attrs.layout).input;
    const none = tf.tensor1d([], 'float32');
    const [dxFused, dscale, doffset] = runOp(
      'FusedBatchNormGradV3',
      [dyInput, input, gamma.tensor, mean.tensor, variance.tensor, none],
      5,
      fusedBatchNormAttrs('FusedBatchNormGradV3', fusedAttrs(attrs, dataFormat, true)),
    );
    const dxOut = input === x.tensor ? dxFused! : tf.reshape(dxFused!, [...x.shape]);
    return [dxOut, dscale!, doffset!];
  });
  return { dx: wrap(dx!, x.shape), dgamma: wrap(dgamma!), dbeta: wrap(dbeta!) };
}
