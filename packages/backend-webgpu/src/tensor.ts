import { BatchNormError, describeValue, invalidHandle, type Shape } from '@batchnorm/core';
import type { WebGpuSaved, WebGpuTensor } from './types.js';

/**
 * A webgpu tensor: float32 values in (the first `size·4` bytes of) a pooled storage buffer of one
 * backend instance's device. Frozen, shape included: a shape changed after the fact would send a
 * kernel past its data.
 */
export class GpuTensor implements WebGpuTensor {
  readonly shape: Shape;
  readonly size: number;
  #buffer: GPUBuffer | undefined;
  readonly #owner: object;

  constructor(owner: object, buffer: GPUBuffer, shape: Shape, size: number) {
    this.shape = Object.freeze([...shape]);
    this.size = size;
    this.#buffer = buffer;
    this.#owner = owner;
    Object.freeze(this);
  }

  /** Whether the backend instance `owner` made it (a buffer of another device is unusable here). */
  isOwnedBy(owner: object): boolean {
    return this.#owner === owner;
  }

  get isDisposed(): boolean {
    return this.#buffer === undefined;
  }

  /** Bytes of its values. */
  get bytes(): number {
    return this.size * 4;
  }

  /** The buffer; throws `INVALID_HANDLE` once disposed, so a recycled buffer is never used twice. */
  buffer(argument = 't'): GPUBuffer {
    const buffer = this.#buffer;
    if (buffer === undefined) throw invalidHandle('webgpu', this, argument, 'disposed');
    return buffer;
  }

  /** Marks the tensor disposed and hands its buffer back; `undefined` when already disposed. */
  static detach(t: GpuTensor): GPUBuffer | undefined {
    const buffer = t.#buffer;
    t.#buffer = undefined;
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
export class GpuSaved implements WebGpuSaved {
  readonly channels: number;
  #buffer: GPUBuffer | undefined;
  readonly #owner: object;

  constructor(owner: object, buffer: GPUBuffer, channels: number) {
    this.channels = channels;
    this.#buffer = buffer;
    this.#owner = owner;
    Object.freeze(this);
  }

  isOwnedBy(owner: object): boolean {
    return this.#owner === owner;
  }

  get isDisposed(): boolean {
    return this.#buffer === undefined;
  }

  get bytes(): number {
    return this.channels * 16;
  }

  buffer(): GPUBuffer {
    const buffer = this.#buffer;
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

  static detach(s: GpuSaved): GPUBuffer | undefined {
    const buffer = s.#buffer;
    s.#buffer = undefined;
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
