import {
  compareClose,
  createRandom,
  createReferenceBackend,
  geometryOf,
  LAYOUTS,
  type Backend,
  type Layout,
  type TensorData,
  type TensorHandle,
  type ToleranceProfileName,
} from '@batchnorm/core';
import { EPSILON, seedOf } from './grid.js';
import { compareOutputs, hostData, tallyResult, thrownResult } from './runner.js';
import { caseTolerances, FLOAT64_UNIT_ROUNDOFF, resolveProfile, toleranceOf, type ToleranceProfile } from './tolerances.js';
import type { CaseResult, ConformanceCase } from './types.js';

export interface GradientCheckCase {
  readonly name: string;
  readonly layout: Layout;
  readonly shape: readonly number[];
}

/** Small, well-conditioned shapes (σ ≈ 1.5, γ ≈ 1, m ≥ 6): finite differences are meaningful there. */
const GRADIENT_CHECK_SHAPES: Readonly<Record<Layout, readonly number[]>> = {
  NC: [6, 4],
  NCL: [3, 2, 4],
  NLC: [3, 4, 2],
  NCHW: [2, 3, 3, 3],
  NHWC: [2, 3, 3, 2],
  NCDHW: [2, 2, 2, 2, 3],
  NDHWC: [2, 2, 3, 2, 2],
};

/** One gradient check per layout. */
export function gradientCheckCases(): GradientCheckCase[] {
  return LAYOUTS.map((layout) => {
    const shape = GRADIENT_CHECK_SHAPES[layout];
    return { name: `gradientCheck/${layout}/${shape.join('x')}`, layout, shape };
  });
}

/**
 * Step of the central difference: float32 needs a large step, since the loss's rounding error
 * (~u·Σ|w·y|) is divided by h, while the truncation error grows as h²; h = 1e-2 balances the two
 * for these well-conditioned cases (both ~1e-4 relative). float64 takes h = 1e-5.
 */
export function finiteDifferenceStep(profile: ToleranceProfile): number {
  return profile.unitRoundoff < 1e-10 ? 1e-5 : 1e-2;
}

/** Directions probed per case: three for x, one each for γ and β. */
const X_DIRECTIONS = 3;

/**
 * Checks a backend's `batchNormBackward` two ways: directional derivatives of the loss
 * `l = Σ w·y` against central finite differences of the backend's own training forward, and the
 * gradients themselves against the reference backward on the same inputs.
 *
 * It also holds the backend to the contract of `saved`: the forward's `y`, `mean` and `variance`
 * are disposed before backward runs (`saved` must not depend on them), and backward runs twice
 * on the same `saved` (it must not consume it): the second result must match the first.
 */
