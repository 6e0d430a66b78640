/**
 * `@batchnorm/conformance/testing`: the helpers a backend's own tests share, seeded random data
 * and numpy's `allclose`, so no backend keeps a copy of its own. Framework-free: a failed
 * assertion throws an `Error`, which vitest, `node:test` and jasmine all report.
 */
import { BatchNormError, compareClose, createRandom, isChannelsLast, layoutRank, type Layout } from '@batchnorm/core';
import { drawBatch, type Regime } from './batchNormCases.js';

export type { Regime } from './batchNormCases.js';
export {
  BackendPackageError,
  checkBackendPackage,
  type BackendPackageExpectation,
  type BackendPackageLoad,
} from './testingBackendPackage.js';

/** Seeded values `offset + scale·N(0, 1)` in float64 (core's `createRandom(seed)`). */
export function randomValues(seed: number, length: number, scale = 1, offset = 0): Float64Array {
  const random = createRandom(seed);
  return Float64Array.from({ length }, () => offset + scale * random.normal());
}

/** The same values as `randomValues`, rounded to float32. */
export function randomFloat32(seed: number, length: number, scale = 1, offset = 0): Float32Array {
  return Float32Array.from(randomValues(seed, length, scale, offset));
}

/**
 * `x` of `shape` in `layout` (its own axis order), each feature drawn as the conformance grid
 * draws it in `regime` (e.g. `offset1e4`: mean 10⁴, σ = 1), from `seed`, float32-rounded.
 */
export function batchInput(layout: Layout, shape: readonly number[], regime: Regime, seed: number): Float64Array {
  return drawBatch(layout, shape, regime, createRandom(seed)).x;
}

/**
 * One shape written for every layout, with the same `N`, `C` and `m = N·D·H·W` values per feature:
 * `spatial` is `[D, H, W]`, which rank 4 takes as `[D·H, W]`, rank 3 as `[D·H·W]` and `NC` as
 * `N·D·H·W` rows. `layoutShape('NCHW', 4, 6, [5, 3, 2])` is `[4, 6, 15, 2]`.
 */
export function layoutShape(layout: Layout, n: number, c: number, spatial: readonly [number, number, number]): number[] {
  const [d, h, w] = spatial;
  const axes = [[], [d * h * w], [d * h, w], [d, h, w]][layoutRank(layout) - 2]!;
  if (axes.length === 0) return [n * d * h * w, c];
  return isChannelsLast(layout) ? [n, ...axes, c] : [n, c, ...axes];
}

/** Whether numpy's `allclose` holds for every value, and what to say when it does not. */
export interface AllClose {
  readonly ok: boolean;
  /** The count and the first value outside the tolerance; empty when `ok`. */
  readonly message: string;
  /** Worst `|got − want| / (atol + rtol·|want|)`: below 1 passes. */
  readonly toleranceRatio: number;
}

/**
 * numpy's `allclose` element by element, `|got − want| ≤ atol + rtol·|want|`, with NaN and
 * ±Infinity handled as the suite's `compareClose` does (an expected NaN passes only on NaN).
 */
export function allClose(got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number): AllClose {
  const result = compareClose(got, want, { atol, rtol });
  const message =
    result.firstMismatch === undefined
      ? ''
      : `${result.mismatches} of ${want.length} values outside atol ${atol} + rtol ${rtol}; first: ${result.firstMismatch}`;
  return { ok: result.mismatches === 0, message, toleranceRatio: result.toleranceRatio };
}

/** Throws unless `allClose(got, want, atol, rtol)` holds (and both are there). */
export function expectAllClose(
  got: ArrayLike<number> | undefined,
  want: ArrayLike<number> | undefined,
  atol: number,
  rtol: number,
): void {
  if (got === undefined || want === undefined) throw new Error(`expectAllClose: ${got === undefined ? 'got' : 'want'} is undefined`);
  const { ok, message } = allClose(got, want, atol, rtol);
  if (!ok) throw new Error(message);
}

/**
 * The `BatchNormError` that `run` throws, for the test to check its code, argument and message.
 * Throws an `Error` instead when `run` returns, or throws something else (kept as the cause).
 */
export function thrownBatchNormError(run: () => unknown): BatchNormError {
  try {
    run();
  } catch (error) {
    if (error instanceof BatchNormError) return error;
    throw new Error(`expected a BatchNormError, caught ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, {
      cause: error,
    });
  }
  throw new Error('expected a BatchNormError, nothing was thrown');
}
