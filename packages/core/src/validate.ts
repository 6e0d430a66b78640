import { BatchNormError, describeValue } from './errors.js';
import type { Shape, TensorData } from './types.js';

export function invalid(argument: string, expected: string, value: unknown): BatchNormError {
  return new BatchNormError({
    code: 'INVALID_ARGUMENT',
    argument,
    expected,
    received: describeValue(value),
  });
}

/**
 * The most elements a tensor (or features a layer) may have: indices then fit a signed 32-bit
 * integer, which WebAssembly and shader index arithmetic use. Checked before anything is
 * allocated.
 */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/** float32's largest finite value; larger numbers round to Infinity when uploaded. */
export const FLOAT32_MAX = 3.4028234663852886e38;
/** float32's smallest normal value; GPUs flush smaller ones to zero. */
export const FLOAT32_MIN_NORMAL = 2 ** -126;

export function assertPositiveInteger(
  value: unknown,
  argument: string,
  max = MAX_ELEMENTS,
): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw invalid(argument, `a positive integer ≤ ${max}`, value);
  }
}

/**
 * ε: finite and > 0; on a float32 backend also a normal float32 (≥ 2⁻¹²⁶), since a GPU flushes
 * a subnormal ε to zero and a constant feature then gives 0/0.
 */
export function assertEpsilon(
  value: unknown,
  argument = 'epsilon',
  dtype: 'float32' | 'float64' = 'float64',
): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalid(argument, 'a finite number > 0', value);
  }
  if (dtype === 'float32' && (value < FLOAT32_MIN_NORMAL || value > FLOAT32_MAX)) {
    throw invalid(
      argument,
      `a number in [${FLOAT32_MIN_NORMAL}, ${FLOAT32_MAX}] on a float32 backend (a normal float32; GPUs flush smaller values to zero)`,
      value,
    );
  }
}

export function assertMomentum(value: unknown, argument = 'momentum'): asserts value is number | null {
  if (value === null) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw invalid(argument, 'a number in [0, 1] (weight of the new batch statistic) or null', value);
  }
}

export function assertVarianceCorrection(
  value: unknown,
  argument = 'varianceCorrection',
): asserts value is 'unbiased' | 'biased' {
  if (value !== 'unbiased' && value !== 'biased') {
    throw invalid(argument, '"unbiased" or "biased"', value);
  }
}

/**
 * Checks a per-feature vector: `length` finite numbers (and ≥ 0 when `nonNegative`).
 * Returns it as a Float64Array copy, so later changes by the caller cannot reach us.
 */
export function toFeatureVector(
  value: unknown,
  length: number,
  argument: string,
  options: { nonNegative?: boolean; dtype?: 'float32' | 'float64' } = {},
): Float64Array {
  const isArrayLike =
    Array.isArray(value) || value instanceof Float32Array || value instanceof Float64Array;
  if (!isArrayLike) throw invalid(argument, `an array of ${length} finite numbers`, value);
  const source = value as ArrayLike<unknown>;
  if (source.length !== length) {
    throw new BatchNormError({
      code: 'SHAPE_MISMATCH',
      argument,
      expected: `length ${length} (one value per feature)`,
      received: `length ${source.length}`,
    });
  }
  // a float32 backend would store an out-of-range value as ±Infinity, which no state reloads
  const limit = options.dtype === 'float32' ? FLOAT32_MAX : Number.MAX_VALUE;
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const v = source[i];
    if (
      typeof v !== 'number' ||
      !Number.isFinite(v) ||
      Math.abs(v) > limit ||
      (options.nonNegative === true && v < 0)
    ) {
      const range = options.dtype === 'float32' ? ` within float32's range (|v| ≤ ${FLOAT32_MAX})` : '';
      throw new BatchNormError({
        code: 'INVALID_ARGUMENT',
        argument: `${argument}[${i}]`,
        expected: `${options.nonNegative === true ? 'a finite number ≥ 0' : 'a finite number'}${range}`,
        received: describeValue(v),
      });
    }
    out[i] = v;
  }
  return out;
}

/** Checks host data handed to `upload`: a typed array whose length matches `shape`. */
export function assertTensorData(data: unknown, shape: Shape, argument = 'data'): asserts data is TensorData {
  if (!(data instanceof Float32Array) && !(data instanceof Float64Array)) {
    throw invalid(argument, 'a Float32Array or Float64Array', data);
  }
  if (!Array.isArray(shape)) throw invalid('shape', 'an array of positive integers', shape);
  let size = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 1) throw invalid('shape', 'an array of positive integers', shape);
    size *= d;
  }
  if (size > MAX_ELEMENTS) throw invalid('shape', `at most ${MAX_ELEMENTS} elements in all`, shape);
  if (data.length !== size) {
    throw new BatchNormError({
      code: 'SHAPE_MISMATCH',
      argument,
      expected: `${size} values for shape [${shape.join(', ')}]`,
      received: `${data.length} values`,
    });
  }
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