export async function checkGradients<T extends TensorHandle, S>(
  backend: Backend<T, S>,
  c: GradientCheckCase,
  options: { profile?: ToleranceProfileName; backendName?: string } = {},
): Promise<CaseResult[]> {
  const profile = resolveProfile(backend, options.profile);
  const backendName = options.backendName ?? backend.name;
  const g = geometryOf(c.layout, c.shape);
  const random = createRandom(seedOf(c.name));
  const f32 = Math.fround;
  const x = Float64Array.from({ length: g.size }, () => f32(0.5 + 1.5 * random.normal()));
  const gamma = Float64Array.from({ length: g.c }, () => f32(1 + 0.3 * random.normal()));
  const beta = Float64Array.from({ length: g.c }, () => f32(0.2 * random.normal()));
  const w = Float64Array.from({ length: g.size }, () => f32(random.normal()));
  const attrs = { layout: c.layout, epsilon: EPSILON };
  const base = { backend: backendName, op: 'gradientCheck', layout: c.layout, shape: [...c.shape] };
  const h = finiteDifferenceStep(profile);

  // the loss on the backend, summed on the host in float64
  const loss = async (xv: Float64Array, gv: Float64Array, bv: Float64Array): Promise<{ value: number; scale: number }> => {
    const handles = [
      backend.upload(hostData(backend, xv), c.shape),
      backend.upload(hostData(backend, gv), [g.c]),
      backend.upload(hostData(backend, bv), [g.c]),
    ] as const;
    const out = backend.batchNormForwardTraining({ x: handles[0], gamma: handles[1], beta: handles[2] }, attrs);
    try {
      const y = await backend.read(out.y);
      let value = 0;
      let scale = 0;
      for (let i = 0; i < y.length; i++) {
        value += w[i]! * y[i]!;
        scale += Math.abs(w[i]! * y[i]!);
      }
      return { value, scale };
    } finally {
      for (const t of [...handles, out.y, out.mean, out.variance]) backend.dispose(t);
      backend.disposeSaved(out.saved);
    }
  };

  /** The backend's gradients for dy = w: twice, from one forward's `saved`. */
  const analyticGradients = async (): Promise<{ first: Gradients; second: Gradients }> => {
    const xh = backend.upload(hostData(backend, x), c.shape);
    const gh = backend.upload(hostData(backend, gamma), [g.c]);
    const bh = backend.upload(hostData(backend, beta), [g.c]);
    const dyh = backend.upload(hostData(backend, w), c.shape);
    const forward = backend.batchNormForwardTraining({ x: xh, gamma: gh, beta: bh }, attrs);
    for (const t of [forward.y, forward.mean, forward.variance]) backend.dispose(t);
    const backward = async (): Promise<Gradients> => {
      const grads = backend.batchNormBackward({ dy: dyh, x: xh, gamma: gh, saved: forward.saved }, attrs);
      try {
        return { dx: await backend.read(grads.dx), dgamma: await backend.read(grads.dgamma), dbeta: await backend.read(grads.dbeta) };
      } finally {
        for (const t of [grads.dx, grads.dgamma, grads.dbeta]) backend.dispose(t);
      }
    };
    try {
      return { first: await backward(), second: await backward() };
    } finally {
      for (const t of [xh, gh, bh, dyh]) backend.dispose(t);
      backend.disposeSaved(forward.saved);
    }
  };

  const fdBase = { ...base, case: `${c.name}/finiteDifferences` };
  const referenceBase = { ...base, case: `${c.name}/reference` };
  let gradients: { first: Gradients; second: Gradients };
  try {
    gradients = await analyticGradients();
  } catch (error) {
    return [thrownResult(fdBase, error), thrownResult(referenceBase, error)];
  }
  const { dx, dgamma, dbeta } = gradients.first;

  const results: CaseResult[] = [];
  try {
    let maxAbsError = 0;
    let maxRelError = 0;
    let mismatches = 0;
    let toleranceRatio = 0;
    let message: string | undefined;
    const probe = async (label: string, which: 'x' | 'gamma' | 'beta'): Promise<void> => {
      const base_ = which === 'x' ? x : which === 'gamma' ? gamma : beta;
      const grad = which === 'x' ? dx : which === 'gamma' ? dgamma : dbeta;
      const direction = Float64Array.from({ length: base_.length }, () => random.normal());
      // the perturbed points as the backend stores them (float32-rounded for a float32 backend)
      const round = backend.dtype === 'float64' ? (v: number) => v : f32;
      const plus = base_.map((v, i) => round(v + h * direction[i]!));
      const minus = base_.map((v, i) => round(v - h * direction[i]!));
      const at = (p: Float64Array) =>
        loss(which === 'x' ? p : x, which === 'gamma' ? p : gamma, which === 'beta' ? p : beta);
      const lp = await at(plus);
      const lm = await at(minus);
      const numeric = (lp.value - lm.value) / (2 * h);
      let analytic = 0;
      let analyticScale = 0;
      for (let i = 0; i < grad.length; i++) {
        const step = (plus[i]! - minus[i]!) / (2 * h);
        analytic += grad[i]! * step;
        analyticScale += Math.abs(grad[i]! * step);
      }
      // rounding of the two losses, divided by 2h, plus truncation O(h²) of the central difference
      const lossScale = Math.max(lp.scale, lm.scale);
      const atol =
        (profile.safety * profile.unitRoundoff * (lossScale + analyticScale)) / h + 10 * h * h * lossScale;
      const rtol = profile.unitRoundoff === FLOAT64_UNIT_ROUNDOFF ? 1e-6 : 1e-3;
      const error = Math.abs(numeric - analytic);
      maxAbsError = Math.max(maxAbsError, Number.isNaN(error) ? Infinity : error);
      if (analytic !== 0) maxRelError = Math.max(maxRelError, error / Math.abs(analytic));
      toleranceRatio = Math.max(toleranceRatio, Number.isNaN(error) ? Infinity : error / (atol + rtol * Math.abs(analytic)));
      if (!(error <= atol + rtol * Math.abs(analytic))) {
        mismatches++;
        message ??=
          `d${label}: backward gives ${analytic.toPrecision(7)}, finite differences ${numeric.toPrecision(7)} ` +
          `(|error| ${error.toExponential(2)} > ${(atol + rtol * Math.abs(analytic)).toExponential(2)})`;
      }
    };
    for (let d = 0; d < X_DIRECTIONS; d++) await probe(`x·v${d + 1}`, 'x');
    await probe('gamma·v', 'gamma');
    await probe('beta·v', 'beta');
    results.push(tallyResult(fdBase, { maxAbsError, maxRelError, toleranceRatio, mismatches, message }));
  } catch (error) {
    results.push(thrownResult(fdBase, error));
  }

  // the same gradients against the reference backward, and the second backward against the first
  const reference = createReferenceBackend();
  const r = (v: Float64Array, shape: readonly number[]) => reference.upload(v, shape);
  const rf = reference.batchNormForwardTraining({ x: r(x, c.shape), gamma: r(gamma, [g.c]), beta: r(beta, [g.c]) }, attrs);
  const rg = reference.batchNormBackward({ dy: r(w, c.shape), x: r(x, c.shape), gamma: r(gamma, [g.c]), saved: rf.saved }, attrs);
  const referenceCase: ConformanceCase = {
    name: referenceBase.case,
    op: 'backward',
    layout: c.layout,
    shape: c.shape,
    epsilon: EPSILON,
    inputs: { x, gamma, dy: w },
    expected: { dx: rg.dx.data, dgamma: rg.dgamma.data, dbeta: rg.dbeta.data },
  };
  results.push(tallyResult(referenceBase, againstReference(referenceCase, gradients, profile)));
  return results;
}

interface Gradients {
  readonly dx: TensorData;
  readonly dgamma: TensorData;
  readonly dbeta: TensorData;
}

/** The first backward against the reference; the second (same `saved`) against the first. */
function againstReference(
  c: ConformanceCase,
  { first, second }: { first: Gradients; second: Gradients },
  profile: ToleranceProfile,
) {
  const tally = compareOutputs(c, { ...first }, profile);
  if (tally.mismatches > 0) return tally;
  const derived = caseTolerances(c, profile);
  let mismatches = 0;
  let message: string | undefined;
  for (const key of ['dx', 'dgamma', 'dbeta'] as const) {
    const again = compareClose(second[key], first[key], toleranceOf(c, key, derived), key);
    mismatches += again.mismatches;
    message ??= again.firstMismatch;
  }
  return mismatches === 0
    ? tally
    : {
        ...tally,
        mismatches,
        message: `a second backward on the same saved differs from the first (backward must not consume saved); first: ${message ?? ''}`,
      };
}
