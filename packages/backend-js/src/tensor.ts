import { BatchNormError, type Shape, type TensorHandle } from '@batchnorm/core';

/**
 * A tensor of the js backend: float32 values on the host, in a buffer the backend's pool owns.
 * Per-feature vectors the backend computes in float64 (batch statistics, running averages) keep
 * that float64 copy beside the float32 one, so a batch mean of `1e4 + N(0, 1)` data does not lose
 * its low digits between the forward and the backward pass.
 */
export class JsTensor implements TensorHandle {
  readonly shape: Shape;
  readonly size: number;
  #data: Float32Array | undefined;
  #float64Copy: Float64Array | undefined;

  constructor(data: Float32Array, shape: Shape, float64Copy?: Float64Array) {
    this.shape = Object.freeze([...shape]);
    this.size = data.length;
    this.#data = data;
    this.#float64Copy = float64Copy;
  }

  /** The values; throws once the tensor is disposed, so a recycled buffer is never read twice. */
  get data(): Float32Array {
    const data = this.#data;
    if (data === undefined) throw disposedError();
    return data;
  }

  /** The float64 copy of a per-feature vector, kept beside `data` when the backend computed one. */
  get float64Copy(): Float64Array | undefined {
    if (this.#data === undefined) throw disposedError();
    return this.#float64Copy;
  }

  get isDisposed(): boolean {
    return this.#data === undefined;
  }

  /** The values kernels compute with: the float64 copy when there is one, else `data`. */
  valuesForMath(): Float64Array | Float32Array {
    return this.float64Copy ?? this.data;
  }

  /** A new float64 array of the values: the float64 copy when there is one, else `data` widened. */
  float64Values(): Float64Array {
    return Float64Array.from(this.valuesForMath());
  }

  /** Marks the tensor disposed and hands its buffer back; `undefined` when already disposed. */
  static detach(t: JsTensor): Float32Array | undefined {
    const data = t.#data;
    t.#data = undefined;
    t.#float64Copy = undefined;
    return data;
  }
}

function disposedError(): BatchNormError {
  return new BatchNormError({
    code: 'INVALID_STATE',
    argument: 'tensor',
    expected: 'a tensor that has not been disposed',
    received: 'a disposed js tensor',
  });
}
