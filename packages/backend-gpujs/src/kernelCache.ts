import type { GPU, IConstantsThis, IKernelRunShortcut, KernelFunction, ThreadKernelVariable } from 'gpu.js';

/** Settings of one compiled kernel; sizes live in `output` and `constants`. */
export interface KernelSpec<C> {
  readonly output: readonly number[];
  readonly constants?: C;
  /** Helper functions the kernel calls. */
  readonly functions?: readonly ((...args: number[]) => number)[];
}

/**
 * Compiled gpu.js kernels, one per operation and shape: a gpu.js kernel has a fixed output size
 * and compiles its sizes into the shader, so a new shape needs a new kernel.
 */
export class KernelCache {
  readonly #gpu: GPU;
  readonly #kernels = new Map<string, IKernelRunShortcut>();

  constructor(gpu: GPU) {
    this.#gpu = gpu;
  }

  get size(): number {
    return this.#kernels.size;
  }

  /** The kernel for `key` (an op name plus every size it depends on), compiled on first use. */
  get<A extends ThreadKernelVariable[], C extends IConstantsThis>(
    key: string,
    fn: KernelFunction<A, C>,
    spec: KernelSpec<C>,
  ): IKernelRunShortcut {
    let kernel = this.#kernels.get(key);
    if (kernel === undefined) {
      const loopLength = Math.max(1000, ...Object.values(spec.constants ?? {}).filter((v) => typeof v === 'number'));
      kernel = this.#gpu.createKernel(fn, {
        output: [...spec.output],
        constants: spec.constants ?? {},
        functions: spec.functions === undefined ? [] : [...spec.functions],
        // Outputs stay on the device and each call gets a texture of its own.
        pipeline: true,
        immutable: true,
        precision: 'single',
        tactic: 'precision',
        // Input textures come from kernels of different output dimensions: read their sizes
        // from uniforms instead of compiling the first one's in.
        dynamicArguments: true,
      });
      // Loops run to sizes held in constants; the bound only guards dynamic loops.
      kernel.setLoopMaxIterations(loopLength);
      this.#kernels.set(key, kernel);
    }
    return kernel;
  }

  destroy(): void {
    for (const kernel of this.#kernels.values()) kernel.destroy();
    this.#kernels.clear();
  }
}
