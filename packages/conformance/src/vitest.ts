import { existsSync } from 'node:fs';
import type { Backend, ToleranceProfileName } from '@batchnorm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkErrors, errorScenarios } from './errorCheck.js';
import { checkGradients, gradientCheckCases } from './gradientCheck.js';
import { buildGrid, type GridSize } from './grid.js';
import { matchesAny, runCase } from './runner.js';
import { checkRunningStats, runningStatsCases } from './runningStats.js';
import { profileFor } from './tolerances.js';
import type { CaseResult, Tolerance } from './types.js';
import { loadVectorFile, SHIPPED_VECTORS } from './node.js';

export interface ConformanceOptions {
  /**
   * The tolerance profile the backend is judged with: pass its manifest's
   * `backendModule.traits.tolerance`. Default by the backend's dtype: `float64` or `float32`.
   */
  readonly profile?: ToleranceProfileName;
  /** Case names to skip: exact, or with `*` wildcards (`matMul/*`, `forwardTraining/NDHWC/*`). */
  readonly skip?: readonly string[];
  /** `quick` (default) or `full` (adds the large shapes and more of the rank-3 and rank-5 ones). */
  readonly grid?: GridSize;
  /** One tolerance for every value, overriding the derived ones (see tolerances.ts). */
  readonly tolerance?: Tolerance;
}

// the shipped vectors are read from disk: this entry runs under vitest in Node
export { SHIPPED_VECTORS } from './node.js';

function expectPass(result: CaseResult): void {
  expect(result.pass, `${result.case}: ${result.message ?? ''}`).toBe(true);
}

/**
 * Registers the whole conformance suite for one backend as vitest blocks: the case grid, the
 * shipped vectors, the running-statistics, gradient and error checks. A backend package's test:
 *
 * ```ts
 * describeConformance('foo', () => createBackend(), { profile: backendModule.traits.tolerance });
 * ```
 *
 * Every result is read through `await backend.read(t)`, so an asynchronous-only backend runs it
 * as is.
 */
export function describeConformance(
  name: string,
  createBackend: () => Backend | Promise<Backend>,
  options: ConformanceOptions = {},
): void {
  const skip = options.skip ?? [];
  // checked here, at registration, so a misspelt profile fails loudly rather than every case
  if (options.profile !== undefined) profileFor(options.profile);
  const runOptions = {
    skip,
    ...(options.tolerance === undefined ? {} : { tolerance: options.tolerance }),
    ...(options.profile === undefined ? {} : { profile: options.profile }),
  };
  describe(`conformance: ${name}`, () => {
    let backend: Backend | undefined;
    const get = (): Backend => {
      if (backend === undefined) throw new Error(`backend ${name} was not created`);
      return backend;
    };
    beforeAll(async () => {
      backend = await createBackend();
    });
    afterAll(() => {
      backend?.destroy();
    });
    const test = (caseName: string, body: () => Promise<void>, timeout?: number): void => {
      if (matchesAny(caseName, skip)) it.skip(caseName, body);
      else it(caseName, body, timeout);
    };

    describe(`grid (${options.grid ?? 'quick'})`, () => {
      for (const c of buildGrid(options.grid ?? 'quick')) {
        test(c.name, async () => expectPass(await runCase(get(), c, runOptions)), 60_000);
      }
    });

    describe('shipped vectors', () => {
      test('vectors/conformance-vectors.json', async () => {
        expect(existsSync(SHIPPED_VECTORS), `missing ${SHIPPED_VECTORS}`).toBe(true);
        const cases = await loadVectorFile(SHIPPED_VECTORS);
        const failures: string[] = [];
        for (const c of cases) {
          const result = await runCase(get(), c, runOptions);
          if (!result.pass && result.skipped !== true) failures.push(`${c.name}: ${result.message ?? ''}`);
        }
        expect(failures, failures.slice(0, 10).join('\n')).toEqual([]);
      }, 120_000);
    });

    describe('running statistics through the layer', () => {
      for (const c of runningStatsCases()) test(c.name, async () => expectPass(await checkRunningStats(get(), c, runOptions)));
    });

    describe('gradient check', () => {
      for (const c of gradientCheckCases()) {
        test(c.name, async () => {
          for (const result of await checkGradients(get(), c, runOptions)) expectPass(result);
        });
      }
    });

    describe('error check', () => {
      for (const scenario of errorScenarios()) {
        test(scenario.name, async () => {
          // a second instance for the scenarios that hand the backend another instance's tensor
          const [result] = await checkErrors(get(), { scenarios: [scenario], createBackend });
          expectPass(result!);
        });
      }
    });
  });
}
