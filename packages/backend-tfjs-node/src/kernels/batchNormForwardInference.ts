import { geometryOf, type BatchNormAttrs, type BatchNormForwardInferenceInputs } from '@batchnorm/core';
import { affineChannelsFirst } from '../channelsFirst.js';
import { fusedAttrs, type TensorFlowOps } from '../tensorFlowOps.js';
import { channelsFirstView, fusedView, routeOf, viewAs } from '../route.js';
import { wrap, type TfjsNodeTensor } from '../tensor.js';

/**
 * Fused route: one `FusedBatchNormV3` in inference mode on the NHWC view. Composed route: the
 * folded affine map `a·x + b` on the `[N, C, S, 1]` view.
 */
export function batchNormForwardInference(
  { tf, runOp, fusedBatchNormAttrs }: TensorFlowOps,
  { x, gamma, beta, mean, variance }: BatchNormForwardInferenceInputs<TfjsNodeTensor>,
  attrs: BatchNormAttrs,
): TfjsNodeTensor {
  const g = geometryOf(attrs.layout, x.shape);
  const y = tf.tidy(() => {
    if (routeOf(g) === 'composed') {
      const view = channelsFirstView(tf, x.tensor, g);
      const yView = affineChannelsFirst(tf, view, gamma.tensor, beta.tensor, mean.tensor, variance.tensor, attrs.epsilon);
      return viewAs(tf, yView, x.shape);
    }
    const { input, dataFormat } = fusedView(tf, x.tensor, g);
    const [yFused] = runOp(
      'FusedBatchNormV3',
      [input, gamma.tensor, beta.tensor, mean.tensor, variance.tensor],
      6,
      fusedBatchNormAttrs('FusedBatchNormV3', fusedAttrs(attrs, dataFormat, false)),
    );
    return viewAs(tf, yFused!, x.shape);
  });
  return wrap(y, x.shape);
}
