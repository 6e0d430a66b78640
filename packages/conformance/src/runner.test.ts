import {
  BatchNormError,
  createReferenceBackend,
  flatIndex,
  geometryOf,
  KERNEL_NAMES,
  type Backend,
  type ReferenceBackend,
  type ReferenceSaved,
  type ReferenceTensor,
  type ToleranceProfileName,
} from '@batchnorm/core';
import { describe, expect, it } from 'vitest';
import { errorScenarios } from './errorCheck.js';
import { gradientCheckCases } from './gradientCheck.js';
import { buildGrid } from './grid.js';
import { matchesAny, runCase, runCases } from './runner.js';
import { runningStatsCases } from './runningStats.js';
import { runSuite } from './suite.js';
import {
  caseTolerances,
  defaultProfileName,
  FLOAT32_PROFILE,
  FLOAT32_UNIT_ROUNDOFF,
  profileFor,
  TOLERANCE_PROFILES,
} from './tolerances.js';

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

/**
 * The reference, recording which handles and saved values are alive: uploads and kernel outputs,
 * minus disposals; and how often each saved was disposed.
 */
function trackingBackend(options: { throwIn?: keyof Backend } = {}) {
  const inner = createReferenceBackend();
  const live = new Set<ReferenceTensor>();
  const liveSaved = new Set<ReferenceSaved>();
  const savedDisposals = new Map<ReferenceSaved, number>();
  const track = <T>(value: T): T => {
    if (typeof value === 'object' && value !== null) {
      if ('data' in value) live.add(value as unknown as ReferenceTensor);
      else {
        for (const [key, v] of Object.entries(value)) {
          if (key === 'saved') liveSaved.add(v as ReferenceSaved);
          else live.add(v as ReferenceTensor);
        }
      }
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
    ...(wrapped as unknown as ReferenceBackend),
    upload: (data, shape) => track(inner.upload(data, shape)),
    // passed on, so the reference refuses a disposed handle as every backend must
    dispose: (t) => {
      live.delete(t);
      inner.dispose(t);
    },
    disposeSaved: (saved) => {
      liveSaved.delete(saved);
      savedDisposals.set(saved, (savedDisposals.get(saved) ?? 0) + 1);
      inner.disposeSaved(saved);
    },
  } satisfies ReferenceBackend;
  return { backend, live, liveSaved, savedDisposals };
}

describe('runCases', () => {
  const grid = buildGrid('quick');

  it('disposes every handle and every saved it creates; each saved twice (disposeSaved is idempotent)', async () => {
    const { backend, live, liveSaved, savedDisposals } = trackingBackend();
    const results = await runCases(backend, grid);
    expect(results.filter((r) => !r.pass)).toEqual([]);
    expect(live.size).toBe(0);
    expect(liveSaved.size).toBe(0);
    // one saved per training forward and per backward case
    expect(savedDisposals.size).toBe(grid.filter((c) => c.op === 'forwardTraining' || c.op === 'backward').length);
    expect(new Set(savedDisposals.values())).toEqual(new Set([2]));
  });

  it('disposes everything in the running-stats, gradient and error checks too', async () => {
    const { backend, live, liveSaved } = trackingBackend();
    const results = await runSuite(backend, { cases: [], checks: true });
    expect(results.filter((r) => !r.pass)).toEqual([]);
    expect(results.length).toBe(runningStatsCases().length + 2 * gradientCheckCases().length + errorScenarios().length);
    expect(live.size).toBe(0);
    expect(liveSaved.size).toBe(0);
  });

  it('reports a kernel that throws as a failure, and still disposes', async () => {
    const { backend, live, liveSaved } = trackingBackend({ throwIn: 'batchNormBackward' });
    const results = await runCases(backend, grid.filter((c) => c.name.startsWith('backward/')));
    expect(results.length).toBeGreaterThan(0);
    for (const r of results) {
      expect(r.pass).toBe(false);
      expect(r.message).toBe('threw: Error: batchNormBackward exploded');
    }
    expect(live.size).toBe(0);
    expect(liveSaved.size).toBe(0);
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

describe('tolerance profiles', () => {
  const offsetCase = buildGrid('quick').find((c) => c.name === 'forwardTraining/NC/60x100/offset1e4')!;
  // off by 1e-9: far inside float32's tolerances, far outside float64's
  const shifted = { ...offsetCase, expected: { ...offsetCase.expected, y: offsetCase.expected['y']!.map((v) => v + 1e-9) } };

  it('are named by core\'s ToleranceProfileName, and by nothing else (no backend names)', () => {
    expect(Object.keys(TOLERANCE_PROFILES)).toEqual(['float64', 'float32', 'float32-gpu']);
    for (const [name, profile] of Object.entries(TOLERANCE_PROFILES)) expect(profile.name).toBe(name);
    expect(profileFor('float32')).toBe(FLOAT32_PROFILE);
    expect(profileFor('float32-gpu')).toMatchObject({ unitRoundoff: FLOAT32_UNIT_ROUNDOFF, safety: 32 });
    expect(profileFor('float64').unitRoundoff).toBe(2 ** -53);
  });

  it('default by dtype: float64 or float32', () => {
    expect(defaultProfileName({ dtype: 'float64' })).toBe('float64');
    expect(defaultProfileName({ dtype: 'float32' })).toBe('float32');
  });

  it('reject a name that is not a profile with a typed error', async () => {
    expect(() => profileFor('gpujs' as ToleranceProfileName)).toThrow(BatchNormError);
    expect(() => profileFor('gpujs' as ToleranceProfileName)).toThrow(/profile.*"float64", "float32", "float32-gpu"/s);
    // runSuite says so once, before running anything
    await expect(runSuite(createReferenceBackend(), { cases: [], profile: 'float16' as ToleranceProfileName })).rejects.toThrow(BatchNormError);
  });

  it('the profile option decides the tolerance: the same result passes float32 and fails float64', async () => {
    const reference = createReferenceBackend();
    expect((await runCase(reference, shifted)).pass).toBe(false);
    expect((await runCase(reference, shifted, { profile: 'float64' })).pass).toBe(false);
    expect((await runCase(reference, shifted, { profile: 'float32' })).pass).toBe(true);
    // and so does runSuite's
    const [viaSuite] = await runSuite(reference, { cases: [shifted], profile: 'float32' });
    expect(viaSuite!.pass).toBe(true);
  });

  it('float32-gpu is 4× as loose as float32, from the same derivation', () => {
    const f32 = caseTolerances(offsetCase, 'float32');
    const gpu = caseTolerances(offsetCase, 'float32-gpu');
    expect(gpu['mean']!.atol).toBeCloseTo(4 * f32['mean']!.atol, 20);
    expect(gpu['y']!.rtol).toBe(4 * f32['y']!.rtol);
  });

  it('derive new ranks from m = N·spatial: the same data in NC and in NCDHW gets the same bounds', () => {
    // a channels-first volume holds, feature by feature, the values of an NC batch [m, C]
    const ncdhw = buildGrid('quick').find((c) => c.layout === 'NCDHW' && c.op === 'backward' && c.name.endsWith('/offset1e4'))!;
    const g = geometryOf('NCDHW', ncdhw.shape);
    const toNc = (v: Float64Array): Float64Array => {
      const out = new Float64Array(v.length);
      for (let n = 0; n < g.n; n++) for (let c = 0; c < g.c; c++) for (let s = 0; s < g.spatial; s++) out[(n * g.spatial + s) * g.c + c] = v[flatIndex(g, n, c, s)]!;
      return out;
    };
    const asNc = {
      ...ncdhw,
      layout: 'NC' as const,
      shape: [g.m, g.c],
      inputs: { ...ncdhw.inputs, x: toNc(ncdhw.inputs['x']!), dy: toNc(ncdhw.inputs['dy']!) },
      expected: { ...ncdhw.expected, dx: toNc(ncdhw.expected['dx']!) },
    };
    expect(caseTolerances(asNc, 'float32')).toEqual(caseTolerances(ncdhw, 'float32'));
  });
});
