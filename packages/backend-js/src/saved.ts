import { BatchNormError, describeValue } from '@batchnorm/core';

/**
 * What the js backend's training forward keeps for its backward pass: the batch mean and the
 * biased batch variance per feature, in float64, exactly as the forward computed them. The
 * `mean` and `variance` tensors the forward returns round them to float32; a `1e4 + N(0, 1)`
 * batch would lose the low digits of its mean there, and backward centres `x` on that mean.
 *
 * Its own arrays (copies, not the tensors' storage), so disposing or updating the forward's
 * tensors leaves it valid; plain `Float64Array`s, so it holds no pooled buffer and the garbage
 * collector frees one that is never disposed. `disposeSaved` marks it released: backward then
 * refuses it, as kernels refuse a disposed tensor.
 */
export class JsSaved {
  #mean: Float64Array | undefined;
  #variance: Float64Array | undefined;

  constructor(mean: Float64Array, variance: Float64Array) {
    this.#mean = mean;
    this.#variance = variance;
  }

  /** Batch mean `μ_B` per feature. */
  get mean(): Float64Array {
    const mean = this.#mean;
    if (mean === undefined) throw releasedError();
    return mean;
  }

  /** Biased batch variance `σ²_B` per feature. */
  get variance(): Float64Array {
    const variance = this.#variance;
    if (variance === undefined) throw releasedError();
    return variance;
  }

  get isDisposed(): boolean {
    return this.#mean === undefined;
  }

  /** Releases the statistics; a second call does nothing. */
  static release(saved: JsSaved): void {
    saved.#mean = undefined;
    saved.#variance = undefined;
  }
}

/**
 * `saved` as the js backend's own, or a typed error (a reference or gpujs `saved`, say); with
 * `channels`, also checks it holds statistics of that many features.
 */
export function assertJsSaved(saved: unknown, channels?: number): JsSaved {
  if (!(saved instanceof JsSaved)) {
    throw new BatchNormError({
      code: 'INVALID_ARGUMENT',
      argument: 'saved',
      expected: "the saved value of this backend's batchNormForwardTraining",
      received: describeValue(saved),
    });
  }
  if (channels !== undefined && saved.mean.length !== channels) {
    throw new BatchNormError({
      code: 'SHAPE_MISMATCH',
      argument: 'saved',
      expected: `statistics of ${channels} features (the channels of x)`,
      received: `statistics of ${saved.mean.length} features`,
    });
  }
  return saved;
}

function releasedError(): BatchNormError {
  return new BatchNormError({
    code: 'INVALID_STATE',
    argument: 'saved',
    expected: 'a saved value that has not been disposed',
    received: 'a disposed js saved value',
  });
}
