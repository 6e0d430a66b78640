import {
  createReferenceBackend,
  flatIndex,
  HandleRegistry,
  referenceKernels,
  SPECIFICATION_VERSION,
  geometryOf,
  isChannelsLast,
  LAYOUTS,
  layoutOf,
  layoutRank,
  type Backend,
  type Layout,
  type ReferenceSaved,
  type ReferenceTensor,
  type Shape,
} from '@batchnorm/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { gradientCheckCases } from './gradientCheck.js';
import { buildGrid, REGIMES } from './grid.js';
import { runningStatsCases } from './runningStats.js';
import { runSuite } from './suite.js';
import type { CaseResult } from './types.js';

/**
 * The suite must fail a backend with a real bug. Each faulty backend here is the reference with
 * one kernel broken the way a real implementation might be.
 */

type ReferenceLike = Backend<ReferenceTensor, ReferenceSaved>;

function referenceTensor(data: Float64Array, shape: Shape): ReferenceTensor {
  return { data, shape: [...shape] };
}

/**
 * The reference's methods without a backend instance's handle checks: the broken kernels below
 * hand the reference's kernels tensors of their own (reshaped views, altered outputs).
 */
const reference = {
  name: 'reference',
  specificationVersion: SPECIFICATION_VERSION,
  dtype: 'float64',
  details: {},
  upload: (data, shape) => referenceTensor(Float64Array.from(data), shape),
  read: async (t) => t.data.slice(),
  readSync: (t) => t.data.slice(),
  dispose() {},
  disposeSaved() {},
  destroy() {},
  ...referenceKernels,
} satisfies Omit<ReferenceLike, 'isTensor'> & Pick<Required<ReferenceLike>, 'readSync'>;

/** A broken backend with its own handles, checked at its boundary as every backend's are. */
function broken(backend: Omit<ReferenceLike, 'isTensor'>): ReferenceLike {
  return new HandleRegistry<ReferenceTensor, ReferenceSaved>(backend.name).guard(backend);
}

/** (a) `variance` returned unbiased (÷(m−1)) instead of the biased batch variance. */
const varianceUnbiased = broken({
  ...reference,
  name: 'broken-variance-unbiased',
  batchNormForwardTraining(inputs, attrs) {
    const out = reference.batchNormForwardTraining(inputs, attrs);
    const { m } = geometryOf(attrs.layout, inputs.x.shape);
    return { ...out, variance: referenceTensor(out.variance.data.map((v) => (v * m) / (m - 1)), out.variance.shape) };
  },
});

/**
 * A backend whose batch-norm kernels run some layout through another one's kernel, reading the
 * same memory with the other layout's shape (`reshape`): the bug of a kernel reused where its
 * strides do not apply.
 */
function reinterpreting(
  name: string,
  wrongFor: (layout: Layout) => { layout: Layout; reshape: (shape: Shape) => Shape } | undefined,
): ReferenceLike {
  const as = (t: ReferenceTensor, reshape: (shape: Shape) => Shape): ReferenceTensor => referenceTensor(t.data, reshape(t.shape));
  return broken({
    ...reference,
    name,
    batchNormForwardTraining(inputs, attrs) {
      const wrong = wrongFor(attrs.layout);
      if (wrong === undefined) return reference.batchNormForwardTraining(inputs, attrs);
      const out = reference.batchNormForwardTraining({ ...inputs, x: as(inputs.x, wrong.reshape) }, { ...attrs, layout: wrong.layout });
      return { ...out, y: referenceTensor(out.y.data, inputs.x.shape) };
    },
    batchNormForwardInference(inputs, attrs) {
      const wrong = wrongFor(attrs.layout);
      if (wrong === undefined) return reference.batchNormForwardInference(inputs, attrs);
      const y = reference.batchNormForwardInference({ ...inputs, x: as(inputs.x, wrong.reshape) }, { ...attrs, layout: wrong.layout });
      return referenceTensor(y.data, inputs.x.shape);
    },
    batchNormBackward(inputs, attrs) {
      const wrong = wrongFor(attrs.layout);
      if (wrong === undefined) return reference.batchNormBackward(inputs, attrs);
      const out = reference.batchNormBackward(
        { ...inputs, x: as(inputs.x, wrong.reshape), dy: as(inputs.dy, wrong.reshape) },
        { ...attrs, layout: wrong.layout },
      );
      return { ...out, dx: referenceTensor(out.dx.data, inputs.x.shape) };
    },
  });
}

