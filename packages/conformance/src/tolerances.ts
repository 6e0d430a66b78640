import {
  BatchNormError,
  batchStatistics,
  describeValue,
  flatIndex,
  geometryOf,
  type Backend,
  type Geometry,
  type ToleranceProfileName,
} from '@batchnorm/core';
import type { ConformanceCase, Tolerance } from './types.js';

/**
 * Every tolerance of the suite is derived here, from one number per backend (its unit roundoff
 * `u` and a safety factor `s`) and from the case itself. Rationale, per output:
 *
 * - Inputs are float32-rounded before the reference runs, so a float32 backend and the float64
 *   reference see the same numbers; what remains is the backend's own arithmetic.
 * - A reduction over `R` values (a mean, a dot product, Σdy) loses about `u·L·Σ|terms|` with
 *   `L = ⌈log₂R⌉ + 1`, the depth of a pairwise sum: that bounds pairwise and blocked float32
 *   sums and float64 accumulators alike (a naive float32 loop is typically within it too). A
 *   batch-norm statistic reduces a feature's `m = N·∏spatial` values, whatever the layout's rank
 *   (`geometryOf` gives `m`), so `R = m` for every layout.
 * - Normalization `x̂ = (x − μ)/√(σ²+ε)` amplifies absolute errors of order `u·|x|` (rounding the
 *   mean to float32, subtracting it) by `1/√(σ²+ε)`: so its error scales with the case's
 *   conditioning `κ = max|x|/√(σ²+ε)`, e.g. 1e4 for `1e4 + N(0,1)` and `|x|/√ε` for a constant
 *   feature. The bound `u·((L + 3)·κ + s·L·max|x̂|)` allows a mean as accurate as a pairwise sum
 *   (`L·u·|x|`) plus three roundings of size `u·|x|` (mean, shift, scale); a scheme that loses
 *   more (e.g. `E[x²] − E[x]²`, or a long naive float32 sum) fails the offset regimes.
 * - Elementwise kernels are judged relative to their output (`rtol = s·u`); values below the
 *   smallest normal float32 (`2⁻¹²⁶`, where float32 keeps no relative precision and GPUs flush to
 *   zero) pass by `atol`.
 */
export interface ToleranceProfile {
  readonly name: ToleranceProfileName;
  /** Unit roundoff of the backend's arithmetic: 2⁻²⁴ for float32, 2⁻⁵³ for float64. */
  readonly unitRoundoff: number;
  /** Headroom over the rounding-error estimates above (not a fudge for wrong results). */
  readonly safety: number;
  /** Smallest value whose relative precision is kept. */
  readonly tiny: number;
}

export const FLOAT32_UNIT_ROUNDOFF = 2 ** -24;
export const FLOAT64_UNIT_ROUNDOFF = 2 ** -53;

export const FLOAT64_PROFILE = {
  name: 'float64',
  unitRoundoff: FLOAT64_UNIT_ROUNDOFF,
  safety: 16,
  tiny: 2 ** -1022,
} as const satisfies ToleranceProfile;

export const FLOAT32_PROFILE = {
  name: 'float32',
  unitRoundoff: FLOAT32_UNIT_ROUNDOFF,
  safety: 8,
  tiny: 2 ** -126,
} as const satisfies ToleranceProfile;

/**
 * GLSL only promises `exp`, `inversesqrt` and division to within a few ulp (ES 3.0 §4.5.1: 3 ulp
 * for exp, 2 ulp for inversesqrt, 2.5 ulp for division), so a WebGL backend gets 4× the float32
 * headroom.
 */
export const FLOAT32_GPU_PROFILE = {
  ...FLOAT32_PROFILE,
  name: 'float32-gpu',
  safety: 32,
} as const satisfies ToleranceProfile;

/**
 * The profiles by name. A backend's manifest names its profile (`traits.tolerance`); nothing
 * here knows any backend by name.
 */
export const TOLERANCE_PROFILES: { readonly [K in ToleranceProfileName]: ToleranceProfile & { readonly name: K } } = {
  float64: FLOAT64_PROFILE,
  float32: FLOAT32_PROFILE,
  'float32-gpu': FLOAT32_GPU_PROFILE,
};

/** The profile named `name`; throws a `BatchNormError` for a name that is not one. */
export function profileFor(name: ToleranceProfileName): ToleranceProfile {
  if (typeof name !== 'string' || !Object.hasOwn(TOLERANCE_PROFILES, name)) {
    throw new BatchNormError({
      code: 'INVALID_ARGUMENT',
      argument: 'profile',
      expected: `one of ${Object.keys(TOLERANCE_PROFILES).map((k) => `"${k}"`).join(', ')}`,
      received: describeValue(name),
    });
  }
  return TOLERANCE_PROFILES[name];
}

