import type { BatchNormAttrs, BatchNormForwardInferenceInputs } from '@batchnorm/core';
import { fusedAttrs, fusedView, type KernelContext } from '../context.js';
import { affineNchw } from '../nchw.js';
import { wrap, type TfjsNodeTensor } from '../tensor.js';

/** NC and NHWC: one `FusedBatchNormV3` in inference mode. NCHW: the folded affine map `a·x + b`. */
export function batchNormForwardInference(
  { tf, runOp, fusedBatchNormAttrs }: KernelContext,
  { x, gamma, beta, mean, variance }: BatchNormForwardInferenceInputs<TfjsNodeTensor>,
  attrs: BatchNormAttrs,
): TfjsNodeTensor {
  const { layout } = attrs;
  const y = tf.tidy(() => {
    if (layout === 'NCHW') {
      return affineNchw(tf, x.tensor, gamma.tensor, beta.tensor, mean.tensor, variance.tensor, attrs.epsilon);
    }
    const { input, dataFormat } = fusedView(tf, x.tensor, layout);
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