/** (b) Channels-last tensors indexed as channels-first: `[N, ...spatial, C]` read as `[N, C, ...spatial]`. */
const wrongStride = reinterpreting('broken-channels-last-stride', (layout) =>
  isChannelsLast(layout)
    ? { layout: layoutOf(layoutRank(layout), false), reshape: ([n = 1, ...rest]) => [n, rest.at(-1)!, ...rest.slice(0, -1)] }
    : undefined,
);

/** (e) `NCDHW` run through the `NCHW` kernel as `[N·D, C, H, W]`, a reshape that mixes features. */
const volumeAsImages = reinterpreting('broken-ncdhw-as-nchw', (layout) =>
  layout === 'NCDHW' ? { layout: 'NCHW', reshape: ([n = 1, c = 1, d = 1, h = 1, w = 1]) => [n * d, c, h, w] } : undefined,
);

/** (c) The simplified backward without its `x̂·Σ(dy·x̂)` term. */
const backwardMissingTerm = broken({
  ...reference,
  name: 'broken-backward',
  batchNormBackward({ dy, x, gamma, saved: { mean, variance } }, { layout, epsilon }) {
    const g = geometryOf(layout, x.shape);
    const dx = new Float64Array(g.size);
    const dgamma = new Float64Array(g.c);
    const dbeta = new Float64Array(g.c);
    for (let c = 0; c < g.c; c++) {
      const invStd = 1 / Math.sqrt(variance[c]! + epsilon);
      let sumDy = 0;
      let sumDyXhat = 0;
      for (let n = 0; n < g.n; n++) {
        for (let s = 0; s < g.spatial; s++) {
          const i = flatIndex(g, n, c, s);
          sumDy += dy.data[i]!;
          sumDyXhat += dy.data[i]! * (x.data[i]! - mean[c]!) * invStd;
        }
      }
      dgamma[c] = sumDyXhat;
      dbeta[c] = sumDy;
      for (let n = 0; n < g.n; n++) {
        for (let s = 0; s < g.spatial; s++) {
          const i = flatIndex(g, n, c, s);
          dx[i] = ((gamma.data[c]! * invStd) / g.m) * (g.m * dy.data[i]! - sumDy);
        }
      }
    }
    return {
      dx: referenceTensor(dx, x.shape),
      dgamma: referenceTensor(dgamma, [g.c]),
      dbeta: referenceTensor(dbeta, [g.c]),
    };
  },
});

/** (d) The running average with its factor on the wrong side: `factor·running + (1 − factor)·batch`. */
const runningAverageSwapped = broken({
  ...reference,
  name: 'broken-running-average',
  runningAverage({ running, batch }, { factor, batchScale }) {
    return referenceTensor(
      running.data.map((r, k) => factor * r + (1 - factor) * batchScale * batch.data[k]!),
      running.shape,
    );
  },
});

/**
 * A float32 backend whose variance is `E[x²] − E[x]²` with float32 sums: the cancellation the
 * offset regimes exist to catch.
 */
const naiveFloat32Variance = broken({
  ...reference,
  name: 'naive-float32',
  dtype: 'float32',
  batchNormForwardTraining(inputs, attrs) {
    const { x } = inputs;
    const g = geometryOf(attrs.layout, x.shape);
    const f = Math.fround;
    const mean = new Float64Array(g.c);
    const variance = new Float64Array(g.c);
    for (let c = 0; c < g.c; c++) {
      let sum = 0;
      let squares = 0;
      for (let n = 0; n < g.n; n++) {
        for (let s = 0; s < g.spatial; s++) {
          const v = x.data[flatIndex(g, n, c, s)]!;
          sum = f(sum + v);
          squares = f(squares + f(v * v));
        }
      }
      mean[c] = f(sum / g.m);
      variance[c] = Math.max(0, f(f(squares / g.m) - f(mean[c]! * mean[c]!)));
    }
    const y = reference.batchNormForwardInference(
      { ...inputs, mean: referenceTensor(mean, [g.c]), variance: referenceTensor(variance, [g.c]) },
      attrs,
    );
    return {
      y,
      mean: referenceTensor(mean, [g.c]),
      variance: referenceTensor(variance, [g.c]),
      saved: { mean: mean.slice(), variance: variance.slice() },
    };
  },
});

