/**
 * Channels-first tensors with a spatial extent (`NCL`, `NCHW`, `NCDHW`) go through tfjs ops, not
 * the fused op, on the view `[N, C, S, 1]` (`S` = the product of the spatial axes).
 * TensorFlow's CPU FusedBatchNormV3/GradV3 accept NCHW only by transposing to NHWC and back
 * inside, which made them slower than composing; on NHWC and NC the fused ops win (timings in
 * the README's "How the kernels map to TensorFlow"). The same transpose would happen at every
 * rank, so every channels-first rank takes this route. Per-feature vectors
 * broadcast as [1, C, 1, 1].
 */
import type { Tensor } from '@tensorflow/tfjs-node';
import type { TfModule } from './loader.js';

export function perFeature(tf: TfModule, v: Tensor, c: number): Tensor {
  return tf.reshape(v, [1, c, 1, 1]);
}

/**
 * Per-feature sums of a `[N, C, S, 1]` view, `→ [C]`: first along each contiguous row of S
 * values, then over N. TensorFlow's single `Sum`/`Mean` over axes [0, 2, 3] accumulates naively
 * in float32: at [32,64,56,56] with values 1e4 + sin(i) its mean was off by 7.4 and the variance
 * came out 55.8 instead of 0.5; the row-wise sums are exact there, and faster (README).
 */
export function sumPerFeature(tf: TfModule, t: Tensor): Tensor {
  const [n = 1, c = 1, h = 1, w = 1] = t.shape;
  const rowSums = tf.sum(tf.reshape(t, [n * c, h * w]), 1);
  return tf.sum(tf.reshape(rowSums, [n, c]), 0);
}

/** Batch mean and biased variance per feature, `[C]` each, in two passes (no E[x²] − E[x]²). */
export function momentsChannelsFirst(tf: TfModule, x: Tensor): { mean: Tensor; variance: Tensor } {
  const c = x.shape[1]!;
  const m = x.size / c;
  const mean = tf.div(sumPerFeature(tf, x), m);
  const variance = tf.div(sumPerFeature(tf, tf.squaredDifference(x, perFeature(tf, mean, c))), m);
  return { mean, variance };
}

/**
 * `y = a·x + b` per feature with `a = γ/√(σ² + ε)`, `b = β − μ·a` (the paper's Algorithm 2
 * fold: two passes over x). Folding costs at most the float32 rounding of `a·x`, the same order as
 * the rounding of μ itself that any float32 kernel carries.
 */
export function affineChannelsFirst(
  tf: TfModule,
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  mean: Tensor,
  variance: Tensor,
  epsilon: number,
): Tensor {
  const c = x.shape[1]!;
  const scale = tf.mul(tf.rsqrt(tf.add(perFeature(tf, variance, c), epsilon)), perFeature(tf, gamma, c));
  const shift = tf.sub(perFeature(tf, beta, c), tf.mul(perFeature(tf, mean, c), scale));
  return tf.add(tf.mul(x, scale), shift);
}

/**
 * `dx = (γ·s/m)·(m·dy − Σdy − x̂·Σ(dy·x̂))` with `s = 1/√(σ² + ε)` and `x̂ = (x − μ)·s`, regrouped
 * as `dx = γs·dy − (γs²·dγ/m)·(x − μ) − γs·dβ/m` so only per-feature vectors multiply the big
 * tensors; `x − μ` is formed first (no cancellation for inputs far from zero). Returns
 * `[dx, dγ, dβ]`, `dx` in the `[N, C, S, 1]` view.
 */
export function backwardChannelsFirst(
  tf: TfModule,
  dy: Tensor,
  x: Tensor,
  gamma: Tensor,
  mean: Tensor,
  variance: Tensor,
  epsilon: number,
): Tensor[] {
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
