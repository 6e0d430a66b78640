import type { KernelOp } from '../byteModel.js';
import type { TfjsEngine } from '../names.js';
import type { BenchResult, SkippedEntry, SubjectInfo } from '../results.js';
import type { TimedModes } from '../runKernels.js';
import type { BenchShape } from '../shapes.js';

/**
 * What one child process hosts: one of our backends, or one TensorFlow.js engine's anchors (its
 * composed kernels and/or its layers MNIST step). One GPU context per process: headless-gl's and
 * Dawn's cannot share one (tools/bench/README.md, "Process model").
 */
export type SubjectGroup =
  | { readonly kind: 'backend'; readonly name: string }
  | { readonly kind: 'tfjs'; readonly engine: TfjsEngine; readonly kernels: boolean; readonly layers: boolean };

/** The run's settings a child times its cases with. */
export interface ChildSettings {
  readonly quick: boolean;
  readonly modes: TimedModes;
  readonly rounds?: number;
}

/** Parent to child: one request at a time, each answered by the message of the same `type`. */
export type ParentMessage =
  | { readonly type: 'load'; readonly group: SubjectGroup; readonly settings: ChildSettings }
  | { readonly type: 'kernels'; readonly shape: BenchShape; readonly ops: readonly KernelOp[]; readonly copyMs: number }
  | { readonly type: 'mnist' }
  | { readonly type: 'close' };

export interface LoadedGroup {
  readonly subjects: readonly SubjectInfo[];
  readonly skipped: readonly SkippedEntry[];
  /** Report names of the kernel subjects and of the MNIST step subjects it hosts. */
  readonly kernelNames: readonly string[];
  readonly stepNames: readonly string[];
}

export interface CaseOutcome {
  readonly results: readonly BenchResult[];
  readonly skipped: readonly SkippedEntry[];
}

/** Child to parent: progress lines at any time, then the answer (or why the request failed). */
export type ChildMessage =
  | { readonly type: 'log'; readonly line: string }
  | ({ readonly type: 'load' } & LoadedGroup)
  | ({ readonly type: 'kernels' } & CaseOutcome)
  | { readonly type: 'mnist'; readonly results: readonly BenchResult[] }
  | { readonly type: 'close' }
  | { readonly type: 'error'; readonly message: string };
