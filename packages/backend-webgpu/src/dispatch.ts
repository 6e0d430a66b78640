import { BatchNormError } from '@batchnorm/core';

/**
 * What a kernel hands the context to run: WGSL shaders (generated per device configuration) and
 * the dispatches of one call, with their buffers and parameters.
 */

/** What a shader's source depends on besides its own code. */
export interface ShaderConfig {
  /** Invocations per workgroup of the 1-d kernels (see `shaderConfig`). */
  readonly workgroupSize: number;
  /** Reduce with `subgroupAdd` (the device has the `subgroups` feature) or with a memory tree. */
  readonly subgroups: boolean;
  /** Side of matMul's square tiles (`tile²` invocations per workgroup). */
  readonly tile: number;
}

/** A WGSL compute shader, entry point `main`, generated for a configuration. */
export interface Shader {
  readonly label: string;
  readonly source: (config: ShaderConfig) => string;
}

/** A storage buffer bound to a dispatch: its first `bytes` bytes. */
export interface Binding {
  readonly buffer: GPUBuffer;
  readonly bytes: number;
}

/** One compute dispatch of a kernel call. */
export interface Dispatch {
  readonly shader: Shader;
  /**
   * Kernel parameters, bound at `@binding(0)` as a uniform struct; the storage buffers follow at
   * bindings 1, 2, … (at 0, 1, … when there are no parameters).
   */
  readonly params?: Params;
  readonly buffers: readonly Binding[];
  /**
   * Workgroups to run: a count (laid out as `[x, y]` within the per-dimension limit; shaders
   * number them `x + y·num_workgroups.x`), or explicit `[x, y]` counts.
   */
  readonly workgroups: number | readonly [number, number];
  /** Traffic by design, for the counters (see `KernelCounters`). */
  readonly bytesRead: number;
  readonly bytesWritten: number;
}

/** A uniform struct of 32-bit scalars, in declaration order. */
export type Params = readonly (readonly ['u32' | 'f32', number])[];

export function packParams(params: Params): ArrayBuffer {
  // a uniform struct's size is a multiple of 16 bytes
  const bytes = Math.max(16, Math.ceil((params.length * 4) / 16) * 16);
  const view = new DataView(new ArrayBuffer(bytes));
  params.forEach(([type, value], i) => {
    if (type === 'u32') view.setUint32(i * 4, value, true);
    else view.setFloat32(i * 4, value, true);
  });
  return view.buffer;
}

/**
 * `[x, y]` workgroup counts for `workgroups`, each at most `max` (the device's
 * `maxComputeWorkgroupsPerDimension`): a count is laid out over as few rows of `max` as it needs.
 */
export function gridOf(workgroups: number | readonly [number, number], max: number): [number, number] {
  if (typeof workgroups === 'number') {
    const x = Math.min(workgroups, max);
    const y = Math.ceil(workgroups / x);
    if (y > max) {
      throw new BatchNormError({
        code: 'NOT_SUPPORTED',
        argument: 'shape',
        expected: `at most ${max ** 2} workgroups in one dispatch`,
        received: `${workgroups} workgroups`,
      });
    }
    return [x, y];
  }
  const [x, y] = workgroups;
  if (x > max || y > max) {
    throw new BatchNormError({
      code: 'NOT_SUPPORTED',
      argument: 'shape',
      expected: `at most ${max} workgroups along each dimension`,
      received: `[${x}, ${y}] workgroups`,
    });
  }
  return [x, y];
}
