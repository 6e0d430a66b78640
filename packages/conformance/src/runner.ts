import { compareClose, type Backend, type TensorHandle, type ToleranceProfileName } from '@batchnorm/core';
import { execute, Handles } from './caseExecution.js';
import { caseTolerances, resolveProfile, toleranceOf, type ToleranceProfile } from './tolerances.js';
import type { CaseResult, ConformanceCase, Tolerance } from './types.js';

export { hostData } from './caseExecution.js';

export interface RunOptions {
  /** One tolerance for every value of every case, overriding the cases' and the profile's. */
  readonly tolerance?: Tolerance;
  /**
   * The profile tolerances are derived from when a case states none (a backend passes its
   * manifest's `traits.tolerance`); default by the backend's dtype: `float64` or `float32`.
   */
  readonly profile?: ToleranceProfileName;
  /** Case names to skip: exact names, or patterns with `*` (e.g. `matMul/*`). */
  readonly skip?: readonly string[];
  /** The name results carry; default `backend.name`. */
  readonly backendName?: string;
}

/** Whether `name` matches one of `patterns` (exact, or `*` as a wildcard). */
export function matchesAny(name: string, patterns: readonly string[] | undefined): boolean {
  if (patterns === undefined) return false;
  return patterns.some((pattern) => {
    if (!pattern.includes('*')) return pattern === name;
    const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
    return new RegExp(`^${escaped.join('.*')}$`).test(name);
  });
}

/** What a check measured over all its outputs, before it becomes a `CaseResult`. */
export interface Tally {
  readonly maxAbsError: number;
  readonly maxRelError: number;
  readonly toleranceRatio: number;
  readonly mismatches: number;
  readonly message: string | undefined;
}

type ResultBase = Omit<CaseResult, 'pass' | 'maxAbsError' | 'maxRelError'>;

/**
 * Compares every expected output of `c` with `got`: each against `tolerance` when given, else
 * the case's own, else the one derived for `profile`.
 */
export function compareOutputs(
  c: ConformanceCase,
  got: Readonly<Record<string, ArrayLike<number>>>,
  profile: ToleranceProfile,
  tolerance?: Tolerance,
): Tally {
  const derived = tolerance === undefined ? caseTolerances(c, profile) : {};
  let maxAbsError = 0;
  let maxRelError = 0;
  let mismatches = 0;
  let toleranceRatio = 0;
  let message: string | undefined;
  for (const [key, want] of Object.entries(c.expected)) {
    const output = got[key];
    if (output === undefined) throw new Error(`no output "${key}" to compare`);
    const result = compareClose(output, want, tolerance ?? toleranceOf(c, key, derived), key);
    maxAbsError = Math.max(maxAbsError, result.maxAbsError);
    maxRelError = Math.max(maxRelError, result.maxRelError);
    mismatches += result.mismatches;
    toleranceRatio = Math.max(toleranceRatio, result.toleranceRatio);
    if (result.firstMismatch !== undefined && message === undefined) {
      message = `${result.mismatches} of ${want.length} values outside tolerance; first: ${result.firstMismatch}`;
    }
  }
  return { maxAbsError, maxRelError, toleranceRatio, mismatches, message };
}

export function tallyResult(base: ResultBase, tally: Tally): CaseResult {
  const { maxAbsError, maxRelError, toleranceRatio, mismatches, message } = tally;
  return {
    ...base,
    pass: mismatches === 0,
    maxAbsError,
    maxRelError,
    toleranceRatio,
    ...(mismatches === 0 ? {} : { mismatches }),
    ...(message === undefined ? {} : { message }),
  };
}

/** A check that threw fails, with the error as its message. */
export function thrownResult(base: ResultBase, error: unknown): CaseResult {
  return {
    ...base,
    pass: false,
    maxAbsError: Infinity,
    maxRelError: Infinity,
    message: `threw: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
  };
}

/** Runs one case on `backend` and compares every expected output. Never throws. */
export async function runCase<T extends TensorHandle, S>(
  backend: Backend<T, S>,
  c: ConformanceCase,
  options: RunOptions = {},
): Promise<CaseResult> {
  const base = {
    backend: options.backendName ?? backend.name,
    case: c.name,
    op: c.op,
    ...(c.layout === undefined ? {} : { layout: c.layout }),
    shape: [...c.shape],
  };
  if (matchesAny(c.name, options.skip)) {
    return { ...base, pass: true, skipped: true, maxAbsError: 0, maxRelError: 0, message: 'skipped' };
  }
  const handles = new Handles(backend);
  let result: CaseResult;
  try {
    const got = await execute(backend, c, handles);
    result = tallyResult(base, compareOutputs(c, got, resolveProfile(backend, options.profile), options.tolerance));
  } catch (error) {
    result = thrownResult(base, error);
  }
  try {
    handles.disposeAll();
  } catch (error) {
    // a case whose outputs were right still fails when releasing them throws
    if (result.pass) result = thrownResult(base, error);
  }
  return result;
}

/** Runs `cases` one after another on `backend`. */
export async function runCases<T extends TensorHandle, S>(
  backend: Backend<T, S>,
  cases: readonly ConformanceCase[],
  options: RunOptions = {},
): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const c of cases) results.push(await runCase(backend, c, options));
  return results;
}
