import type { Backend, KernelName, TensorHandle } from '@batchnorm/core';

/**
 * A tensor of the webgpu backend: float32 values in a GPU storage buffer the backend's pool owns.
 * Opaque: pass it to this backend's kernels, `read` it, `dispose` it.
 */
export interface WebGpuTensor extends TensorHandle {
  /** Number of elements (the product of `shape`). */
  readonly size: number;
  /** True once `dispose` released its buffer: kernels and `read` then refuse it. */
  readonly isDisposed: boolean;
}

/**
 * What the training forward keeps for backward, on the device: per feature the shift of its
 * sums, the mean of `x − shift` and `1/√(σ² + ε)`. Opaque; released with `disposeSaved`.
 */
export interface WebGpuSaved {
  /** Number of features. */
  readonly channels: number;
  readonly isDisposed: boolean;
}

/** Options of `createBackend`; every key is optional. */
export interface WebGpuBackendOptions {
  /**
   * Use subgroup operations (`subgroupAdd`) in the reductions when the adapter offers the
   * `subgroups` feature and the `subgroup_id` WGSL language feature. Default `true`; `false`
   * forces the workgroup-memory tree everywhere. `details.subgroups` says which runs.
   */
  readonly subgroups?: boolean;
  /**
   * Node only: the Dawn instance flags (`create(flags)` of the `webgpu` package). Default: try
   * Dawn's default backend first and, when it gives no adapter, `['backend=opengl']` with a
   * compatibility-mode adapter (Mesa's llvmpipe on a machine without a GPU).
   */
  readonly dawnFlags?: readonly string[];
  /** `requestAdapter`'s power preference. */
  readonly powerPreference?: 'low-power' | 'high-performance';
  /** Bytes of released GPU buffers kept for reuse. Default 256 MiB. */
  readonly poolBytes?: number;
  /**
   * Time every kernel call on the GPU with timestamp queries where the adapter has the
   * `timestamp-query` feature (`stats().kernels[k].gpuMs`). Default `true`; `false` saves the
   * query resolve and the small read-back each kernel call then costs.
   */
  readonly timestamps?: boolean;
}

/** Work of one kernel since the counters were last reset. */
export interface KernelCounters {
  /** Calls of the kernel. */
  calls: number;
  /** Compute dispatches it issued. */
  dispatches: number;
  /**
   * Bytes its dispatches read and write by design (each bound element once per dispatch that
   * touches it, scratch partials included): the minimum traffic of the algorithm, not a
   * hardware counter.
   */
  bytesRead: number;
  bytesWritten: number;
  /**
   * CPU milliseconds spent in the kernel's calls: checking the arguments, taking buffers,
   * encoding and `queue.submit`. The calls return before the GPU has run anything.
   */
  submitMs: number;
  /**
   * GPU milliseconds of the kernel's calls, from the start of its first dispatch to the end of its
   * last (timestamp queries), summed over the calls whose timestamps have been read (all of them
   * once `await backend.onSubmittedWorkDone()` has resolved); or, without timestamp queries, why
   * not: the same string as `WebGpuStats.gpuTime`.
   */
  gpuMs: number | GpuTimeUnavailable;
}

/** Why a backend reports no GPU time. */
export type GpuTimeUnavailable = 'unavailable: no timestamp-query' | 'unavailable: option timestamps: false';

/** Counters of a webgpu backend: what the bench reports per kernel. */
export interface WebGpuStats {
  readonly kernels: Record<KernelName, KernelCounters>;
  /** `queue.submit` calls (one per kernel call and per `read`). */
  readonly submits: number;
  readonly uploads: { count: number; bytes: number };
  /**
   * Reads (`backend.read`): count, bytes, and `ms`, the wall time from each call until its values
   * were in hand (copy into a staging buffer, `mapAsync`, copy out), summed. A read waits for the
   * kernels queued before it: `await backend.onSubmittedWorkDone()` first to time the read alone.
   */
  readonly reads: { count: number; bytes: number; ms: number };
  /**
   * How `gpuMs` is measured: `'timestamp-query'`, or why it is not (`'unavailable: no
   * timestamp-query'`: the adapter lacks the feature, as Dawn's OpenGL adapter does).
   */
  readonly gpuTime: 'timestamp-query' | GpuTimeUnavailable;
  /** Kernel calls whose GPU timestamps are not read yet (0 after `onSubmittedWorkDone()`). */
  readonly pendingGpuTimes: number;
  /** GPU buffers created (a pooled buffer reused is not counted again). */
  readonly buffersCreated: number;
  /** Bytes of released buffers the pool holds for reuse. */
  readonly pooledBytes: number;
  /** Errors the device reported outside any call (`uncapturederror`): should stay 0. */
  readonly uncapturedErrors: number;
}

/** The webgpu backend: asynchronous reads only (WebGPU has no synchronous read-back). */
export interface WebGpuBackend extends Backend<WebGpuTensor, WebGpuSaved> {
  readonly name: 'webgpu';
  readonly dtype: 'float32';
  /** A snapshot of the counters. */
  stats(): WebGpuStats;
  /** Zeroes the counters. */
  resetStats(): void;
  /**
   * Resolves when every kernel submitted so far has finished on the GPU and its GPU time (with
   * timestamp queries) is in `stats()`.
   */
  onSubmittedWorkDone(): Promise<void>;
}
