import type { Shader } from '../context.js';
import { CHANNEL_PARAMS, directives, laneArgs, laneParams, WORKGROUP_NUMBER, WORKGROUP_PARAMS, workgroupSum } from '../wgsl.js';

/** `x̂` of value `i` of feature `c` from the forward's `saved` = `(shift, μ − shift, 1/√(σ²+ε), σ²)`. */
const X_HAT = 'fn xHat(i: u32, s: vec4f) -> f32 { return ((x[i] - s.x) - s.y) * s.z; }';

/** Pass 1 of 2: each workgroup sums `(Σdy, Σdy·x̂)` over its chunk of one feature. */
export const batchNormBackwardSums: Shader = {
  label: 'batchNormBackward/sums',
  source: (config) => /* wgsl */ `
${directives(config)}
${CHANNEL_PARAMS}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> saved: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> partials: array<vec2f>;
${X_HAT}
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
  let s = saved[c];
  var acc = vec2f(0.0);
  var k = cursorAt(start + li);
  for (var t = start + li; t < end; t += ${config.workgroupSize}u) {
    let i = indexOf(c, k);
    let g = dy[i];
    acc += vec2f(g, g * xHat(i, s));
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
 * Pass 2 of 2: each workgroup adds its feature's partials (same order everywhere, same bits),
 * the first one writes `dβ = Σdy` and `dγ = Σdy·x̂`, and every one sweeps its chunk:
 * `dx = γ·invStd·(dy − Σdy/m − x̂·Σ(dy·x̂)/m)`, the seed's chain rule simplified.
 */
export const batchNormBackwardApply: Shader = {
  label: 'batchNormBackward/apply',
  source: (config) => /* wgsl */ `
${directives(config)}
${CHANNEL_PARAMS}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> saved: array<vec4f>;
@group(0) @binding(5) var<storage, read> partials: array<vec2f>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
@group(0) @binding(7) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(8) var<storage, read_write> dbeta: array<f32>;
${X_HAT}
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
  if (j == 0u && li == 0u) {
    dbeta[c] = sums.x;
    dgamma[c] = sums.y;
  }
  let s = saved[c];
  let scale = gamma[c] * s.z;
  let mf = f32(p.m);
  let meanDy = sums.x / mf;
  let meanDyXHat = sums.y / mf;
  let start = j * p.chunk;
  let end = min(start + p.chunk, p.m);
  var cursor = cursorAt(start + li);
  for (var t = start + li; t < end; t += ${config.workgroupSize}u) {
    let i = indexOf(c, cursor);
    dx[i] = scale * ((dy[i] - meanDy) - xHat(i, s) * meanDyXHat);
    cursor = advance(cursor);
  }
}
`,
};
