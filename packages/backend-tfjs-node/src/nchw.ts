/**
 * NCHW goes through tfjs ops, not the fused op. TensorFlow's CPU FusedBatchNormV3/GradV3 accept
 * NCHW only by transposing to NHWC and back inside, which made them slower than composing here
 * (CPU ms per call at [32,64,56,56], pooled allocator: forward fused 47 vs composed 23, backward
 * fused 66 vs composed 51); on NHWC and NC the fused ops win (forward 15 vs 19, backward 17 vs
 * 33 at [32,56,56,64]). Per-feature vectors broadcast as [1, C, 1, 1].
 */
import type { Tensor } from '@tensorflow/tfjs-node';
import type { TfModule } from './loader.js';

export function perFeature(tf: TfModule, v: Tensor, c: number): Tensor {
  return tf.reshape(v, [1, c, 1, 1]);
}

export const NCHW_REDUCTION_AXES = [0, 2, 3];

/**
 * `y = a·x + b` per feature with `a = γ/√(σ² + ε)`, `b = β − μ·a` (the paper's Algorithm 2
 * fold: two passes over x). Folding costs at most the float32 rounding of `a·x`, the same order as
 * the rounding of μ itself that any float32 kernel carries.
 */
export function affineNchw(tf: TfModule, x: Tensor, gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor, epsilon: number): Tensor {
  const c = x.shape[1]!;
  const scale = tf.mul(tf.rsqrt(tf.add(perFeature(tf, variance, c), epsilon)), perFeature(tf, gamma, c));
  const shift = tf.sub(perFeature(tf, beta, c), tf.mul(perFeature(tf, mean, c), scale));
  return tf.add(tf.mul(x, scale), shift);
}
