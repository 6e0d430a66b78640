import { KERNEL_NAMES, type KernelName, type Layout, type Tolerance, type VarianceCorrection } from '@batchnorm/core';

// numpy's allclose tolerance: core's, which compareClose takes
export type { Tolerance } from '@batchnorm/core';

/** The ops of the public schema `batchnorm-vectors/1`. */
export const BATCH_NORM_OPS = ['forwardTraining', 'forwardInference', 'backward'] as const;
export type BatchNormOp = (typeof BATCH_NORM_OPS)[number];

/**
 * Our extension of the schema: the other kernels of the contract (core's `KERNEL_NAMES` without
 * the batch-norm ones, in its order). Their tensors carry their own shapes in `shapes`, and
 * `layout` is absent.
 */
export type KernelOp = Exclude<KernelName, `batchNorm${string}`>;
export const KERNEL_OPS: readonly KernelOp[] = KERNEL_NAMES.filter(
  (name): name is KernelOp => !name.startsWith('batchNorm'),
);

export type CaseOp = BatchNormOp | KernelOp;

export type CaseAttrs = Readonly<Record<string, number | string | boolean>>;

/** Attrs of a `forwardTraining` case: how the running statistics are updated once. */
export interface TrainingAttrs {
  readonly momentum: number;
  readonly varianceCorrection: VarianceCorrection;
}

/**
 * One conformance case: inputs, the expected outputs (from the float64 reference, or from a file)
 * and optionally the tolerance to judge them with. Values are held as Float64Array in memory and
 * as plain number arrays in a vector file.
 */
export interface ConformanceCase {
  /** Says what it probes, e.g. `forwardTraining/NHWC/8x28x28x16/offset1e4`. */
  readonly name: string;
  readonly op: CaseOp;
  /** Batch-norm ops only. */
  readonly layout?: Layout;
  /** Batch-norm ops: the shape of `x` in the layout's order; kernels: the shape of the first input. */
  readonly shape: readonly number[];
  /** Batch-norm ops only. */
  readonly epsilon?: number;
  readonly attrs?: CaseAttrs;
  readonly inputs: Readonly<Record<string, Float64Array>>;
  /** Kernels only: the shape of every input (batch-norm ops derive theirs from `shape`). */
  readonly shapes?: Readonly<Record<string, readonly number[]>>;
  readonly expected: Readonly<Record<string, Float64Array>>;
  /** When absent, the runner derives it for the backend (see tolerances.ts). */
  readonly tolerance?: Tolerance;
  /** Per-output tolerances overriding `tolerance` (an extension; other readers may ignore it). */
  readonly outputTolerance?: Readonly<Record<string, Tolerance>>;
}

/** The outcome of one case (or one check) on one backend. */
export interface CaseResult {
  readonly backend: string;
  readonly case: string;
  readonly op: string;
  readonly layout?: Layout;
  readonly shape?: readonly number[];
  readonly pass: boolean;
  /** Worst `|got − want|` over every compared value (Infinity when a value was NaN/±Infinity). */
  readonly maxAbsError: number;
  /** Worst `|got − want|/|want|` over values with `want ≠ 0`. */
  readonly maxRelError: number;
  /** Worst `|got − want| / (atol + rtol·|want|)` over the compared values: < 1 passes. */
  readonly toleranceRatio?: number;
  /** Number of values outside tolerance. */
  readonly mismatches?: number;
  /** Why it failed (the first mismatch), or a note. */
  readonly message?: string;
  /** Set when the case was skipped by name (a skipped case counts as neither passed nor failed). */
  readonly skipped?: boolean;
}
