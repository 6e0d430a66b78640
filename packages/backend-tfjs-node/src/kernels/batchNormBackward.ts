import type { BatchNormAttrs, BatchNormBackwardInputs, BatchNormBackwardOutputs } from '@batchnorm/core';
import type { Tensor } from '@tensorflow/tfjs-node';
import { fusedAttrs, fusedView, type KernelContext } from '../context.js';
import type { TfModule } from '../loader.js';
import { perFeature, sumPerFeature } from '../nchw.js';
import { wrap, type TfjsNodeTensor } from '../tensor.js';

/**
 * NC and NHWC: one `FusedBatchNormGradV3` (is_training) on dy, x, scale and the forward's reserve
 * spaces. On CPU reserve_space_1 is the batch mean and reserve_space_2 the biased batch variance,
 * exactly the `mean` and `variance` our forward returned; reserve_space_3 is unused on CPU
 * (empty). Outputs: dx, dscale, doffset and two placeholders.
 * NCHW: composed, see `backwardNchw`.
 */
export function batchNormBackward(
  { tf, runOp, fusedBatchNormAttrs }: KernelContext,
  { dy, x, gamma, mean, variance }: BatchNormBackwardInputs<TfjsNodeTensor>,
  attrs: BatchNormAttrs,
): BatchNormBackwardOutputs<TfjsNodeTensor> {
  const { layout } = attrs;
  const [dx, dgamma, dbeta] = tf.tidy((): Tensor[] => {
    if (layout === 'NCHW') {
      return backwardNchw(tf, dy.tensor, x.tensor, gamma.tensor, mean.tensor, variance.tensor, attrs.epsilon);
    }
    const { input, dataFormat } = fusedView(tf, x.tensor, layout);
    const dyInput = fusedView(tf, dy.tensor, layout).input;
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

/**
 * `dx = (γ·s/m)·(m·dy − Σdy − x̂·Σ(dy·x̂))` with `s = 1/√(σ² + ε)` and `x̂ = (x − μ)·s`, regrouped
 * as `dx = γs·dy − (γs²·dγ/m)·(x − μ) − γs·dβ/m` so only per-feature vectors multiply the big
 * tensors; `x − μ` is formed first (no cancellation for inputs far from zero).
 */
function backwardNchw(tf: TfModule, dy: Tensor, x: Tensor, gamma: Tensor, mean: Tensor, variance: Tensor, epsilon: number): Tensor[] {
  const c = x.shape[1]!;
  const m = x.size / c;
  const invStd = tf.rsqrt(tf.add(perFeature(tf, variance, c), epsilon));
  const centered = tf.sub(x, perFeature(tf, mean, c));
  const dbeta = sumPerFeature(tf, dy);
  const dgamma = tf.mul(sumPerFeature(tf, tf.mul(dy, centered)), tf.reshape(invStd, [c]));
  const gammaInvStd = tf.mul(perFeature(tf, gamma, c), invStd);
  const centeredScale = tf.div(tf.mul(tf.mul(gammaInvStd, invStd), perFeature(tf, dgamma, c)), m);
  const shift = tf.div(tf.mul(gammaInvStd, perFeature(tf, dbeta, c)), m);
  const dx = tf.sub(tf.sub(tf.mul(dy, gammaInvStd), tf.mul(centered, centeredScale)), shift);
  return [dx, dgamma, dbeta];
}
