import {
  BatchNorm,
  compareClose,
  createRandom,
  createReferenceBackend,
  geometryOf,
  LAYOUTS,
  layoutRank,
  type Backend,
  type Layout,
  type TensorHandle,
  type ToleranceProfileName,
  type VarianceCorrection,
} from '@batchnorm/core';
import { seedOf } from './grid.js';
import { hostData, tallyResult, thrownResult } from './runner.js';
import { reductionDepth, resolveProfile, type ToleranceProfile } from './tolerances.js';
import type { CaseResult, Tolerance } from './types.js';

export interface RunningStatsCase {
  readonly name: string;
  readonly layout: Layout;
  readonly shape: readonly number[];
  readonly momentum: number | null;
  readonly varianceCorrection: VarianceCorrection;
  readonly steps: number;
}

/** Shapes of the running-statistics runs, one per layout. */
const RUNNING_STATS_SHAPES: Readonly<Record<Layout, readonly number[]>> = {
  NC: [16, 6],
  NCL: [4, 3, 6],
  NLC: [4, 6, 3],
  NCHW: [4, 3, 5, 5],
  NHWC: [4, 5, 5, 3],
  NCDHW: [2, 3, 2, 3, 2],
  NDHWC: [2, 2, 3, 2, 3],
};

/** The rank-2 and rank-4 layouts, which get every momentum × correction combination. */
function allCombinations(layout: Layout): boolean {
  const rank = layoutRank(layout);
  return rank === 2 || rank === 4;
}

/**
 * Training runs through the layer. The rank-2 and rank-4 layouts: momentum 0.1 and null × both
 * corrections. The rank-3 and rank-5 layouts: momentum 0.1 unbiased and null biased, which still
 * cover both momentum rules and both corrections (m, hence `m/(m−1)`, comes from the layout's
 * geometry), at half the cost.
 */
export function runningStatsCases(steps = 30): RunningStatsCase[] {
  const cases: RunningStatsCase[] = [];
  for (const layout of LAYOUTS) {
    const shape = RUNNING_STATS_SHAPES[layout];
    for (const momentum of [0.1, null]) {
      for (const varianceCorrection of ['unbiased', 'biased'] as const) {
        if (!allCombinations(layout) && (momentum === null) !== (varianceCorrection === 'biased')) continue;
        cases.push({
          name: `runningStats/${layout}/${shape.join('x')}/momentum${momentum ?? 'Null'}/${varianceCorrection}`,
          layout,
          shape,
          momentum,
          varianceCorrection,
          steps,
        });
      }
    }
  }
  return cases;
}

/**
 * Tolerance of the comparison after `steps` training steps: each step rounds the running
 * statistics and γ, β once more, so the float32 error grows with the step count on top of one
 * step's (reduction depth + conditioning of the batches, here |x| ≤ ~15 for σ ≈ 3).
 */
export function runningStatsTolerance(profile: ToleranceProfile, m: number, steps: number): Tolerance {
  const perStep = profile.safety * profile.unitRoundoff * (reductionDepth(m) + 8);
  return { atol: perStep * steps, rtol: perStep * steps };
}

/**
 * Trains a `BatchNorm` layer on `backend` and one on the reference with the same seeded batches
 * (forward, backward with a fixed dy, an SGD step on γ and β), then switches both to inference
 * and compares the running statistics, γ, β, the batch count and an inference output.
 */