/** (f) A backward that consumes `saved` (frees it, as if it were its own scratch memory). */
const backwardConsumesSaved = broken({
  ...reference,
  name: 'broken-backward-consumes-saved',
  batchNormBackward(inputs, attrs) {
    const out = reference.batchNormBackward(inputs, attrs);
    inputs.saved.mean.fill(Number.NaN);
    inputs.saved.variance.fill(Number.NaN);
    return out;
  },
});

/** (g) A `disposeSaved` that is not idempotent: the second call throws, as a double free would. */
function disposeSavedTwiceThrows(): ReferenceLike {
  const released = new WeakSet<ReferenceSaved>();
  const guarded = broken({ ...reference, name: 'broken-dispose-saved-twice' });
  // outside the guard, which would make the second call the no-op the contract asks for
  return {
    ...guarded,
    disposeSaved(saved) {
      if (released.has(saved)) throw new Error('saved disposed twice');
      guarded.disposeSaved(saved);
      released.add(saved);
    },
  };
}

/**
 * A reference whose `dispose` poisons the tensor (NaN), as a pooled backend hands its memory to
 * the next tensor: reading a handle after disposing it gives garbage. With `aliasSaved`, the
 * training forward's `saved` shares the memory of its `mean` and `variance` outputs (h), which
 * the contract forbids.
 */
function poisoningDispose(aliasSaved: boolean): ReferenceLike {
  return broken({
    ...reference,
    name: aliasSaved ? 'broken-saved-aliases-outputs' : 'poisoning-dispose',
    dispose(t) {
      t.data.fill(Number.NaN);
    },
    batchNormForwardTraining(inputs, attrs) {
      const out = reference.batchNormForwardTraining(inputs, attrs);
      return aliasSaved ? { ...out, saved: { mean: out.mean.data, variance: out.variance.data } } : out;
    },
  });
}

const grid = buildGrid('quick');

function failures(results: readonly CaseResult[], prefix: string): CaseResult[] {
  return results.filter((r) => r.case.startsWith(prefix) && !r.pass);
}
function passes(results: readonly CaseResult[], prefix: string): CaseResult[] {
  return results.filter((r) => r.case.startsWith(prefix) && r.pass);
}

describe('the reference passes its own suite', () => {
  it('every grid case, running-stats, gradient and error check', async () => {
    const results = await runSuite(createReferenceBackend(), { cases: grid, checks: true });
    const failed = results.filter((r) => !r.pass);
    expect(failed.map((r) => `${r.case}: ${r.message}`)).toEqual([]);
    expect(results.length).toBeGreaterThan(grid.length);
  });
});

