import type { Layout } from '@batchnorm/core';
import type { MeasuredOp } from './byteModel.js';

export type MnistVariant = 'bn' | 'plain';

/**
 * One line of the JSON document. A failed or impossible measurement carries `error`. The
 * fields are documented in the README ("Output"); new fields may be added, none renamed.
 */
export interface BenchResult {
  readonly backend: string;
  readonly op: MeasuredOp | 'mnistStep';
  readonly layout?: Layout;
  readonly shape?: readonly number[];
  readonly variant?: MnistVariant;
  /**
   * Whether the timed call read its outputs back to the host (`true`), or left them on the
   * device as handles, disposed without a read (`false`: resident). The copy is `false`; an
   * MNIST step reads its loss (`true`).
   */
  readonly readBack: boolean;
  /** Median of the rounds' medians. */
  readonly medianMs?: number;
  /** Fastest and slowest round medians. */
  readonly minMs?: number;
  readonly maxMs?: number;
  /** Rounds behind the median. */
  readonly rounds?: number;
  /** max/min − 1 of the round medians (absent with one round). */
  readonly spread?: number;
  /** `spread` over `SPREAD_LIMIT` (0.2). */
  readonly unstable?: boolean;
  readonly ratioToCopy?: number;
  readonly gbPerSecond?: number;
  /** `medianMs` over the byte model's floor at the copy's bandwidth (1 = at memory speed). */
  readonly ratioToFloor?: number;
  /** Timed calls behind the median, over all rounds. */
  readonly samples?: number;
  /**
   * What the backend's own counters (`stats()`, e.g. webgpu's) said about one call of this case,
   * counted after the timing: `kernel` holds the timed kernel's counters, the other fields are
   * the backend's top-level ones, as it reports them.
   */
  readonly counters?: Readonly<Record<string, unknown>>;
  readonly error?: string;
}

/** A subject (or one case of it) that was not run, and why. */
export interface SkippedEntry {
  readonly backend: string;
  readonly reason: string;
  readonly op?: MeasuredOp | 'mnistStep';
  readonly layout?: Layout;
  readonly shape?: readonly number[];
  /** Set when only one mode of the case was skipped (`false`: resident). */
  readonly readBack?: boolean;
}

export interface SubjectInfo {
  readonly backend: string;
  readonly details: Readonly<Record<string, string | number | boolean>>;
  /** How a resident call knows the kernel finished, or why it cannot be timed resident. */
  readonly resident?: string;
  /** Set when the times are no speed claim (a software GPU adapter or renderer), saying why. */
  readonly noSpeedClaim?: string;
}
