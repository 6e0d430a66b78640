import type { Layout } from '@batchnorm/core';
import type { MeasuredOp } from './byteModel.js';

export type MnistVariant = 'bn' | 'plain';

/** One line of the JSON document. A failed or impossible measurement carries `error`. */
export interface BenchResult {
  readonly backend: string;
  readonly op: MeasuredOp | 'mnistStep';
  readonly layout?: Layout;
  readonly shape?: readonly number[];
  readonly variant?: MnistVariant;
  readonly medianMs?: number;
  readonly ratioToCopy?: number;
  readonly gbPerSecond?: number;
  /** Timed calls behind the median. */
  readonly samples?: number;
  readonly error?: string;
}

/** A subject (or one case of it) that was not run, and why. */
export interface SkippedEntry {
  readonly backend: string;
  readonly reason: string;
  readonly op?: MeasuredOp | 'mnistStep';
  readonly layout?: Layout;
  readonly shape?: readonly number[];
}

export interface SubjectInfo {
  readonly backend: string;
  readonly details: Readonly<Record<string, string | number | boolean>>;
}
