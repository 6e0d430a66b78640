import type { Shape, TensorHandle } from '@batchnorm/core';
import type { Texture } from 'gpu.js';

/** What holds a tensor's values: a texture on the GPU, or a Float32Array in cpu mode. */
export type DeviceValue = Texture | Float32Array;

/**
 * A gpu.js tensor. Its values are stored flat, in row-major order of `shape`, whatever the
 * output dimensions of the kernel that wrote them: every kernel reads its inputs by flat index.
 */
export interface GpuTensor extends TensorHandle {
  readonly shape: Shape;
  readonly size: number;
  /** `null` once disposed. */
  value: DeviceValue | null;
}

export function sizeOf(shape: Shape): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

export function gpuTensor(value: DeviceValue, shape: Shape): GpuTensor {
  return { shape: [...shape], size: sizeOf(shape), value };
}
