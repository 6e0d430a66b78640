import type { BatchNormAttrs, BatchNormForwardInferenceInputs } from '@batchnorm/core';
import { fusedAttrs, fusedView, type KernelContext } from '../context.js';
import { wrap, type TfjsNodeTensor } from '../tensor.js';

/** One `FusedBatchNormV3` in inference mode (population statistics in, y out). */
export function batchNormForwardInference(
  { tf, runOp, fusedBatchNormAttrs }: KernelContext,
  { x, gamma, beta, mean, variance }: BatchNormForwardInferenceInputs<TfjsNodeTensor>,
  attrs: BatchNormAttrs,
): TfjsNodeTensor {
  const y = tf.tidy(() => {
    const { input, dataFormat } = fusedView(tf, x.tensor, attrs.layout);
    const [yFused] = runOp(
      'FusedBatchNormV3',
      [input, gamma.tensor, beta.tensor, mean.tensor, variance.tensor],
      6,
      fusedBatchNormAttrs('FusedBatchNormV3', fusedAttrs(attrs, dataFormat, false)),
    );
    return input === x.tensor ? yFused! : tf.reshape(yFused!, [...x.shape]);
  });
  return wrap(y, x.shape);
}
