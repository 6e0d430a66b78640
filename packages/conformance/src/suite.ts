import type { Backend, TensorHandle, ToleranceProfileName } from '@batchnorm/core';
import { checkErrors, errorScenarios } from './errorCheck.js';
import { checkGradients, gradientCheckCases } from './gradientCheck.js';
import { buildGrid, type GridSize } from './grid.js';
import { matchesAny, runCases } from './runner.js';
import { checkRunningStats, runningStatsCases } from './runningStats.js';
import { profileFor } from './tolerances.js';
import type { CaseResult, ConformanceCase, Tolerance } from './types.js';

export interface SuiteOptions {
  /** Which grid to run (default `quick`); ignored when `cases` is given. */
  readonly grid?: GridSize;
  /** Cases to run instead of the built-in grid (e.g. from a vector file). */
  readonly cases?: readonly ConformanceCase[];
  /** Also run the running-statistics, gradient and error checks (default: when no `cases`). */
  readonly checks?: boolean;
  /** Case names to skip: exact, or with `*` wildcards. */
  readonly skip?: readonly string[];
  /** One tolerance for every value, overriding the derived ones. */
  readonly tolerance?: Tolerance;
  /** The tolerance profile (a backend's `traits.tolerance`); default by dtype. */
  readonly profile?: ToleranceProfileName;
  /** The name results carry; default `backend.name`. */
  readonly backendName?: string;
  /** Called after each result, e.g. for progress on stderr. */
  readonly onResult?: (result: CaseResult) => void;
}

function skipped(backend: string, name: string, op: string): CaseResult {
  return { backend, case: name, op, pass: true, skipped: true, maxAbsError: 0, maxRelError: 0, message: 'skipped' };
}

/** Runs the whole suite on one backend: cases (grid or file), then the layer-level checks. */
export async function runSuite<T extends TensorHandle, S>(backend: Backend<T, S>, options: SuiteOptions = {}): Promise<CaseResult[]> {
  const backendName = options.backendName ?? backend.name;
  // a misspelt profile is one error here, not a failure of every case
  if (options.profile !== undefined) profileFor(options.profile);
  const runOptions = {
    backendName,
    ...(options.skip === undefined ? {} : { skip: options.skip }),
    ...(options.tolerance === undefined ? {} : { tolerance: options.tolerance }),
    ...(options.profile === undefined ? {} : { profile: options.profile }),
  };
  const results: CaseResult[] = [];
  const push = (r: CaseResult): void => {
    results.push(r);
    options.onResult?.(r);
  };
  const cases = options.cases ?? buildGrid(options.grid ?? 'quick');
  for (const c of cases) for (const r of await runCases(backend, [c], runOptions)) push(r);
  if (options.checks ?? options.cases === undefined) {
    for (const c of runningStatsCases()) {
      push(matchesAny(c.name, options.skip) ? skipped(backendName, c.name, 'runningStats') : await checkRunningStats(backend, c, runOptions));
    }
    for (const c of gradientCheckCases()) {
      if (matchesAny(c.name, options.skip)) push(skipped(backendName, c.name, 'gradientCheck'));
      else for (const r of await checkGradients(backend, c, runOptions)) push(r);
    }
    // a skipped scenario is not run at all (it may be the one that crashes a backend)
    for (const scenario of errorScenarios()) {
      if (matchesAny(scenario.name, options.skip)) push(skipped(backendName, scenario.name, 'errorCheck'));
      else for (const r of await checkErrors(backend, { backendName, scenarios: [scenario] })) push(r);
    }
  }
  return results;
}
