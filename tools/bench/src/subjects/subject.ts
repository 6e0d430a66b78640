import type { KernelOp } from '../byteModel.js';
import type { KernelInputs } from '../data.js';
import type { KernelOutputName } from '../expected.js';

/** Host copies of a kernel's outputs, read back inside the timed call. */
export type KernelOutputs = Partial<Record<KernelOutputName, ArrayLike<number>>>;

/** The resident form of a kernel: outputs stay handles, disposed, nothing read. */
export interface ResidentRun {
  /** Whether `run` returns a promise (waiting for a GPU queue). */
  readonly isAsync: boolean;
  /** Runs the kernel, disposes its outputs unread, and returns once the work has finished. */
  run(): void | Promise<void>;
}

/** One kernel on one shape, inputs already on the device. */
export interface PreparedKernel {
  /** Whether `run` returns a promise (a backend that reads asynchronously only). */
  readonly isAsync: boolean;
  /** Runs the kernel, reads every output back to the host and releases the device copies. */
  run(): KernelOutputs | Promise<KernelOutputs>;
  /** The same kernel without the read, or why it cannot be timed so (said in the report). */
  readonly resident: ResidentRun | { readonly unavailable: string };
  /** Releases the inputs. */
  dispose(): void;
}

/** A backend's own counters (webgpu's `stats()`), read around one counted call. */
export interface SubjectCounters {
  reset(): void;
  /** The counters now, reduced to what concerns `op`'s kernel (see `BenchResult.counters`). */
  snapshot(op: KernelOp): Record<string, unknown>;
}

/** Something whose batch-norm kernels are timed: one of our backends, or an anchor. */
export interface KernelSubject {
  /** As reported: `js`, `tfjs-node`, `gpujs`, `reference`, `tfjs-cpu`, `tfjs-wasm`, `tfjs-node-composed`. */
  readonly name: string;
  /** Facts for the report (gpu.js mode, wasm SIMD, …). */
  readonly details: Readonly<Record<string, string | number | boolean>>;
  /** How a resident call knows the work finished, or why there is no resident timing. */
  readonly resident?: string;
  /** Set when this subject's times are no speed claim (software GPU), saying why. */
  readonly noSpeedClaim?: string;
  /** Present when the backend keeps counters of its own. */
  readonly counters?: SubjectCounters;
  prepare(op: KernelOp, inputs: KernelInputs): Promise<PreparedKernel>;
  destroy(): void;
}