export async function checkRunningStats<T extends TensorHandle, S>(
  backend: Backend<T, S>,
  c: RunningStatsCase,
  options: { profile?: ToleranceProfileName; tolerance?: Tolerance; backendName?: string } = {},
): Promise<CaseResult> {
  const base = { backend: options.backendName ?? backend.name, case: c.name, op: 'runningStats', layout: c.layout, shape: [...c.shape] };
  const g = geometryOf(c.layout, c.shape);
  const tolerance =
    options.tolerance ?? runningStatsTolerance(resolveProfile(backend, options.profile), g.m, c.steps);
  const reference = createReferenceBackend();
  const random = createRandom(seedOf(c.name));
  const f32 = (v: number): number => Math.fround(v);
  const gamma = Array.from({ length: g.c }, () => f32(1 + 0.3 * random.normal()));
  const beta = Array.from({ length: g.c }, () => f32(0.2 * random.normal()));
  const offsets = Array.from({ length: g.c }, () => 5 * random.normal());
  const options_ = { numFeatures: g.c, layout: c.layout, momentum: c.momentum, varianceCorrection: c.varianceCorrection, gamma, beta };
  const layer = new BatchNorm(backend, options_);
  const expectedLayer = new BatchNorm(reference, options_);
  const owned: T[] = [];
  try {
    const batch = (shift: number): Float64Array => {
      const data = new Float64Array(g.size);
      // feature k of element i: channels-last puts C last, channels-first second
      for (let i = 0; i < g.size; i++) {
        const k = g.channelsLast ? i % g.c : Math.floor(i / g.spatial) % g.c;
        data[i] = f32(offsets[k]! + shift + 3 * random.normal());
      }
      return data;
    };
    for (let step = 0; step < c.steps; step++) {
      // drift the batches so the running averages have something to follow
      const x = batch(0.05 * step);
      const dy = Float64Array.from({ length: g.size }, () => f32(random.normal()));
      const xb = backend.upload(hostData(backend, x), c.shape);
      owned.push(xb);
      const yb = layer.forward(xb);
      const dyb = backend.upload(hostData(backend, dy), c.shape);
      const dxb = layer.backward(dyb);
      layer.sgdStep(0.05);
      backend.dispose(yb);
      backend.dispose(dyb);
      backend.dispose(dxb);
      const xr = reference.upload(x, c.shape);
      expectedLayer.forward(xr);
      expectedLayer.backward(reference.upload(dy, c.shape));
      expectedLayer.sgdStep(0.05);
    }
    layer.eval();
    expectedLayer.eval();
    const probe = batch(0);
    const xb = backend.upload(hostData(backend, probe), c.shape);
    owned.push(xb);
    const yb = layer.forward(xb);
    const y = await backend.read(yb);
    backend.dispose(yb);
    const want = expectedLayer.forward(reference.upload(probe, c.shape)).data;
    // state() settles the layer's pending finite checks first, and reads through `read`
    const gotState = await layer.state();
    const wantState = expectedLayer.stateSync();
    const comparisons = [
      ['runningMean', compareClose(gotState.runningMean, wantState.runningMean, tolerance, 'runningMean')],
      ['runningVar', compareClose(gotState.runningVar, wantState.runningVar, tolerance, 'runningVar')],
      ['gamma', compareClose(gotState.gamma, wantState.gamma, tolerance, 'gamma')],
      ['beta', compareClose(gotState.beta, wantState.beta, tolerance, 'beta')],
      ['y', compareClose(y, want, tolerance, 'inference y')],
    ] as const;
    let maxAbsError = 0;
    let maxRelError = 0;
    let mismatches = 0;
    let toleranceRatio = 0;
    let message: string | undefined;
    for (const [, r] of comparisons) {
      toleranceRatio = Math.max(toleranceRatio, r.toleranceRatio);
      maxAbsError = Math.max(maxAbsError, r.maxAbsError);
      maxRelError = Math.max(maxRelError, r.maxRelError);
      mismatches += r.mismatches;
      message ??= r.firstMismatch;
    }
    if (gotState.numBatchesTracked !== wantState.numBatchesTracked) {
      mismatches++;
      message ??= `numBatchesTracked is ${gotState.numBatchesTracked}, expected ${wantState.numBatchesTracked}`;
    }
    return tallyResult(base, { maxAbsError, maxRelError, toleranceRatio, mismatches, message });
  } catch (error) {
    return thrownResult(base, error);
  } finally {
    layer.dispose();
    expectedLayer.dispose();
    for (const t of owned) backend.dispose(t);
  }
}
