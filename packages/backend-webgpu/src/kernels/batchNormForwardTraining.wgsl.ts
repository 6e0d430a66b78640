import { read, written } from '../wgsl.js';
import { channelSums, channelSweep } from './channelShader.js';

/**
 * Pass 1 of 2: each workgroup sums its chunk of one feature as `(Σd, Σd²)` with `d = x − shift`,
 * `shift` the feature's first value. Shifting keeps the sums near the data's spread instead of its
 * offset: for `1e4 + N(0, 1)` the one-pass `E[x²] − E[x]²` cancels every digit in float32, while
 * `E[d²] − E[d]²` loses only the few that `(μ − shift)²/σ²` costs. Sums are additive, so the
 * workgroup combines them with `subgroupAdd` where it can.
 */
export const batchNormStatistics = channelSums({
  label: 'batchNormForwardTraining/statistics',
  storage: [read('x'), written('partials', 'vec2f')],
  setup: 'let shift = x[c * p.inner];',
  each: /* wgsl */ `let d = x[i] - shift;
    acc += vec2f(d, d * d);`,
});

/**
 * Pass 2 of 2: each workgroup adds its feature's partials, derives `μ`, `σ²` and `1/√(σ² + ε)`,
 * and normalizes its chunk. The feature's first workgroup writes `mean`, `variance` and `saved`.
 */
export const batchNormNormalize = channelSweep({
  label: 'batchNormForwardTraining/normalize',
  storage: [
    read('x'),
    read('gamma'),
    read('beta'),
    read('partials', 'vec2f'),
    written('y'),
    written('saved', 'vec4f'),
    written('meanOut'),
    written('varianceOut'),
  ],
  merge: true,
  setup: /* wgsl */ `let mf = f32(p.m);
  let shiftedMean = sums.x / mf;
  let raw = sums.y / mf - shiftedMean * shiftedMean;
  // rounding can leave a constant feature slightly below 0; select keeps a NaN (max may not)
  let variance = select(raw, 0.0, raw < 0.0);
  let invStd = inverseSqrt(variance + p.epsilon);
  let shift = x[c * p.inner];
  if (j == 0u && li == 0u) {
    saved[c] = vec4f(shift, shiftedMean, invStd, variance);
    meanOut[c] = shift + shiftedMean;
    varianceOut[c] = variance;
  }
  let g = gamma[c];
  let b = beta[c];`,
  each: /* wgsl */ `let xHat = ((x[i] - shift) - shiftedMean) * invStd;
    y[i] = g * xHat + b;`,
});
