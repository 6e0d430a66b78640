import { BatchNormError, describeValue, invalidHandle, type Shape } from '@batchnorm/core';
import type { Binding } from './dispatch.js';
import type { WebGpuSaved, WebGpuTensor } from './types.js';

/**
 * A value in a pooled buffer of one backend instance's device (`owner`), until `detach` hands the
 * buffer back: a tensor or a `saved`.
 */
abstract class Pooled {
  #buffer: GPUBuffer | undefined;
  readonly #owner: object;

  constructor(owner: object, buffer: GPUBuffer) {
    this.#buffer = buffer;
    this.#owner = owner;
  }

  /** Whether the backend instance `owner` made it (a buffer of another device is unusable here). */
  isOwnedBy(owner: object): boolean {
    return this.#owner === owner;
  }

  get isDisposed(): boolean {
    return this.#buffer === undefined;
  }

  /** Bytes of its values. */
  abstract get bytes(): number;

  /** The buffer, or `undefined` once disposed. */
  protected get current(): GPUBuffer | undefined {
    return this.#buffer;
  }

  /** The buffer; throws `INVALID_HANDLE` once disposed, so a recycled buffer is never used twice. */
  abstract buffer(): GPUBuffer;

  /** Its values as a dispatch binds them. */
  get binding(): Binding {
    return { buffer: this.buffer(), bytes: this.bytes };
  }

  /** Marks the value disposed and hands its buffer back; `undefined` when already disposed. */
  static detach(value: Pooled): GPUBuffer | undefined {
    const buffer = value.#buffer;
    value.#buffer = undefined;
    return buffer;
  }
}

/**
 * A webgpu tensor: float32 values in (the first `size·4` bytes of) a pooled storage buffer of one
 * backend instance's device. Frozen, shape included: a shape changed after the fact would send a
 * kernel past its data.
 */
export class GpuTensor extends Pooled implements WebGpuTensor {
  readonly shape: Shape;
  readonly size: number;

  constructor(owner: object, buffer: GPUBuffer, shape: Shape, size: number) {
    super(owner, buffer);
    this.shape = Object.freeze([...shape]);
    this.size = size;
    Object.freeze(this);
  }

  get bytes(): number {
    return this.size * 4;
  }

  buffer(argument = 't'): GPUBuffer {
    const buffer = this.current;
    if (buffer === undefined) throw invalidHandle('webgpu', this, argument, 'disposed');
    return buffer;
  }
}

/**
 * `t` as a live tensor of this backend instance (`owner`), or `INVALID_HANDLE` naming `argument`.
 * The backend's guard has checked already; this narrows the type, and keeps a kernel from ever
 * binding another device's buffer.
 */
export function gpuTensor(t: WebGpuTensor, argument: string, owner: object): GpuTensor {
  if (!(t instanceof GpuTensor) || !t.isOwnedBy(owner)) throw invalidHandle('webgpu', t, argument, 'foreign');
  t.buffer(argument);
  return t;
}

/**
 * The training forward's `saved`: one `vec4<f32>` per feature, `(shift, mean of x − shift,
 * 1/√(σ² + ε), σ²)`, in a buffer of its own. A float32 `μ` near a large offset has lost the digits
 * `x − μ` needs (at 1e4 a float32 step is 1e-3); `(x − shift) − shiftedMean` keeps them.
 * Independent of the forward's `y`, `mean` and `variance`; backward reads it and leaves it.
 */
export class GpuSaved extends Pooled implements WebGpuSaved {
  readonly channels: number;

  constructor(owner: object, buffer: GPUBuffer, channels: number) {
    super(owner, buffer);
    this.channels = channels;
    Object.freeze(this);
  }

  get bytes(): number {
    return this.channels * 16;
  }

  buffer(): GPUBuffer {
    const buffer = this.current;
    if (buffer === undefined) {
      throw new BatchNormError({
        code: 'INVALID_HANDLE',
        argument: 'saved',
        expected: 'the saved value of a training forward that has not been disposed',
        received: 'a saved value released by disposeSaved',
      });
    }
    return buffer;
  }
}

/** `s` as a saved value of this backend instance (`owner`), or a typed error. */
export function gpuSaved(s: WebGpuSaved, owner: object, channels?: number): GpuSaved {
  if (!(s instanceof GpuSaved) || !s.isOwnedBy(owner)) {
    throw new BatchNormError({
      code: 'INVALID_HANDLE',
      argument: 'saved',
      expected: 'the saved value of a training forward of this webgpu backend instance',
      received: s instanceof GpuSaved ? 'one of another webgpu backend instance (another device)' : describeValue(s),
    });
  }
  if (channels === undefined) return s;
  s.buffer();
  if (s.channels !== channels) {
    throw new BatchNormError({
      code: 'SHAPE_MISMATCH',
      argument: 'saved',
      expected: `the saved value of a forward over ${channels} features`,
      received: `one over ${s.channels} features`,
    });
  }
  return s;
}
