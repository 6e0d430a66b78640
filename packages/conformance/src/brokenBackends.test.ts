import {
  createReferenceBackend,
  flatIndex,
  geometryOf,
  type Backend,
  type BatchNormAttrs,
  type ReferenceTensor,
  type Shape,
} from '@batchnorm/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildGrid } from './grid.js';
import { runSuite } from './suite.js';
import type { CaseResult } from './types.js';

/**
 * The suite must fail a backend with a real bug. Each faulty backend here is the reference with
 * one kernel broken the way a real implementation might be.
 */

const reference = createReferenceBackend();

function referenceTensor(data: Float64Array, shape: Shape): ReferenceTensor {
  return { data, shape: [...shape] };
}

/** (a) `variance` returned unbiased (÷(m−1)) instead of the biased batch variance. */
const varianceUnbiased = {
  ...reference,
  name: 'broken-variance-unbiased',
  batchNormForwardTraining(inputs, attrs) {
    const out = reference.batchNormForwardTraining(inputs, attrs);
    const { m } = geometryOf(attrs.layout, inputs.x.shape);
    return { ...out, variance: referenceTensor(out.variance.data.map((v) => (v * m) / (m - 1)), out.variance.shape) };
  },
} satisfies Backend<ReferenceTensor>;

/** (b) NHWC tensors indexed as NCHW: `[N, H, W, C]` read with NCHW strides. */
function asNchw(t: ReferenceTensor): ReferenceTensor {
  const [n = 1, h = 1, w = 1, c = 1] = t.shape;
  return referenceTensor(t.data, [n, c, h, w]);
}
function nhwcAsNchw(attrs: BatchNormAttrs): boolean {
  return attrs.layout === 'NHWC';
}
const wrongStride = {
  ...reference,
  name: 'broken-nhwc-stride',
  batchNormForwardTraining(inputs, attrs) {
    if (!nhwcAsNchw(attrs)) return reference.batchNormForwardTraining(inputs, attrs);
    const out = reference.batchNormForwardTraining({ ...inputs, x: asNchw(inputs.x) }, { ...attrs, layout: 'NCHW' });
    return { ...out, y: referenceTensor(out.y.data, inputs.x.shape) };
  },
  batchNormForwardInference(inputs, attrs) {
    if (!nhwcAsNchw(attrs)) return reference.batchNormForwardInference(inputs, attrs);
    const y = reference.batchNormForwardInference({ ...inputs, x: asNchw(inputs.x) }, { ...attrs, layout: 'NCHW' });
    return referenceTensor(y.data, inputs.x.shape);
  },
  batchNormBackward(inputs, attrs) {
    if (!nhwcAsNchw(attrs)) return reference.batchNormBackward(inputs, attrs);
    const out = reference.batchNormBackward(
      { ...inputs, x: asNchw(inputs.x), dy: asNchw(inputs.dy) },
      { ...attrs, layout: 'NCHW' },
    );
    return { ...out, dx: referenceTensor(out.dx.data, inputs.x.shape) };
  },
} satisfies Backend<ReferenceTensor>;

/** (c) The simplified backward without its `x̂·Σ(dy·x̂)` term. */
const backwardMissingTerm = {
  ...reference,
  name: 'broken-backward',
  batchNormBackward({ dy, x, gamma, mean, variance }, { layout, epsilon }) {
    const g = geometryOf(layout, x.shape);
    const dx = new Float64Array(g.size);
    const dgamma = new Float64Array(g.c);
    const dbeta = new Float64Array(g.c);
    for (let c = 0; c < g.c; c++) {
      const invStd = 1 / Math.sqrt(variance.data[c]! + epsilon);
      let sumDy = 0;
      let sumDyXhat = 0;
      for (let n = 0; n < g.n; n++) {
        for (let s = 0; s < g.spatial; s++) {
          const i = flatIndex(g, n, c, s);
          sumDy += dy.data[i]!;
          sumDyXhat += dy.data[i]! * (x.data[i]! - mean.data[c]!) * invStd;
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
} satisfies Backend<ReferenceTensor>;

/** (d) The running average with its factor on the wrong side: `factor·running + (1 − factor)·batch`. */
const runningAverageSwapped = {
  ...reference,
  name: 'broken-running-average',
  runningAverage({ running, batch }, { factor, batchScale }) {
    return referenceTensor(
      running.data.map((r, k) => factor * r + (1 - factor) * batchScale * batch.data[k]!),
      running.shape,
    );
  },
} satisfies Backend<ReferenceTensor>;

/**
 * A float32 backend whose variance is `E[x²] − E[x]²` with float32 sums: the cancellation the
 * offset regimes exist to catch.
 */
const naiveFloat32Variance = {
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
    return { y, mean: referenceTensor(mean, [g.c]), variance: referenceTensor(variance, [g.c]) };
  },
} satisfies Backend<ReferenceTensor>;

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
    it('fails the running statistics through the layer', () => {
      expect(passes(results, 'runningStats/')).toEqual([]);
      expect(failures(results, 'runningStats/')).toHaveLength(12);
    });
  });

  describe('(b) NHWC indexed as NCHW', () => {
    let results: CaseResult[];
    beforeAll(async () => {
      results = await run(wrongStride);
    });
    it('fails every NHWC case with more than one feature', () => {
      const nhwc = results.filter((r) => r.layout === 'NHWC' && r.case.startsWith('forward') || r.case.startsWith('backward/NHWC'));
      const multiFeature = nhwc.filter((r) => (r.shape?.[3] ?? 1) > 1);
      expect(multiFeature.length).toBeGreaterThan(20);
      expect(multiFeature.filter((r) => r.pass).map((r) => r.case)).toEqual([]);
    });
    it('passes NHWC with C = 1 (the strides coincide) and every NC and NCHW case', () => {
      const coincide = results.filter((r) => r.layout === 'NHWC' && r.shape?.[3] === 1 && /^(forward|backward)/.test(r.case));
      expect(coincide.length).toBeGreaterThan(0);
      expect(coincide.filter((r) => !r.pass).map((r) => r.case)).toEqual([]);
      const others = results.filter((r) => (r.layout === 'NC' || r.layout === 'NCHW') && /^(forward|backward)/.test(r.case));
      expect(others.filter((r) => !r.pass).map((r) => r.case)).toEqual([]);
    });
    it('fails the NHWC running statistics and gradient checks', () => {
      expect(failures(results, 'runningStats/NHWC/').length).toBe(4);
      expect(failures(results, 'gradientCheck/NHWC/').length).toBeGreaterThan(0);
      expect(failures(results, 'runningStats/NC/')).toEqual([]);
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
      expect(fd).toHaveLength(3);
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
      expect(failures(results, 'runningStats/')).toHaveLength(12);
    });
  });

  describe('a float32 variance computed as E[x²] − E[x]²', () => {
    let results: CaseResult[];
    beforeAll(async () => {
      results = await run(naiveFloat32Variance);
    });
    it('fails the large-offset training cases and passes the unit-normal ones', () => {
      const offset = results.filter((r) => r.op === 'forwardTraining' && /offset1e[34]$/.test(r.case) && r.shape!.length > 0);
      const multiValued = offset.filter((r) => !r.case.includes('/2x3/') && !r.case.includes('/1x3x1x2/') && !r.case.includes('/1x1x2x3/'));
      expect(multiValued.filter((r) => r.pass).map((r) => r.case)).toEqual([]);
      expect(failures(results, 'forwardTraining/').filter((r) => r.case.endsWith('/unit'))).toEqual([]);
    });
  });
});
