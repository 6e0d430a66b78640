import { describe, expect, it } from 'vitest';
import { compareClose, formatNumber } from './compare.js';

describe('compareClose', () => {
  const tol = { atol: 1e-3, rtol: 1e-2 };
  it('is numpy allclose: |got − want| ≤ atol + rtol·|want|', () => {
    expect(compareClose([1.011], [1], tol).mismatches).toBe(0);
    expect(compareClose([1.0111], [1], tol).mismatches).toBe(1);
    expect(compareClose([0.0009], [0], tol).mismatches).toBe(0);
    const r = compareClose([2, 5], [1, 5], tol, 'y');
    expect(r).toMatchObject({ maxAbsError: 1, maxRelError: 1, mismatches: 1 });
    expect(r.firstMismatch).toMatch(/^y\[0\]: got 2, expected 1 \(\|error\| 1\.00 > atol 0\.00100 \+ rtol 0\.0100·\|expected\|\)$/);
  });
  it('reports the worst error as a share of the allowed error', () => {
    // allowed at 10: 1e-3 + 1e-2·10 = 0.101; error 0.0505 is half of it
    expect(compareClose([10.0505, 1], [10, 1], tol).toleranceRatio).toBeCloseTo(0.5, 12);
    expect(compareClose([1], [1], tol).toleranceRatio).toBe(0);
  });
  it('passes NaN only where NaN is expected, and an infinity only on the same infinity', () => {
    expect(compareClose([Number.NaN], [Number.NaN], tol).mismatches).toBe(0);
    expect(compareClose([0], [Number.NaN], tol).mismatches).toBe(1);
    expect(compareClose([Number.NaN], [0], tol)).toMatchObject({ mismatches: 1, maxAbsError: Infinity, toleranceRatio: Infinity });
    expect(compareClose([Infinity], [Infinity], tol).mismatches).toBe(0);
    expect(compareClose([-Infinity], [Infinity], tol).mismatches).toBe(1);
    expect(compareClose([Infinity], [1e30], { atol: 1e40, rtol: 1 }).mismatches).toBe(1);
  });
  it('fails a length mismatch', () => {
    expect(compareClose([1, 2], [1], tol)).toMatchObject({ mismatches: 2, firstMismatch: 'value has 2 values, expected 1' });
  });
});

describe('formatNumber', () => {
  it('gives three significant digits, in exponent form for the very small and the large', () => {
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(0.5)).toBe('0.500');
    expect(formatNumber(1e-4)).toBe('1.00e-4');
    expect(formatNumber(12345)).toBe('1.23e+4');
    expect(formatNumber(Number.NaN)).toBe('NaN');
  });
});
