import type { Shape, TensorHandle } from '@batchnorm/core';

/**
 * A gpu.js texture, as far as this package's declarations name it (gpu.js's `Texture` is one).
 * Ours, so that the published types do not load gpu.js's own declarations into users' builds.
 */
export interface DeviceTexture {
  toArray(): unknown;
  delete(): void;
}

/** What holds a tensor's values: a texture on the GPU, or a Float32Array in cpu mode. */
export type DeviceValue = DeviceTexture | Float32Array;

/**
 * A gpu.js tensor. Its values are stored flat, in row-major order of `shape`, whatever the
 * output dimensions of the kernel that wrote them: every kernel reads its inputs by flat index.
 * The backend's `HandleRegistry` freezes the handles it hands out, so what changes on release
 * (the device value) is a private field.
 */
export class GpuTensor implements TensorHandle {
  readonly shape: Shape;
  readonly size: number;
  #value: DeviceValue | null;

  constructor(value: DeviceValue, shape: Shape) {
    this.shape = Object.freeze([...shape]);
    this.size = sizeOf(shape);
    this.#value = value;
  }

  /** `null` once released. */
  get value(): DeviceValue | null {
    return this.#value;
  }

  /** Marks `t` released and returns the value it held (`null` when already released). */
  static detach(t: GpuTensor): DeviceValue | null {
    const value = t.#value;
    t.#value = null;
    return value;
  }
}

export function sizeOf(shape: Shape): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

export function gpuTensor(value: DeviceValue, shape: Shape): GpuTensor {
  return new GpuTensor(value, shape);
}
