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

export function assertPositiveInteger(value: unknown, argument: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw invalid(argument, 'a positive integer', value);
  }
}

export function assertEpsilon(value: unknown, argument = 'epsilon'): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalid(argument, 'a finite number > 0', value);
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
  options: { nonNegative?: boolean } = {},
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
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const v = source[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || (options.nonNegative === true && v < 0)) {
      throw new BatchNormError({
        code: 'INVALID_ARGUMENT',
        argument: `${argument}[${i}]`,
        expected: options.nonNegative === true ? 'a finite number ≥ 0' : 'a finite number',
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
