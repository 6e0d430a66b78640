import { BatchNormError, type Shape } from '@batchnorm/core';
import { GPU, Texture, type IConstantsThis, type KernelFunction, type ThreadKernelVariable } from 'gpu.js';
import { KernelCache, type KernelSpec } from './kernelCache.js';
import type { GpuJsMode } from './modes.js';
import { GpuTensor, gpuTensor, sizeOf, type DeviceValue } from './tensor.js';
import { copyValues } from './kernels/copy_gpu.js';

/** A kernel argument: a tensor or a scalar uniform. */
export type KernelArgument = GpuTensor | number;

/** Copies gpu.js's (possibly nested) array output into one flat Float32Array. */
function flatten(output: unknown, size: number): Float32Array {
  if (output instanceof Float32Array && output.length === size) return output;
  const flat = new Float32Array(size);
  let offset = 0;
  const visit = (value: unknown): void => {
    if (value instanceof Float32Array) {
      flat.set(value, offset);
      offset += value.length;
    } else if (Array.isArray(value)) {
      for (const item of value) visit(item);
    } else if (typeof value === 'number') {
      flat[offset++] = value;
    }
  };
  visit(output);
  return flat;
}

/**
 * The GPU behind a backend: one gpu.js instance, its compiled kernels and the tensors' life cycle.
 * Kernel wrappers call `run`, which keeps results on the device (textures in GL modes).
 */
export class KernelContext {
  readonly mode: GpuJsMode;
  readonly gpu: GPU;
  readonly kernels: KernelCache;
  /** Device→host transfers made by `download`: the only place values leave the device. */
  downloads = 0;
  /**
   * `readPixels` calls on the GL context, counted at the context itself, so a read-back hidden
   * inside gpu.js would show too. Always 0 in cpu mode.
   */
  pixelReads = 0;
  #instrumented: boolean;
  #destroyed = false;

  constructor(mode: GpuJsMode) {
    this.mode = mode;
    this.gpu = new GPU({ mode });
    this.kernels = new KernelCache(this.gpu);
    this.#instrumented = mode === 'cpu';
  }

  get isGpu(): boolean {
    return this.mode !== 'cpu';
  }

  /** The device value of a live tensor. */
  valueOf(t: GpuTensor): DeviceValue {
    if (t.value === null) {
      throw new BatchNormError({
        code: 'INVALID_STATE',
        argument: 'tensor',
        expected: 'a tensor that has not been disposed',
        received: `a disposed tensor of shape [${t.shape.join(', ')}]`,
      });
    }
    return t.value;
  }

  /**
   * Runs the kernel compiled for `key` on `args` and returns its output as a tensor of `shape`.
   * Nothing is read back: in GL modes the result is a texture.
   */
  run<A extends ThreadKernelVariable[], C extends IConstantsThis>(
    key: string,
    fn: KernelFunction<A, C>,
    spec: KernelSpec<C>,
    args: readonly KernelArgument[],
    shape: Shape,
  ): GpuTensor {
    this.#assertLive();
    // Every texture here is one gpu.js made for this device (the backend refuses handles it did
    // not make): a gpu.js `Texture`, which the public `DeviceTexture` type only outlines.
    const values = args.map((a) => (typeof a === 'number' ? a : (this.valueOf(a) as Texture | Float32Array)));
    // gpu.js binds a kernel to the texture classes it first saw (1-, 2- and 3-D outputs differ).
    const signature = values.map((v) => (typeof v === 'number' ? 'n' : v.constructor.name)).join(',');
    const kernel = this.kernels.get(`${key}(${signature})`, fn, spec);
    const output = kernel(...values);
    if (!this.#instrumented) this.#instrumentContext();
    if (output instanceof Texture) return gpuTensor(output, shape);
    // cpu mode: gpu.js returns (nested) arrays; keep them flat so every kernel indexes alike.
    return gpuTensor(flatten(output, sizeOf(shape)), shape);
  }

  upload(data: Float32Array | Float64Array, shape: Shape): GpuTensor {
    const size = sizeOf(shape);
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    if (!this.isGpu) {
      this.#assertLive();
      return gpuTensor(values.slice(), shape);
    }
    return this.run(`upload:${size}`, copyValues, { output: [size] }, [gpuTensor(values, [size])], shape);
  }

  /** Reads a tensor back to the host: the one device→host transfer, counted in `downloads`. */
  download(t: GpuTensor): Float32Array {
    this.#assertLive();
    const value = this.valueOf(t);
    this.downloads++;
    if (value instanceof Float32Array) return value.slice();
    return flatten(value.toArray(), t.size);
  }

  release(t: GpuTensor): void {
    const value = GpuTensor.detach(t);
    if (value instanceof Texture && !this.#destroyed) value.delete();
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.kernels.destroy();
    void this.gpu.destroy();
  }

  /** Counts `readPixels` on the context gpu.js shares between its kernels (made with the first). */
  #instrumentContext(): void {
    const context = (this.gpu.context ?? null) as { readPixels?: (...args: unknown[]) => unknown } | null;
    if (context === null || typeof context.readPixels !== 'function') return;
    this.#instrumented = true;
    const readPixels = context.readPixels.bind(context);
    context.readPixels = (...args: unknown[]) => {
      this.pixelReads++;
      return readPixels(...args);
    };
  }

  #assertLive(): void {
    if (this.#destroyed) {
      throw new BatchNormError({
        code: 'INVALID_STATE',
        argument: 'backend',
        expected: 'a backend that has not been destroyed',
        received: 'a destroyed gpujs backend',
      });
    }
  }
}