describe('deliberately broken backends fail the suite', () => {
  const run = (backend: Backend<ReferenceTensor>) => runSuite(backend, { cases: grid, checks: true });

  describe('(a) variance returned unbiased', () => {
    let results: CaseResult[];
    beforeAll(async () => {
      results = await run(varianceUnbiased);
    });
    it('fails every training forward on its variance', () => {
      const failed = failures(results, 'forwardTraining/');
      for (const r of failed) expect(r.message).toMatch(/first: (variance|runningVar)\[/);
      // only a batch whose single feature is constant has variance 0 either way
      expect(passes(results, 'forwardTraining/').map((r) => r.case)).toEqual([
        'forwardTraining/NC/5x1/constantFeature',
        'forwardTraining/NCHW/3x1x5x7/constantFeature',
        'forwardTraining/NHWC/3x5x7x1/constantFeature',
      ]);
    });
    it('passes inference, which does not use it', () => {
      expect(failures(results, 'forwardInference/')).toEqual([]);
    });
    it('fails the running statistics through the layer, on every layout', () => {
      expect(passes(results, 'runningStats/')).toEqual([]);
      expect(failures(results, 'runningStats/')).toHaveLength(runningStatsCases().length);
    });
  });

  describe('(b) channels-last indexed as channels-first', () => {
    let results: CaseResult[];
    beforeAll(async () => {
      results = await run(wrongStride);
    });
    const batchNorm = (r: CaseResult): boolean => /^(forward|backward)/.test(r.case);
    const channelsLast = (r: CaseResult): boolean => r.layout !== undefined && isChannelsLast(r.layout);
    it('fails every channels-last case with more than one feature, on every channels-last layout', () => {
      const multiFeature = results.filter((r) => batchNorm(r) && channelsLast(r) && r.shape!.at(-1)! > 1);
      expect(new Set(multiFeature.map((r) => r.layout))).toEqual(new Set(['NLC', 'NHWC', 'NDHWC']));
      expect(multiFeature.length).toBeGreaterThan(60);
      expect(multiFeature.filter((r) => r.pass).map((r) => r.case)).toEqual([]);
    });
    it('passes channels-last with C = 1 (the strides coincide) and every channels-first case', () => {
      const coincide = results.filter((r) => batchNorm(r) && channelsLast(r) && r.shape!.at(-1) === 1);
      expect(coincide.length).toBeGreaterThan(0);
      expect(coincide.filter((r) => !r.pass).map((r) => r.case)).toEqual([]);
      const others = results.filter((r) => batchNorm(r) && !channelsLast(r));
      expect(others.filter((r) => !r.pass).map((r) => r.case)).toEqual([]);
    });
    it('fails the channels-last running statistics and gradient checks, and only those', () => {
      for (const layout of ['NLC', 'NHWC', 'NDHWC']) {
        expect(failures(results, `runningStats/${layout}/`).length).toBe(runningStatsCases().filter((c) => c.layout === layout).length);
        expect(failures(results, `gradientCheck/${layout}/`).length).toBeGreaterThan(0);
      }
      for (const layout of ['NC', 'NCL', 'NCHW', 'NCDHW']) {
        expect(failures(results, `runningStats/${layout}/`)).toEqual([]);
        expect(failures(results, `gradientCheck/${layout}/`)).toEqual([]);
      }
    });
  });

  describe('(c) backward without Σdy·x̂', () => {
    let results: CaseResult[];
    beforeAll(async () => {
      results = await run(backwardMissingTerm);
    });
    it('fails the backward cases on dx, and only the backward', () => {
      const backward = results.filter((r) => r.op === 'backward');
      const failed = failures(results, 'backward/');
      // only a batch where every x̂ is 0 (a single constant feature) hides the term
      expect(failed.length).toBeGreaterThanOrEqual(backward.length - 3);
      for (const r of failed) expect(r.message).toMatch(/^\d+ of \d+ values outside tolerance; first: dx\[/);
      expect(failures(results, 'forward')).toEqual([]);
    });
    it('fails the finite-difference gradient check on every layout', () => {
      const fd = results.filter((r) => r.case.endsWith('/finiteDifferences'));
      expect(fd).toHaveLength(gradientCheckCases().length);
      for (const r of fd) {
        expect(r.pass).toBe(false);
        expect(r.message).toMatch(/^dx·v/);
      }
    });
  });

  describe('(d) running average with the factor on the wrong side', () => {
    let results: CaseResult[];
    beforeAll(async () => {
      results = await run(runningAverageSwapped);
    });
    it('fails every runningAverage kernel case', () => {
      const all = results.filter((r) => r.op === 'runningAverage');
      expect(all.length).toBeGreaterThan(0);
      expect(all.filter((r) => r.pass).map((r) => r.case)).toEqual([]);
    });
    it('fails the training forwards on the running statistics only', () => {
      const failed = failures(results, 'forwardTraining/');
      expect(failed.length).toBeGreaterThan(0);
      for (const r of failed) expect(r.message).toMatch(/first: running(Mean|Var)\[/);
      expect(failures(results, 'runningStats/')).toHaveLength(runningStatsCases().length);
    });
  });

  describe('a float32 variance computed as E[x²] − E[x]²', () => {
    let results: CaseResult[];
    beforeAll(async () => {
      results = await run(naiveFloat32Variance);
    });
    it('fails the large-offset training cases and passes the unit-normal ones', () => {
      const offset = results.filter((r) => r.op === 'forwardTraining' && /offset1e[34]$/.test(r.case) && r.shape!.length > 0);
      // m = 2 leaves too few values to cancel
      const multiValued = offset.filter((r) => geometryOf(r.layout!, r.shape!).m > 2);
      expect(new Set(multiValued.map((r) => r.layout))).toEqual(new Set(LAYOUTS));
      expect(multiValued.filter((r) => r.pass).map((r) => r.case)).toEqual([]);
      expect(failures(results, 'forwardTraining/').filter((r) => r.case.endsWith('/unit'))).toEqual([]);
    });
  });

  describe('(e) NCDHW through the NCHW kernel as [N·D, C, H, W]', () => {
    let results: CaseResult[];
    beforeAll(async () => {
      results = await run(volumeAsImages);
    });
    it('fails every NCDHW batch-norm case with D > 1 and C > 1, and passes every other layout', () => {
      const ncdhw = results.filter((r) => r.layout === 'NCDHW' && /^(forward|backward)/.test(r.case));
      const mixed = ncdhw.filter((r) => r.shape![1]! > 1 && r.shape![2]! > 1);
      // every op in every regime
      expect(mixed.length).toBeGreaterThanOrEqual(3 * REGIMES.length);
      expect(mixed.filter((r) => r.pass).map((r) => r.case)).toEqual([]);
      // with D = 1 (or C = 1) the reshape happens to be right
      expect(ncdhw.filter((r) => !mixed.includes(r) && !r.pass).map((r) => r.case)).toEqual([]);
      expect(results.filter((r) => r.layout !== 'NCDHW' && !r.pass).map((r) => r.case)).toEqual([]);
    });
    it('fails the NCDHW running statistics and gradient check', () => {
      expect(passes(results, 'runningStats/NCDHW/')).toEqual([]);
      expect(failures(results, 'gradientCheck/NCDHW/').length).toBeGreaterThan(0);
    });
  });

  describe('(f) backward consuming saved', () => {
    let results: CaseResult[];
    beforeAll(async () => {
      results = await run(backwardConsumesSaved);
    });
    it('fails the gradient check on every layout, saying so: a second backward on the same saved differs', () => {
      const again = results.filter((r) => r.op === 'gradientCheck' && r.case.endsWith('/reference'));
      expect(again).toHaveLength(gradientCheckCases().length);
      for (const r of again) {
        expect(r.pass).toBe(false);
        expect(r.message).toMatch(/^a second backward on the same saved differs from the first/);
      }
    });
  });

  describe('(g) disposeSaved not idempotent', () => {
    let results: CaseResult[];
    beforeAll(async () => {
      results = await run(disposeSavedTwiceThrows());
    });
    it('fails every case that makes a saved (training forward, backward), and no other', () => {
      const withSaved = results.filter((r) => r.op === 'forwardTraining' || r.op === 'backward');
      expect(withSaved.length).toBe(grid.filter((c) => c.op === 'forwardTraining' || c.op === 'backward').length);
      for (const r of withSaved) expect(r.message).toBe('threw: Error: saved disposed twice');
      expect(results.filter((r) => !r.pass && r.op !== 'forwardTraining' && r.op !== 'backward')).toEqual([]);
    });
  });

  describe('(h) saved sharing the memory of the forward\'s mean and variance', () => {
    it('a dispose that poisons memory passes everything: the suite never reads a disposed handle', async () => {
      const results = await run(poisoningDispose(false));
      expect(results.filter((r) => !r.pass).map((r) => `${r.case}: ${r.message}`)).toEqual([]);
    });
    it('fails every backward case once the forward\'s outputs are disposed before backward', async () => {
      const results = await run(poisoningDispose(true));
      const backward = results.filter((r) => r.op === 'backward');
      expect(backward.length).toBeGreaterThan(0);
      expect(backward.filter((r) => r.pass).map((r) => r.case)).toEqual([]);
      expect(failures(results, 'gradientCheck/').length).toBeGreaterThan(0);
    });
  });
});
