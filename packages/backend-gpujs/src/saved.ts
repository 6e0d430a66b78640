import { BatchNormError } from '@batchnorm/core';
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

/** The saved tensors, checked live: a disposed `saved` is refused with a typed error. */
export function savedTensors(saved: GpujsSaved): GpujsSaved {
  for (const t of [saved.shift, saved.shiftedMean, saved.variance]) {
    if (t.value === null) {
      throw new BatchNormError({
        code: 'INVALID_STATE',
        argument: 'saved',
        expected: 'the saved value of a training forward that has not been disposed',
        received: 'a saved value released by disposeSaved',
      });
    }
  }
  return saved;
}

/** Releases the saved textures; twice is allowed (a released tensor's value is already null). */
export function disposeSaved(device: { release(t: GpuTensor): void }, saved: GpujsSaved): void {
  device.release(saved.shift);
  device.release(saved.shiftedMean);
  device.release(saved.variance);
}
