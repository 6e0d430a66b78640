import type { Shader } from '../context.js';
import { CHANNEL_PARAMS, directives, laneArgs, laneParams, WORKGROUP_NUMBER, WORKGROUP_PARAMS, workgroupSum } from '../wgsl.js';

/**
 * Pass 1 of 2: each workgroup sums its chunk of one feature as `(Σd, Σd²)` with `d = x − shift`,
 * `shift` the feature's first value. Shifting keeps the sums near the data's spread instead of its
 * offset: for `1e4 + N(0, 1)` the one-pass `E[x²] − E[x]²` cancels every digit in float32, while
 * `E[d²] − E[d]²` loses only the few that `(μ − shift)²/σ²` costs. Sums are additive, so the
 * workgroup combines them with `subgroupAdd` where it can.
 */
export const batchNormStatistics: Shader = {
  label: 'batchNormForwardTraining/statistics',
  source: (config) => /* wgsl */ `
${directives(config)}
${CHANNEL_PARAMS}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<vec2f>;
${workgroupSum('vec2f', config)}
@compute @workgroup_size(${config.workgroupSize})
fn main(${WORKGROUP_PARAMS}, ${laneParams(config)}) {
  ${WORKGROUP_NUMBER}
  if (wid >= p.channels * p.parts) {
    return;
  }
  let c = wid / p.parts;
  let start = (wid % p.parts) * p.chunk;
  let end = min(start + p.chunk, p.m);
  let shift = x[c * p.inner];
  var acc = vec2f(0.0);
  var k = cursorAt(start + li);
  for (var t = start + li; t < end; t += ${config.workgroupSize}u) {
    let d = x[indexOf(c, k)] - shift;
    acc += vec2f(d, d * d);
    k = advance(k);
  }
  let total = workgroupSum(acc, ${laneArgs(config)});
  if (li == 0u) {
    partials[wid] = total;
  }
}
`,
};

/**
 * Pass 2 of 2: each workgroup adds its feature's partials (every workgroup of a feature in the same
 * order, so they agree to the bit), derives `μ`, `σ²` and `1/√(σ² + ε)`, and normalizes its chunk.
 * The feature's first workgroup writes `mean`, `variance` and `saved`.
 */
export const batchNormNormalize: Shader = {
  label: 'batchNormForwardTraining/normalize',
  source: (config) => /* wgsl */ `
${directives(config)}
${CHANNEL_PARAMS}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read> partials: array<vec2f>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<storage, read_write> saved: array<vec4f>;
@group(0) @binding(7) var<storage, read_write> meanOut: array<f32>;
@group(0) @binding(8) var<storage, read_write> varianceOut: array<f32>;
${workgroupSum('vec2f', config)}
@compute @workgroup_size(${config.workgroupSize})
fn main(${WORKGROUP_PARAMS}, ${laneParams(config)}) {
  ${WORKGROUP_NUMBER}
  if (wid >= p.channels * p.parts) {
    return;
  }
  let c = wid / p.parts;
  let j = wid % p.parts;
  var acc = vec2f(0.0);
  for (var q = li; q < p.parts; q += ${config.workgroupSize}u) {
    acc += partials[c * p.parts + q];
  }
  let sums = workgroupSum(acc, ${laneArgs(config)});
  let mf = f32(p.m);
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
  let b = beta[c];
  let start = j * p.chunk;
  let end = min(start + p.chunk, p.m);
  var k = cursorAt(start + li);
  for (var t = start + li; t < end; t += ${config.workgroupSize}u) {
    let i = indexOf(c, k);
    let xHat = ((x[i] - shift) - shiftedMean) * invStd;
    y[i] = g * xHat + b;
    k = advance(k);
  }
}
`,
};
