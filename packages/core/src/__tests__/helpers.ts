import { expect } from 'vitest';
import { BatchNormError, type BatchNormErrorCode } from '../errors.js';
import { createReferenceBackend } from '../reference/index.js';
import type { ReferenceTensor } from '../reference/tensor.js';
import { isChannelsLast } from '../layout.js';
import type { Layout, Shape } from '../types.js';
import { createRandom } from '../random.js';

export const reference = createReferenceBackend();

export function tensor(values: ArrayLike<number>, shape: Shape): ReferenceTensor {
  return reference.upload(Float64Array.from(values), shape);
}

export function values(t: ReferenceTensor): number[] {
  return Array.from(reference.readSync(t));
}

export function randomArray(seed: number, length: number, scale = 1, offset = 0): Float64Array {
  const random = createRandom(seed);
  return Float64Array.from({ length }, () => offset + scale * random.normal());
}

/** numpy's `allclose` element by element; returns the worst |got − want| and the first failure. */
export function compareClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  atol: number,
  rtol: number,
): { maxAbsError: number; failures: number; firstFailure?: string } {
  if (got.length !== want.length) {
    return { maxAbsError: Infinity, failures: 1, firstFailure: `length ${got.length} ≠ ${want.length}` };
  }
  let maxAbsError = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  for (let i = 0; i < want.length; i++) {
    const error = Math.abs(got[i]! - want[i]!);
    maxAbsError = Math.max(maxAbsError, Number.isNaN(error) ? Infinity : error);
    if (!(error <= atol + rtol * Math.abs(want[i]!))) {
      failures++;
      firstFailure ??= `[${i}]: got ${got[i]}, want ${want[i]}`;
    }
  }
  return firstFailure === undefined ? { maxAbsError, failures } : { maxAbsError, failures, firstFailure };
}

export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, atol = 1e-12, rtol = 1e-12): void {
  const result = compareClose(got, want, atol, rtol);
  expect(result.firstFailure, `${result.failures} values outside atol ${atol} + rtol ${rtol}`).toBeUndefined();
}

/** Asserts `run` throws a BatchNormError with this code and argument; returns it. */
export function expectBatchNormError(
  run: () => unknown,
  code: BatchNormErrorCode,
  argument?: string,
): BatchNormError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  const error = expectCaught(caught, code, argument);
  expect(error.message).toContain(error.argument);
  expect(error.expected.length).toBeGreaterThan(0);
  return error;
}

export async function expectBatchNormErrorAsync(
  run: () => Promise<unknown>,
  code: BatchNormErrorCode,
  argument?: string,
): Promise<BatchNormError> {
  let caught: unknown;
  try {
    await run();
  } catch (error) {
    caught = error;
  }
  return expectCaught(caught, code, argument);
}

function expectCaught(caught: unknown, code: BatchNormErrorCode, argument: string | undefined): BatchNormError {
  expect(caught, 'expected a BatchNormError to be thrown').toBeInstanceOf(BatchNormError);
  const error = caught as BatchNormError;
  expect(error.code).toBe(code);
  if (argument !== undefined) expect(error.argument).toBe(argument);
  return error;
}

/**
 * The shape of an `[N, C, H, W]` geometry in `layout`: `NC` requires H = W = 1, `NCL`/`NLC`
 * have L = H·W, `NCDHW`/`NDHWC` have D = 1.
 */
export function shapeIn(layout: Layout, n: number, c: number, h: number, w: number): number[] {
  switch (layout) {
    case 'NC':
      return [n * h * w, c];
    case 'NCL':
      return [n, c, h * w];
    case 'NLC':
      return [n, h * w, c];
    case 'NCHW':
      return [n, c, h, w];
    case 'NHWC':
      return [n, h, w, c];
    case 'NCDHW':
      return [n, c, 1, h, w];
    case 'NDHWC':
      return [n, 1, h, w, c];
  }
}

/** Rearranges NCHW data to NHWC. */
export function nchwToNhwc(data: ArrayLike<number>, n: number, c: number, h: number, w: number): Float64Array {
  const out = new Float64Array(n * c * h * w);
  for (let b = 0; b < n; b++)
    for (let k = 0; k < c; k++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) out[((b * h + y) * w + x) * c + k] = data[((b * c + k) * h + y) * w + x]!;
  return out;
}

/** Rearranges NHWC data to NCHW. */
export function nhwcToNchw(data: ArrayLike<number>, n: number, c: number, h: number, w: number): Float64Array {
  const out = new Float64Array(n * c * h * w);
  for (let b = 0; b < n; b++)
    for (let k = 0; k < c; k++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) out[((b * c + k) * h + y) * w + x] = data[((b * h + y) * w + x) * c + k]!;
  return out;
}

/**
 * Rearranges NCHW data into the given layout's memory order (`NC` is NHWC read as `[N·H·W, C]`;
 * every channels-first layout has NCHW's order, every channels-last one NHWC's).
 */
export function fromNchw(layout: Layout, data: ArrayLike<number>, n: number, c: number, h: number, w: number): Float64Array {
  return isChannelsFirst(layout) ? Float64Array.from(data) : nchwToNhwc(data, n, c, h, w);
}

export function toNchw(layout: Layout, data: ArrayLike<number>, n: number, c: number, h: number, w: number): Float64Array {
  return isChannelsFirst(layout) ? Float64Array.from(data) : nhwcToNchw(data, n, c, h, w);
}

/** Channels-first with spatial axes (`NC` is treated as NHWC read as `[N·H·W, C]` here). */
function isChannelsFirst(layout: Layout): boolean {
  return layout !== 'NC' && !isChannelsLast(layout);
}