/**
 * The profile a backend is judged with when nobody names one: by the precision it declares
 * (`float64`, else `float32`). A GPU backend should name `float32-gpu` (its manifest does).
 */
export function defaultProfileName(backend: Pick<Backend, 'dtype'>): ToleranceProfileName {
  return backend.dtype === 'float64' ? 'float64' : 'float32';
}

/** `profileFor(name)`, or the default of `backend` when `name` is undefined. */
export function resolveProfile(backend: Pick<Backend, 'dtype'>, name?: ToleranceProfileName): ToleranceProfile {
  return profileFor(name ?? defaultProfileName(backend));
}

/** `⌈log₂ R⌉ + 1`: the depth of a pairwise sum of `R` values. */
export function reductionDepth(length: number): number {
  return Math.ceil(Math.log2(Math.max(1, length))) + 1;
}

function maxAbs(values: ArrayLike<number> | undefined): number {
  let max = 0;
  if (values === undefined) return 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]!));
  return max;
}

interface FeatureScales {
  /** max over features of max|x| / √(σ² + ε). */
  readonly conditioning: number;
  /** max |x̂|. */
  readonly maxNormalized: number;
  /** Per feature `|γ|/√(σ²+ε)`. */
  readonly gain: Float64Array;
  /** Per feature `Σ|dy|` (backward). */
  readonly sumAbsDy: Float64Array;
}

function featureScales(
  g: Geometry,
  x: Float64Array,
  gamma: Float64Array,
  mean: Float64Array,
  variance: Float64Array,
  epsilon: number,
  dy?: Float64Array,
): FeatureScales {
  let conditioning = 0;
  let maxNormalized = 0;
  const gain = new Float64Array(g.c);
  const sumAbsDy = new Float64Array(g.c);
  for (let c = 0; c < g.c; c++) {
    const std = Math.sqrt(variance[c]! + epsilon);
    gain[c] = Math.abs(gamma[c]!) / std;
    for (let n = 0; n < g.n; n++) {
      for (let s = 0; s < g.spatial; s++) {
        const i = flatIndex(g, n, c, s);
        conditioning = Math.max(conditioning, Math.abs(x[i]!) / std);
        maxNormalized = Math.max(maxNormalized, Math.abs(x[i]! - mean[c]!) / std);
        if (dy !== undefined) sumAbsDy[c] += Math.abs(dy[i]!);
      }
    }
  }
  return { conditioning, maxNormalized, gain, sumAbsDy };
}

function required(c: ConformanceCase, key: string): Float64Array {
  const value = c.inputs[key];
  if (value === undefined) throw new Error(`case "${c.name}": inputs.${key} is missing`);
  return value;
}

/** Σ_k |a_ik|·|b_kj|, worst over (i, j): the scale a dot product's rounding error is relative to. */
function maxAbsDotProduct(c: ConformanceCase): number {
  const a = required(c, 'a');
  const b = required(c, 'b');
  const [aRows = 0, aCols = 0] = c.shapes?.['a'] ?? [];
  const [bRows = 0, bCols = 0] = c.shapes?.['b'] ?? [];
  const ta = c.attrs?.['transposeA'] === true;
  const tb = c.attrs?.['transposeB'] === true;
  const m = ta ? aCols : aRows;
  const k = ta ? aRows : aCols;
  const n = tb ? bRows : bCols;
  // Per-row and per-column maxima bound Σ|a||b| by k·max|a_i·|·max|b_·j| cheaply and tightly enough.
  const rowMax = new Float64Array(m);
  const colMax = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const v = Math.abs(ta ? a[p * aCols + i]! : a[i * aCols + p]!);
      rowMax[i] = Math.max(rowMax[i]!, v);
    }
  }
  for (let j = 0; j < n; j++) {
    for (let p = 0; p < k; p++) {
      const v = Math.abs(tb ? b[j * bCols + p]! : b[p * bCols + j]!);
      colMax[j] = Math.max(colMax[j]!, v);
    }
  }
  return k * maxAbs(rowMax) * maxAbs(colMax);
}

/**
 * The tolerance of every expected output of `c` for a backend of `profile`, from the case's own
 * data (see the rationale above).
 */
