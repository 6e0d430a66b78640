import type { GpuTensor } from './tensor.js';

/**
 * What the training forward keeps for backward, on the device: the batch statistics in the
 * shifted form the forward computed them in. A float32 `μ` near a large offset has lost the
 * digits `x − μ` needs (at 1e4 a float32 step is 1e-3); `(x − shift) − shiftedMean` keeps them.
 * Its textures are its own (disposing the forward's `y`, `mean` or `variance` leaves it valid);
 * backward reads them and leaves them; `disposeSaved` deletes them.
 */
export interface GpujsSaved {
  /** `[C]`: each feature's first value (sample 0, position 0), the origin of its sums. */
  readonly shift: GpuTensor;
  /** `[C]`: `μ − shift`, the mean of `x − shift`. */
  readonly shiftedMean: GpuTensor;
  /** `[C]`: the biased batch variance `σ²`, a texture of its own (backward adds its own `ε`). */
  readonly variance: GpuTensor;
}

/** Releases the saved textures; twice is allowed (a released tensor's value is already null). */
export function disposeSaved(ctx: { release(t: GpuTensor): void }, saved: GpujsSaved): void {
  ctx.release(saved.shift);
  ctx.release(saved.shiftedMean);
  ctx.release(saved.variance);
}
