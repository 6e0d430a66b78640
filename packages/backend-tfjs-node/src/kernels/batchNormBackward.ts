import { geometryOf, type BatchNormAttrs, type BatchNormBackwardInputs, type BatchNormBackwardOutputs } from '@batchnorm/core';
import type { Tensor } from '@tensorflow/tfjs-node';
import { backwardChannelsFirst } from '../channelsFirst.js';
import { fusedAttrs, type TensorFlowOps } from '../tensorFlowOps.js';
import { channelsFirstView, fusedView, routeOf, viewAs } from '../route.js';
import { checkedSaved, type TfjsSaved } from '../saved.js';
import { wrap, type TfjsNodeTensor } from '../tensor.js';

/**
 * Fused route: one `FusedBatchNormGradV3` (is_training) on dy, x, scale and the forward's three
 * reserve spaces from `saved`. Outputs: dx, dscale, doffset and two placeholders.
 * Composed route: `backwardChannelsFirst` with the forward's mean and variance from `saved`.
 * Both take `ε` from `attrs`, as the contract says.
 */
export function batchNormBackward(
  { tf, runOp, fusedBatchNormAttrs }: TensorFlowOps,
  { dy, x, gamma, saved }: BatchNormBackwardInputs<TfjsNodeTensor, TfjsSaved>,
  attrs: BatchNormAttrs,
): BatchNormBackwardOutputs<TfjsNodeTensor> {
  const g = geometryOf(attrs.layout, x.shape);
  const s = checkedSaved(saved, routeOf(g));
  const [dx, dgamma, dbeta] = tf.tidy((): Tensor[] => {
    if (s.route === 'composed') {
      const [dxView, dgammaOut, dbetaOut] = backwardChannelsFirst(
        tf,
        channelsFirstView(tf, dy.tensor, g),
        channelsFirstView(tf, x.tensor, g),
        gamma.tensor,
        s.mean,
        s.variance,
        attrs.epsilon,
      );
      return [viewAs(tf, dxView!, x.shape), dgammaOut!, dbetaOut!];
    }
    const { input, dataFormat } = fusedView(tf, x.tensor, g);
    const [dxFused, dscale, doffset] = runOp(
      'FusedBatchNormGradV3',
      [fusedView(tf, dy.tensor, g).input, input, gamma.tensor, s.reserveSpace1, s.reserveSpace2, s.reserveSpace3],
      5,
      fusedBatchNormAttrs('FusedBatchNormGradV3', fusedAttrs(attrs, dataFormat, true)),
    );
    return [viewAs(tf, dxFused!, x.shape), dscale!, doffset!];
  });
  return { dx: wrap(dx!, x.shape), dgamma: wrap(dgamma!), dbeta: wrap(dbeta!) };
}