export function caseTolerances(
  c: ConformanceCase,
  profileOrName: ToleranceProfile | ToleranceProfileName,
): Record<string, Tolerance> {
  const profile = typeof profileOrName === 'string' ? profileFor(profileOrName) : profileOrName;
  const u = profile.unitRoundoff;
  const s = profile.safety;
  const rtol = s * u;
  const out: Record<string, Tolerance> = {};
  const set = (key: string, atol: number): void => {
    if (c.expected[key] !== undefined) out[key] = { atol: Math.max(atol, s * profile.tiny), rtol };
  };
  switch (c.op) {
    case 'forwardTraining':
    case 'forwardInference':
    case 'backward': {
      const g = geometryOf(c.layout!, c.shape);
      const L = reductionDepth(g.m);
      const x = required(c, 'x');
      const gamma = required(c, 'gamma');
      const epsilon = c.epsilon!;
      const stats =
        c.op === 'forwardInference'
          ? { mean: required(c, 'runningMean'), variance: required(c, 'runningVar') }
          : batchStatistics(x, g);
      const f = featureScales(g, x, gamma, stats.mean, stats.variance, epsilon, c.inputs['dy']);
      // absolute error of x̂: the mean's reduction (L) and three roundings of size u·|x|
      const normalizedError = u * ((L + 3) * f.conditioning + s * L * f.maxNormalized);
      const maxX = maxAbs(x);
      set('y', normalizedError * maxAbs(gamma) + s * u * maxAbs(c.inputs['beta']));
      set('mean', s * u * L * maxX);
      // a mean off by δ adds δ² to the variance: δ is the mean's error above, ((L + 3)·u·|x|)
      const varianceAtol = s * u * L * maxAbs(stats.variance) + ((L + 3) * u * maxX) ** 2;
      set('variance', varianceAtol);
      set('runningMean', s * u * (L * maxX + maxAbs(c.inputs['runningMean'])));
      set('runningVar', 2 * varianceAtol + s * u * maxAbs(c.inputs['runningVar']));
      if (c.op === 'backward') {
        const dyMax = maxAbs(c.inputs['dy']);
        const xh = f.maxNormalized;
        set(
          'dx',
          maxAbs(f.gain) * dyMax * (s * u * L * (2 + xh * xh) + 2 * xh * normalizedError),
        );
        set('dgamma', maxAbs(f.sumAbsDy) * (normalizedError + s * u * L * xh));
        set('dbeta', s * u * L * maxAbs(f.sumAbsDy));
      }
      return out;
    }
    case 'runningAverage': {
      const factor = Number(c.attrs?.['factor'] ?? 1);
      const batchScale = Number(c.attrs?.['batchScale'] ?? 1);
      set('out', s * u * (maxAbs(c.inputs['running']) + factor * batchScale * maxAbs(c.inputs['batch'])));
      return out;
    }
    case 'matMul': {
      const k = (c.attrs?.['transposeA'] === true ? c.shapes?.['a']?.[0] : c.shapes?.['a']?.[1]) ?? 1;
      set('out', s * u * reductionDepth(k) * maxAbsDotProduct(c));
      return out;
    }
    case 'addBias':
      set('out', s * u * (maxAbs(c.inputs['x']) + maxAbs(c.inputs['bias'])));
      return out;
    case 'sumRows': {
      const rows = c.shapes?.['x']?.[0] ?? 1;
      set('out', s * u * reductionDepth(rows) * rows * maxAbs(c.inputs['x']));
      return out;
    }
    case 'sigmoid':
    case 'sigmoidBackward':
    case 'reluBackward':
    case 'relu':
      // relative to the output; relu and reluBackward are exact in any precision
      set('out', 0);
      return out;
    case 'softmaxCrossEntropy': {
      const [rows = 1, cols = 1] = c.shapes?.['logits'] ?? [];
      // exp(logit − max) is relative to |logit|'s rounding: u·|logit| in the exponent
      const spread = maxAbs(c.inputs['logits']);
      set('loss', s * u * (reductionDepth(cols) + spread) * Math.max(1, maxAbs(c.inputs['labels'])));
      set('dLogits', (s * u * (reductionDepth(cols) + spread)) / rows);
      return out;
    }
    case 'sgdUpdate': {
      const lr = Math.abs(Number(c.attrs?.['learningRate'] ?? 0));
      set('out', s * u * (maxAbs(c.inputs['param']) + lr * maxAbs(c.inputs['grad'])));
      return out;
    }
  }
}

/** The tolerance of one output: the case's own when it states one, else the derived one. */
export function toleranceOf(
  c: ConformanceCase,
  output: string,
  derived: Readonly<Record<string, Tolerance>>,
): Tolerance {
  return c.outputTolerance?.[output] ?? c.tolerance ?? derived[output] ?? { atol: 0, rtol: 0 };
}
