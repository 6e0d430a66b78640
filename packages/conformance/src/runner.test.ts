import { createReferenceBackend, KERNEL_NAMES, type Backend, type ReferenceTensor } from '@batchnorm/core';
import { describe, expect, it } from 'vitest';
import { compareClose } from './compare.js';
import { buildGrid } from './grid.js';
import { matchesAny, runCases } from './runner.js';
import { runSuite } from './suite.js';
import { caseTolerances, FLOAT32_PROFILE, FLOAT32_UNIT_ROUNDOFF } from './tolerances.js';

describe('compareClose', () => {
  const tol = { atol: 1e-3, rtol: 1e-2 };
  it('is numpy allclose: |got − want| ≤ atol + rtol·|want|', () => {
    expect(compareClose([1.011], [1], tol).mismatches).toBe(0);
    expect(compareClose([1.0111], [1], tol).mismatches).toBe(1);
    expect(compareClose([0.0009], [0], tol).mismatches).toBe(0);
    const r = compareClose([2, 5], [1, 5], tol, 'y');
    expect(r).toMatchObject({ maxAbsError: 1, maxRelError: 1, mismatches: 1 });
    expect(r.firstMismatch).toMatch(/^y\[0\]: got 2, expected 1/);
  });
  it('passes NaN only where NaN is expected, and an infinity only on the same infinity', () => {
    expect(compareClose([Number.NaN], [Number.NaN], tol).mismatches).toBe(0);
    expect(compareClose([0], [Number.NaN], tol).mismatches).toBe(1);
    expect(compareClose([Number.NaN], [0], tol)).toMatchObject({ mismatches: 1, maxAbsError: Infinity });
    expect(compareClose([Infinity], [Infinity], tol).mismatches).toBe(0);
    expect(compareClose([-Infinity], [Infinity], tol).mismatches).toBe(1);
    expect(compareClose([Infinity], [1e30], { atol: 1e40, rtol: 1 }).mismatches).toBe(1);
  });
  it('fails a length mismatch', () => {
    expect(compareClose([1, 2], [1], tol)).toMatchObject({ mismatches: 2, firstMismatch: 'value has 2 values, expected 1' });
  });
});

describe('matchesAny', () => {
  it('matches exact names and * wildcards', () => {
    expect(matchesAny('matMul/2x3x4/plain/unit', ['matMul/*'])).toBe(true);
    expect(matchesAny('forwardTraining/NHWC/1x1x2x3/unit', ['forwardTraining/*/unit'])).toBe(true);
    expect(matchesAny('forwardTraining/NHWC/1x1x2x3/mixed', ['forwardTraining/*/unit'])).toBe(false);
    expect(matchesAny('relu/1x1/withZeros', ['relu/1x1'])).toBe(false);
    expect(matchesAny('a.b', ['a*b'])).toBe(true);
    expect(matchesAny('axb', ['a.b'])).toBe(false);
  });
});

/** The reference, recording which handles are alive: uploads and kernel outputs, minus disposals. */
function trackingBackend(options: { throwIn?: keyof Backend } = {}) {
  const inner = createReferenceBackend();
  const live = new Set<ReferenceTensor>();
  const track = <T>(value: T): T => {
    if (typeof value === 'object' && value !== null) {
      if ('data' in value) live.add(value as unknown as ReferenceTensor);
      else for (const v of Object.values(value)) live.add(v as ReferenceTensor);
    }
    return value;
  };
  const wrapped: Record<string, unknown> = { ...inner, name: 'tracking' };
  for (const kernel of KERNEL_NAMES) {
    const original = inner[kernel] as (...args: unknown[]) => unknown;
    wrapped[kernel] = (...args: unknown[]) => {
      if (options.throwIn === kernel) throw new Error(`${kernel} exploded`);
      const result = track(original(...args));
      // sgdUpdate consumes its param
      if (kernel === 'sgdUpdate' && result !== args[0]) live.delete(args[0] as ReferenceTensor);
      return result;
    };
  }
  const backend = {
    ...(wrapped as unknown as Backend<ReferenceTensor>),
    upload: (data, shape) => track(inner.upload(data, shape)),
    dispose: (t) => {
      live.delete(t);
    },
  } satisfies Backend<ReferenceTensor>;
  return { backend, live };
}

describe('runCases', () => {
  const grid = buildGrid('quick');

  it('disposes every handle it creates', async () => {
    const { backend, live } = trackingBackend();
    const results = await runCases(backend, grid);
    expect(results.filter((r) => !r.pass)).toEqual([]);
    expect(live.size).toBe(0);
  });

  it('disposes everything in the running-stats, gradient and error checks too', async () => {
    const { backend, live } = trackingBackend();
    const results = await runSuite(backend, { cases: [], checks: true });
    expect(results.filter((r) => !r.pass)).toEqual([]);
    expect(results.length).toBeGreaterThan(40);
    expect(live.size).toBe(0);
  });

  it('reports a kernel that throws as a failure, and still disposes', async () => {
    const { backend, live } = trackingBackend({ throwIn: 'batchNormBackward' });
    const results = await runCases(backend, grid.filter((c) => c.name.startsWith('backward/NC/')));
    expect(results.length).toBeGreaterThan(0);
    for (const r of results) {
      expect(r.pass).toBe(false);
      expect(r.message).toBe('threw: Error: batchNormBackward exploded');
    }
    expect(live.size).toBe(0);
  });

  it('skips by pattern without running the case', async () => {
    const { backend } = trackingBackend({ throwIn: 'matMul' });
    const results = await runCases(backend, grid.filter((c) => c.op === 'matMul'), { skip: ['matMul/*'] });
    expect(results.every((r) => r.skipped === true && r.pass)).toBe(true);
  });

  it('judges a float32 backend against the float32 tolerances and the reference against tight ones', async () => {
    const offsetCase = grid.find((c) => c.name === 'forwardTraining/NC/60x100/offset1e4')!;
    const float32 = caseTolerances(offsetCase, FLOAT32_PROFILE);
    // y at 1e4 + N(0,1): the mean's rounding alone moves x̂ by ~u·1e4 = 6e-4
    expect(float32['y']!.atol).toBeGreaterThan(FLOAT32_UNIT_ROUNDOFF * 1e4);
    expect(float32['y']!.atol).toBeLessThan(0.05);
    const results = await runCases(createReferenceBackend(), [offsetCase]);
    expect(results[0]).toMatchObject({ pass: true, maxAbsError: 0 });
    // a result off by 1e-9 fails the float64 tolerance of the reference
    const shifted = { ...offsetCase, expected: { ...offsetCase.expected, y: offsetCase.expected['y']!.map((v) => v + 1e-9) } };
    expect((await runCases(createReferenceBackend(), [shifted]))[0]!.pass).toBe(false);
  });
});
