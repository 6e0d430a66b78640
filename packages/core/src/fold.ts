/**
 * Batch normalization's statistics folded into one affine map per feature (paper Algorithm 2):
 * `scale[c] = γ[c]/√(σ²[c]+ε)`, `shift[c] = β[c] − μ[c]·scale[c]`, in float64 JS numbers (each
 * rounded once on store if `scale` or `shift` is a `Float32Array`). The one place the formula
 * lives: the layer's `fold()` and the backends' kernels call it, so they agree bit for bit.
 *
 * Writes `gamma.length` entries of `scale` and `shift`; inputs are trusted (callers check them).
 */
export function foldNormalization(
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  mean: ArrayLike<number>,
  variance: ArrayLike<number>,
  epsilon: number,
  scale: { [i: number]: number; readonly length: number },
  shift: { [i: number]: number; readonly length: number },
): void {
  for (let c = 0; c < gamma.length; c++) {
    scale[c] = gamma[c]! / Math.sqrt(variance[c]! + epsilon);
    // the stored scale (rounded, if float32): the one that `y = x·scale + shift` will use
    shift[c] = beta[c]! - mean[c]! * scale[c]!;
  }
}
