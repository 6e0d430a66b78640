import type { KernelOp } from '../byteModel.js';
import type { KernelInputs } from '../data.js';
import type { KernelOutputName } from '../expected.js';

/** Host copies of a kernel's outputs, read back inside the timed call. */
export type KernelOutputs = Partial<Record<KernelOutputName, ArrayLike<number>>>;

/** One kernel on one shape, inputs already on the device. */
export interface PreparedKernel {
  /** Whether `run` returns a promise (a backend that reads asynchronously only). */
  readonly isAsync: boolean;
  /** Runs the kernel, reads every output back to the host and releases the device copies. */
  run(): KernelOutputs | Promise<KernelOutputs>;
  /** Releases the inputs. */
  dispose(): void;
}

/** Something whose batch-norm kernels are timed: one of our backends, or an anchor. */
export interface KernelSubject {
  /** As reported: `js`, `tfjs-node`, `gpujs`, `reference`, `tfjs-cpu`, `tfjs-wasm`, `tfjs-node-composed`. */
  readonly name: string;
  /** Facts for the report (gpu.js mode, wasm SIMD, …). */
  readonly details: Readonly<Record<string, string | number | boolean>>;
  prepare(op: KernelOp, inputs: KernelInputs): Promise<PreparedKernel>;
  destroy(): void;
}
