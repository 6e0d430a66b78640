import {
  createRandom,
  createReferenceBackend,
  geometryOf,
  type Backend,
  type Layout,
  type TensorHandle,
} from '@batchnorm/core';
import { EPSILON, seedOf } from './grid.js';
import { hostData, runCase, thrownResult } from './runner.js';
import { FLOAT64_PROFILE, profileFor, type ToleranceProfile } from './tolerances.js';
import type { CaseResult, ConformanceCase } from './types.js';

export interface GradientCheckCase {
  readonly name: string;
  readonly layout: Layout;
  readonly shape: readonly number[];
}

/** Small, well-conditioned shapes (σ ≈ 1.5, γ ≈ 1): finite differences are meaningful there. */
export function gradientCheckCases(): GradientCheckCase[] {
  return [
    { name: 'gradientCheck/NC/6x4', layout: 'NC', shape: [6, 4] },
    { name: 'gradientCheck/NCHW/2x3x3x3', layout: 'NCHW', shape: [2, 3, 3, 3] },
    { name: 'gradientCheck/NHWC/2x3x3x2', layout: 'NHWC', shape: [2, 3, 3, 2] },
  ];
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
 */
export async function checkGradients<T extends TensorHandle>(
  backend: Backend<T>,
  c: GradientCheckCase,
  options: { profile?: ToleranceProfile; backendName?: string } = {},
): Promise<CaseResult[]> {
  const profile = options.profile ?? profileFor(backend);
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
    }
  };

  const results: CaseResult[] = [];
  const fdBase = { ...base, case: `${c.name}/finiteDifferences` };
  try {
    // analytic gradients from the backend
    const xh = backend.upload(hostData(backend, x), c.shape);
    const gh = backend.upload(hostData(backend, gamma), [g.c]);
    const bh = backend.upload(hostData(backend, beta), [g.c]);
    const forward = backend.batchNormForwardTraining({ x: xh, gamma: gh, beta: bh }, attrs);
    const dyh = backend.upload(hostData(backend, w), c.shape);
    const grads = backend.batchNormBackward({ dy: dyh, x: xh, gamma: gh, mean: forward.mean, variance: forward.variance }, attrs);
    const dx = await backend.read(grads.dx);
    const dgamma = await backend.read(grads.dgamma);
    const dbeta = await backend.read(grads.dbeta);
    for (const t of [xh, gh, bh, dyh, forward.y, forward.mean, forward.variance, grads.dx, grads.dgamma, grads.dbeta]) {
      backend.dispose(t);
    }

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
      const rtol = profile === FLOAT64_PROFILE ? 1e-6 : 1e-3;
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
    results.push({
      ...fdBase,
      pass: mismatches === 0,
      maxAbsError,
      maxRelError,
      toleranceRatio,
      ...(mismatches === 0 ? {} : { mismatches }),
      ...(message === undefined ? {} : { message }),
    });
  } catch (error) {
    results.push(thrownResult(fdBase, error));
  }

  // the same gradients against the reference backward
  const reference = createReferenceBackend();
  const r = (v: Float64Array, shape: readonly number[]) => reference.upload(v, shape);
  const rf = reference.batchNormForwardTraining({ x: r(x, c.shape), gamma: r(gamma, [g.c]), beta: r(beta, [g.c]) }, attrs);
  const rg = reference.batchNormBackward(
    { dy: r(w, c.shape), x: r(x, c.shape), gamma: r(gamma, [g.c]), mean: rf.mean, variance: rf.variance },
    attrs,
  );
  const referenceCase: ConformanceCase = {
    name: `${c.name}/reference`,
    op: 'backward',
    layout: c.layout,
    shape: c.shape,
    epsilon: EPSILON,
    inputs: { x, gamma, dy: w },
    expected: { dx: rg.dx.data, dgamma: rg.dgamma.data, dbeta: rg.dbeta.data },
  };
  const referenceResult = await runCase(backend, referenceCase, { profile, backendName });
  results.push({ ...referenceResult, op: 'gradientCheck' });
  return results;
}
