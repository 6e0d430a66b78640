import { createRandom } from '@batchnorm/core';
import { describe, expect, it } from 'vitest';
import { buildGrid, seedOf } from './grid.js';
import { allClose, batchInput, expectAllClose, randomFloat32, randomValues } from './testing.js';

describe('@batchnorm/conformance/testing', () => {
  it('draws offset + scale·N(0, 1) from core\'s seeded generator, in float64 and rounded to float32', () => {
    const random = createRandom(7);
    const want = Array.from({ length: 5 }, () => 3 + 2 * random.normal());
    expect(Array.from(randomValues(7, 5, 2, 3))).toEqual(want);
    expect(Array.from(randomFloat32(7, 5, 2, 3))).toEqual(want.map(Math.fround));
    expect(randomValues(8, 5)).not.toEqual(randomValues(7, 5));
  });

  it('draws a batch as the grid does: the grid case\'s x from the case\'s seed', () => {
    const name = 'forwardInference/NHWC/2x3x5x7/mixed';
    const c = buildGrid().find((k) => k.name === name)!;
    expect(batchInput('NHWC', [2, 3, 5, 7], 'mixed', seedOf(name))).toEqual(c.inputs['x']);
  });

  it('holds numpy\'s allclose: atol + rtol·|want|, with the first value outside named', () => {
    expect(allClose([1, 2.0002], [1, 2], 0, 1e-4)).toEqual({ ok: true, message: '', toleranceRatio: expect.closeTo(1, 6) as number });
    const result = allClose([1, 2.001, 5], [1, 2, 3], 0, 1e-4);
    expect(result.ok).toBe(false);
    expect(result.message).toMatch(/^2 of 3 values outside atol 0 \+ rtol 0.0001; first: value\[1\]: got 2.001, expected 2 /);
    expect(allClose([1], [1, 2], 1, 1).ok).toBe(false);
  });

  it('fails on NaN where a number was expected, and passes NaN only where NaN was expected', () => {
    expect(allClose([Number.NaN], [0], 1, 1).ok).toBe(false);
    expect(allClose([Number.NaN, Infinity], [Number.NaN, Infinity], 0, 0).ok).toBe(true);
    expect(allClose([1], [Number.NaN], 1, 1).ok).toBe(false);
  });

  it('expectAllClose throws the message, and on a missing array', () => {
    expect(() => expectAllClose([1, 2], [1, 2], 0, 0)).not.toThrow();
    expect(() => expectAllClose([1, 3], [1, 2], 0, 0.1)).toThrow(/^1 of 2 values outside atol 0 \+ rtol 0.1; first: value\[1\]/);
    expect(() => expectAllClose(undefined, [1], 0, 0)).toThrow('expectAllClose: got is undefined');
  });
});
